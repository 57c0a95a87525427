/**
 * HASH(int layer) — MAPI's additive hash of the current packet: (length + Σ bytes) mod 500009
 * over the frame from a layer's start to the captured end; always passes; result: u32.
 *   0: the whole frame;  1: from the network header;  2: after the network header (IPv4 by its
 *   IHL, ARP/RARP after their 8-byte fixed part);  3: the TCP/UDP/ICMP payload of IPv4.
 * A packet without the layer (or too short for its headers) hashes to 0. fplc hashes the frame,
 * never the pcap record header (spec §7). Every load is guarded, so the step cannot fault.
 */
import { bin, c, load, seq, type Expr, type Stmt } from '../lang/ir/ir.js';
import { linkTypeInfo } from '../lang/ir/linktypes.js';
import { isInt, setS, type MapiFunctionDef } from './lib/types.js';

const MODULUS = 500009;
const NONE = 0xffffffff;   // start offset meaning "no such layer"

const caplen: Expr = { k: 'meta', m: 'caplen' };
const local = (n: number): Expr => ({ k: 'local', n });
const set = (n: number, value: Expr): Stmt => ({ k: 'setlocal', n, value });
/** `a` when the captured bytes reach `need`, else NONE. */
const ifCaptured = (need: Expr, a: Expr): Expr => ({ k: 'cond', c: bin('le', need, caplen), a, b: c(NONE) });

/** Statements that leave in `start` the offset where the layer begins, or NONE. */
function layerStart(layer: number, linkType: number, start: number, tmp: number): Stmt {
  const lt = linkTypeInfo(linkType);
  const l3 = lt?.l3 ?? 0;
  if (layer === 0) return set(start, c(0));
  if (layer === 1) return set(start, c(l3));
  // The network protocol: from the link header's ethertype, else from the IP version nibble.
  const kind: Stmt = lt?.ethertype !== undefined
    ? set(tmp, { k: 'cond', c: bin('le', c(lt.ethertype + 2), caplen), a: load(lt.ethertype, 2), b: c(0) })
    : set(tmp, { k: 'cond', c: bin('le', c(l3 + 1), caplen), a: { k: 'cond', c: bin('eq', bin('shr', load(l3, 1), c(4)), c(4)), a: c(0x0800), b: c(0) }, b: c(0) });
  const ipv4 = bin('eq', local(tmp), c(0x0800));
  const ihlEnd: Expr = bin('add', c(l3), bin('mul', bin('and', load(l3, 1), c(0xf)), c(4)));
  const afterIp = ifCaptured(c(l3 + 1), ihlEnd);
  if (layer === 2) {
    const arp = { k: 'lor', a: bin('eq', local(tmp), c(0x0806)), b: bin('eq', local(tmp), c(0x8035)) } as Expr;
    return seq(kind, set(start, { k: 'cond', c: ipv4, a: afterIp, b: { k: 'cond', c: arp, a: c(l3 + 8), b: c(NONE) } }));
  }
  // Layer 3: the transport header starts at `start`; skip it by protocol.
  const proto = ifCaptured(c(l3 + 10), load(l3 + 9, 1));
  const tcpEnd: Expr = bin('add', local(start), bin('mul', bin('shr', load(bin('add', local(start), c(12)), 1), c(4)), c(4)));
  return seq(
    kind,
    set(start, { k: 'cond', c: ipv4, a: afterIp, b: c(NONE) }),
    { k: 'if', cond: bin('ne', local(start), c(NONE)), then: seq(
      set(tmp, proto),
      set(start, {
        k: 'cond', c: bin('eq', local(tmp), c(6)), a: ifCaptured(bin('add', local(start), c(13)), tcpEnd),
        b: { k: 'cond', c: { k: 'lor', a: bin('eq', local(tmp), c(17)), b: bin('eq', local(tmp), c(1)) }, a: bin('add', local(start), c(8)), b: c(NONE) },
      }),
    ) },
  );
}

export const HASH: MapiFunctionDef<{ layer: number }> = {
  name: 'HASH',
  argdescr: 'i',
  filters: false,
  summary: 'additive hash of a layer of the packet, mod 500009 (u32)',
  instance: (args) => {
    const layer = args[0];
    if (!isInt(layer) || layer < 0 || layer > 3) {
      return { ok: false, code: 7001, message: `HASH: argument 1 (layer) must be 0, 1, 2 or 3, not ${String(layer)}` };
    }
    return { ok: true, config: { layer } };
  },
  stateWords: () => 1,
  registers: () => 1,
  lower: ({ layer }, at) => {
    const start = at.local(), tmp = at.local(), sum = at.local();
    const i = at.regBase;
    return seq(
      layerStart(layer, at.linkType, start, tmp),
      {
        k: 'if', cond: bin('le', local(start), caplen),
        then: seq(
          set(sum, bin('sub', caplen, local(start))),
          { k: 'for', reg: i, init: local(start), cmp: 'lt', limit: caplen, step: 1,
            body: set(sum, bin('add', local(sum), load({ k: 'reg', n: i }, 1))) },
          setS(at.stateBase, bin('mod', local(sum), c(MODULUS))),
        ),
        else: setS(at.stateBase, c(0)),
      },
    );
  },
  result: (_config, state) => ({ res: state[0]!, size: 4 }),
};
