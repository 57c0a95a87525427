/**
 * HASHSAMP(int range, int keep) — flow sampling by a hash of the 5-tuple (spec §2.1). Only IPv4
 * TCP and UDP packets pass (on Ethernet the ethertype must be exactly 0x0800: no VLAN); of
 * those, a packet passes when `jhash_3words(saddr, daddr ^ proto, sport | dport << 16,
 * 6564987) mod 1024 < range`, so every packet of a flow (one direction) is sampled or none is.
 * The addresses and ports are their network-order bytes read as little-endian integers, and the
 * hash is Linux's (lookup2) jhash computed as MAPI did, in signed 32-bit arithmetic: its right
 * shifts are arithmetic. The bucket is the hash's value mod 1024 in 0..1023 (range 1024 passes
 * every TCP/UDP packet); MAPI's C `%` of a negative int gave a negative bucket that always
 * passed, which is not reproduced. range outside 1..1024 → 7001.
 *
 * keep ≠ 0 keeps the last HASHSAMP_RING passed packets' `{ src_ip, dst_ip, sport, dport, seq,
 * flags, proto, ts }` (ports in host order, seq the TCP sequence number or 0, flags SYN=1 ACK=2
 * RST=4 FIN=8 PSH=16, ts 32.32). Result (keep ≠ 0): `{ total, samples }`, `total` the packets kept
 * so far, `samples` the ones still in the ring, oldest first (sample i is number total − n + i).
 * All in WebAssembly; the ring is in the instance's M[] cells.
 */
import { bin, c, load, seq, type Expr, type Stmt } from '../lang/ir/ir.js';
import { linkTypeInfo } from '../lang/ir/linktypes.js';
import { L, ntpFromRecord, setL } from './lib/u64.js';
import { isInt, s, setS, type MapiFunctionDef } from './lib/types.js';

export const HASHSAMP_RING = 40;
export const HASHSAMP_INITVAL = 6564987;
const GOLDEN = 0x9e3779b9;
const RECORD = 9;   // words per kept sample

export interface HashsampConfig { range: number; keep: boolean }
export interface HashSample { src_ip: string; dst_ip: string; sport: number; dport: number; seq: number; flags: number; proto: number; ts: bigint }

/** x >> n with the sign bit copied in (C's >> on a negative int). */
const sar = (x: Expr, n: number): Expr => bin('or', bin('shr', x, c(n)), bin('shl', bin('sub', c(0), bin('shr', x, c(31))), c(32 - n)));

/** Linux's lookup2 jhash_3words(a, b, z, HASHSAMP_INITVAL) over locals a, b, z, with arithmetic right shifts; z ends holding the hash. */
function jhashIr(a: number, b: number, z: number): Stmt {
  const mix = (p: number, q: number, r: number, shift: number, left: boolean): Stmt =>
    setL(p, bin('xor', bin('sub', bin('sub', L(p), L(q)), L(r)), left ? bin('shl', L(r), c(shift)) : sar(L(r), shift)));
  return seq(
    setL(a, bin('add', L(a), c(GOLDEN))), setL(b, bin('add', L(b), c(GOLDEN))), setL(z, bin('add', L(z), c(HASHSAMP_INITVAL))),
    mix(a, b, z, 13, false), mix(b, z, a, 8, true), mix(z, a, b, 13, false),
    mix(a, b, z, 12, false), mix(b, z, a, 16, true), mix(z, a, b, 5, false),
    mix(a, b, z, 3, false), mix(b, z, a, 10, true), mix(z, a, b, 15, false),
  );
}

const caplen: Expr = { k: 'meta', m: 'caplen' };
const captured = (end: Expr): Expr => bin('le', end, caplen);
/** Four bytes at `off` read as a little-endian u32 (MAPI read network-order bytes on x86). */
const le32 = (off: Expr): Expr => bin('or', bin('or', load(off, 1), bin('shl', load(bin('add', off, c(1)), 1), c(8))),
  bin('or', bin('shl', load(bin('add', off, c(2)), 1), c(16)), bin('shl', load(bin('add', off, c(3)), 1), c(24))));
const le16 = (off: Expr): Expr => bin('or', load(off, 1), bin('shl', load(bin('add', off, c(1)), 1), c(8)));

export const HASHSAMP: MapiFunctionDef<HashsampConfig> = {
  name: 'HASHSAMP',
  argdescr: 'ii',
  filters: true,
  summary: 'passes the IPv4 TCP/UDP flows whose 5-tuple hash mod 1024 is below range',
  instance: (args) => {
    const [range, keep] = args;
    if (!isInt(range) || range < 1 || range > 1024) return { ok: false, code: 7001, message: `HASHSAMP: argument 1 (range) must be 1..1024, not ${String(range)}` };
    return { ok: true, config: { range, keep: keep !== 0 } };
  },
  stateWords: () => 1,
  memoryCells: (config) => (config.keep ? 512 : 0),
  lower: (config, at) => {
    const lt = linkTypeInfo(at.linkType);
    const l3 = lt?.l3 ?? 0;
    const ip = c(l3);
    const l4 = at.local(), proto = at.local(), a = at.local(), b = at.local(), z = at.local();
    const isIpv4: Expr = lt?.ethertype !== undefined
      ? { k: 'land', a: captured(c(lt.ethertype + 2)), b: bin('eq', load(lt.ethertype, 2), c(0x0800)) }
      : c(1);
    const wanted: Expr = {
      k: 'land', a: isIpv4, b: { k: 'land', a: captured(c(l3 + 20)), b: { k: 'land',
        a: bin('eq', bin('shr', load(ip, 1), c(4)), c(4)),
        b: { k: 'lor', a: bin('eq', load(c(l3 + 9), 1), c(6)), b: bin('eq', load(c(l3 + 9), 1), c(17)) } } },
    };
    const steps: Stmt[] = [
      { k: 'if', cond: { k: 'lnot', a: wanted }, then: at.exitFlow },
      setL(proto, load(c(l3 + 9), 1)),
      setL(l4, bin('add', c(l3), bin('mul', bin('and', load(ip, 1), c(0xf)), c(4)))),
      { k: 'if', cond: { k: 'lnot', a: captured(bin('add', L(l4), c(4))) }, then: at.exitFlow },
      setL(a, le32(c(l3 + 12))),
      setL(b, bin('xor', le32(c(l3 + 16)), L(proto))),
      setL(z, bin('or', le16(L(l4)), bin('shl', le16(bin('add', L(l4), c(2))), c(16)))),
      jhashIr(a, b, z),
      { k: 'if', cond: bin('ge', bin('and', L(z), c(1023)), c(config.range)), then: at.exitFlow },
    ];
    if (config.keep) {
      const m = at.memBase ?? 0;
      const slot = at.local(), tlo = at.local(), thi = at.local(), flags = at.local(), tcpf = at.local(), sq = at.local();
      const put = (word: number, value: Expr): Stmt => ({ k: 'setmem', index: bin('add', c(m + word), L(slot)), value });
      const isTcp = bin('eq', L(proto), c(6));
      steps.push(
        setL(slot, bin('mul', bin('mod', s(at.stateBase), c(HASHSAMP_RING)), c(RECORD))),
        setL(sq, c(0)), setL(tcpf, c(0)),
        { k: 'if', cond: { k: 'land', a: isTcp, b: captured(bin('add', L(l4), c(14))) }, then: seq(
          setL(sq, load(bin('add', L(l4), c(4)), 4)), setL(tcpf, load(bin('add', L(l4), c(13)), 1))) },
        // TCP FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 → SYN=1 ACK=2 RST=4 FIN=8 PSH=16
        setL(flags, bin('or', bin('or', bin('shr', bin('and', L(tcpf), c(2)), c(1)), bin('shr', bin('and', L(tcpf), c(0x10)), c(3))),
          bin('or', bin('and', L(tcpf), c(4)), bin('or', bin('shl', bin('and', L(tcpf), c(1)), c(3)), bin('shl', bin('and', L(tcpf), c(8)), c(1)))))),
        ntpFromRecord({ k: 'meta', m: 'tssec' }, { k: 'meta', m: 'tsfrac' }, at.nanoseconds ?? false, tlo, thi, at.local),
        put(0, load(c(l3 + 12), 4)), put(1, load(c(l3 + 16), 4)), put(2, load(L(l4), 2)), put(3, load(bin('add', L(l4), c(2)), 2)),
        put(4, L(sq)), put(5, L(flags)), put(6, L(proto)), put(7, L(tlo)), put(8, L(thi)),
        setS(at.stateBase, bin('add', s(at.stateBase), c(1))),
      );
    }
    return seq(...steps);
  },
  result: (config, state, ctx) => {
    if (!config.keep) return { res: null, size: 0 };
    const mem = ctx.memory!;
    const total = state[0]!;
    const n = Math.min(total, HASHSAMP_RING);
    const dotted = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
    const samples: HashSample[] = [];
    for (let i = total - n; i < total; i++) {
      const r = (i % HASHSAMP_RING) * RECORD;
      samples.push({
        src_ip: dotted(mem[r]!), dst_ip: dotted(mem[r + 1]!), sport: mem[r + 2]!, dport: mem[r + 3]!, seq: mem[r + 4]!,
        flags: mem[r + 5]!, proto: mem[r + 6]!, ts: (BigInt(mem[r + 8]!) << 32n) | BigInt(mem[r + 7]!),
      });
    }
    return { res: { total, samples }, size: 40 * n };
  },
};
