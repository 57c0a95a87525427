/**
 * PROTINFO(int proto, int field) — a header field of the last IPv4 packet that carried the
 * protocol; result: u64 (0 until such a packet). Always passes. Fields are numbered as TOP's
 * (spec §2.2): proto TOPX_IP = 1, TOPX_TCP = 2, TOPX_UDP = 3;
 *   IP  1 TOS, 2 total length, 3 id, 4 fragment offset (with flags), 5 TTL, 6 protocol, 7 checksum, 8 source, 9 destination;
 *   TCP 10 source port, 11 destination port, 12 sequence, 13 acknowledgement, 14 flags, 15 window, 16 checksum, 17 urgent;
 *   UDP 18 source port, 19 destination port, 20 length, 21 checksum.
 * TCP and UDP fields come from first fragments only. A packet too short for the field leaves
 * the value unchanged (every load is guarded: the step never faults).
 */
import { bin, c, load, seq, type Expr } from '../lang/ir/ir.js';
import { linkTypeInfo } from '../lang/ir/linktypes.js';
import { isInt, setS, type MapiFunctionDef } from './lib/types.js';

export const TOPX_IP = 1;
export const TOPX_TCP = 2;
export const TOPX_UDP = 3;

/** Field number → [protocol, offset in its header, size]. */
export const FIELDS: Record<number, [number, number, 1 | 2 | 4]> = {
  1: [TOPX_IP, 1, 1], 2: [TOPX_IP, 2, 2], 3: [TOPX_IP, 4, 2], 4: [TOPX_IP, 6, 2], 5: [TOPX_IP, 8, 1],
  6: [TOPX_IP, 9, 1], 7: [TOPX_IP, 10, 2], 8: [TOPX_IP, 12, 4], 9: [TOPX_IP, 16, 4],
  10: [TOPX_TCP, 0, 2], 11: [TOPX_TCP, 2, 2], 12: [TOPX_TCP, 4, 4], 13: [TOPX_TCP, 8, 4], 14: [TOPX_TCP, 13, 1],
  15: [TOPX_TCP, 14, 2], 16: [TOPX_TCP, 16, 2], 17: [TOPX_TCP, 18, 2],
  18: [TOPX_UDP, 0, 2], 19: [TOPX_UDP, 2, 2], 20: [TOPX_UDP, 4, 2], 21: [TOPX_UDP, 6, 2],
};

export interface ProtinfoConfig { proto: number; field: number }

const caplen: Expr = { k: 'meta', m: 'caplen' };
const captured = (end: Expr): Expr => bin('le', end, caplen);
const L = (n: number): Expr => ({ k: 'local', n });

/** An expression that is 1 for an IPv4 packet (guarded loads only). */
export function isIpv4(linkType: number): Expr {
  const lt = linkTypeInfo(linkType);
  const l3 = lt?.l3 ?? 0;
  const version4: Expr = { k: 'land', a: captured(c(l3 + 1)), b: bin('eq', bin('shr', load(l3, 1), c(4)), c(4)) };
  if (lt?.ethertype === undefined) return version4;
  return { k: 'land', a: { k: 'land', a: captured(c(lt.ethertype + 2)), b: bin('eq', load(lt.ethertype, 2), c(0x0800)) }, b: version4 };
}

export const PROTINFO: MapiFunctionDef<ProtinfoConfig> = {
  name: 'PROTINFO',
  argdescr: 'ii',
  filters: false,
  library: 'fplcflib',
  summary: 'an IPv4, TCP or UDP header field of the last packet that had it (u64)',
  instance: (args) => {
    const [proto, field] = args;
    if (!isInt(proto) || proto < TOPX_IP || proto > TOPX_UDP) {
      return { ok: false, code: 7001, message: `PROTINFO: argument 1 (proto) must be TOPX_IP (1), TOPX_TCP (2) or TOPX_UDP (3), not ${String(proto)}` };
    }
    const f = isInt(field) ? FIELDS[field] : undefined;
    if (!f || f[0] !== proto) {
      return { ok: false, code: 7002, message: `PROTINFO: argument 2 (field) ${String(field)} is not a field of protocol ${proto} (IP 1-9, TCP 10-17, UDP 18-21)` };
    }
    return { ok: true, config: { proto, field: field as number } };
  },
  stateWords: () => 1,
  lower: ({ proto, field }, at) => {
    const [, off, size] = FIELDS[field]!;
    const l3 = linkTypeInfo(at.linkType)?.l3 ?? 0;
    const ip = isIpv4(at.linkType);
    if (proto === TOPX_IP) {
      return { k: 'if', cond: { k: 'land', a: ip, b: captured(c(l3 + off + size)) }, then: setS(at.stateBase, load(l3 + off, size)) };
    }
    const l4 = at.local();
    const want = proto === TOPX_TCP ? 6 : 17;
    return {
      k: 'if',
      cond: { k: 'land', a: ip, b: { k: 'land', a: captured(c(l3 + 20)), b: { k: 'land',
        a: bin('eq', load(l3 + 9, 1), c(want)), b: bin('eq', bin('and', load(l3 + 6, 2), c(0x1fff)), c(0)) } } },
      then: seq(
        { k: 'setlocal', n: l4, value: bin('add', c(l3), bin('mul', bin('and', load(l3, 1), c(0xf)), c(4))) },
        { k: 'if', cond: captured(bin('add', L(l4), c(off + size))), then: setS(at.stateBase, load(bin('add', L(l4), c(off)), size)) },
      ),
    };
  },
  result: (_config, state) => ({ res: BigInt(state[0]!), size: 8 }),
  value64: (_config, at, lo, hi) => seq({ k: 'setlocal', n: lo, value: { k: 'state', i: at.stateBase } }, { k: 'setlocal', n: hi, value: c(0) }),
};
