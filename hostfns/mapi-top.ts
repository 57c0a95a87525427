/**
 * TOP(int X, int proto, int field, int sortby, int reset_secs) — extraflib's top-X table (spec
 * §2.2): the X most frequent values of one IPv4, TCP or UDP header field, by packets
 * (SORT_BY_PACKETS = 1, the default for any other sortby) or by bytes (SORT_BY_BYTES = 2).
 * Always passes.
 *
 * Arguments: X > 1000 → 7001 (X < 1 becomes 1); proto TOPX_IP (1), TOPX_TCP (2) or TOPX_UDP (3)
 * (TOPX_ICMP = 4 and others → 7002); a field that is not one of the protocol's → 7003
 * (IP 1–9, TCP 10–17, UDP 18–21, numbered as PROTINFO's); reset_secs > 0 empties the table when a
 * packet comes reset_secs seconds or more after the last reset (or the first packet).
 *
 * Parsing: on Ethernet one VLAN tag (0x8100) and one MPLS label (0x8847) are skipped; the IP
 * version nibble must be 4 (the ethertype is not checked, as MAPI); non-first fragments are
 * skipped; a TCP/UDP field needs that protocol. Bytes counted = wire length − link header
 * length (VLAN and MPLS included). IPv6 packets are not counted (yet).
 *
 * Ranking (MAPI's): a new value is appended at the tail; a value whose count grows moves ahead
 * only of entries with a strictly smaller count (or byte count), so ties keep first-seen order.
 *
 * All of it runs in WebAssembly: an open-addressed hash table of TOP_TABLE_ENTRIES values in the
 * instance's M[] cells plus the ranking list (a permutation of the table). A value first seen
 * when the table is full is not counted; `dropped` in the state counts those packets.
 *
 * Result (JS shape): `TopEntry[]`, best first, at most X entries:
 *   `{ value, addr?, family, count, bytecount, last_rst_secs }` — value the field (u32, as read
 *   in network order), addr the dotted quad for IP_SRCIP/IP_DSTIP, family AF_INET (2), count
 *   packets, bytecount bytes (bigint), last_rst_secs the packet second of the last reset (or of
 *   the first packet). size = 4 + 48·n, MAPI's `u32 n` + n × `struct topx_result`.
 */
import { bin, c, load, seq, type Expr, type Stmt } from '../lang/ir/ir.js';
import { linkTypeInfo } from '../lang/ir/linktypes.js';
import { FIELDS, TOPX_IP, TOPX_TCP, TOPX_UDP } from './mapi-protinfo.js';
import { add64 as add64To, L, lt64, setL } from './lib/u64.js';
import { isInt, s, setS, type MapiFunctionDef } from './lib/types.js';

export const TOPX_ICMP = 4;
export const TOPX_IP_TOS = 1, TOPX_IP_LENGTH = 2, TOPX_IP_ID = 3, TOPX_IP_OFFSET = 4, TOPX_IP_TTL = 5,
  TOPX_IP_PROTOCOL = 6, TOPX_IP_CHECKSUM = 7, TOPX_IP_SRCIP = 8, TOPX_IP_DSTIP = 9;
export const TOPX_TCP_SRCPORT = 10, TOPX_TCP_DSTPORT = 11, TOPX_TCP_SEQ = 12, TOPX_TCP_ACK = 13, TOPX_TCP_FLAGS = 14,
  TOPX_TCP_WIN = 15, TOPX_TCP_CHECKSUM = 16, TOPX_TCP_URGENT = 17;
export const TOPX_UDP_SRCPORT = 18, TOPX_UDP_DSTPORT = 19, TOPX_UDP_LENGTH = 20, TOPX_UDP_CHECKSUM = 21;
export const SORT_BY_PACKETS = 1, SORT_BY_BYTES = 2;
export const TOP_MAX_X = 1000;
/** Distinct values a TOP instance tracks between resets. */
export const TOP_TABLE_ENTRIES = 2048;
export const AF_INET = 2;

export interface TopConfig { x: number; proto: number; field: number; sortby: number; resetSecs: number }
export interface TopEntry { value: number; addr?: string; family: number; count: number; bytecount: bigint; last_rst_secs: number }

const E = TOP_TABLE_ENTRIES;
// M[] regions, E cells each: the value, its packets (0 = free slot), its bytes (two words), its
// place in the ranking, and the ranking (slot numbers, best first).
const KEY = 0, COUNT = E, BLO = 2 * E, BHI = 3 * E, POS = 4 * E, ORDER = 5 * E, CELLS = 8 * E;
// State words.
const N = 0, STARTED = 1, LAST_RST = 2, DROPPED = 3, WORDS = 4;

const caplen: Expr = { k: 'meta', m: 'caplen' };
const wirelen: Expr = { k: 'meta', m: 'wirelen' };
const captured = (end: Expr): Expr => bin('le', end, caplen);
const and = (a: Expr, b: Expr): Expr => ({ k: 'land', a, b });

export const TOP: MapiFunctionDef<TopConfig> = {
  name: 'TOP',
  argdescr: 'iiiii',
  filters: false,
  library: 'extraflib',
  summary: 'the X most frequent values of an IPv4/TCP/UDP header field, by packets or bytes',
  instance: (args) => {
    const [x, proto, field, sortby, reset] = args;
    if (!isInt(x) || x > TOP_MAX_X) return { ok: false, code: 7001, message: `TOP: argument 1 (X) must be at most ${TOP_MAX_X}, not ${String(x)}` };
    if (!isInt(proto) || (proto !== TOPX_IP && proto !== TOPX_TCP && proto !== TOPX_UDP)) {
      return { ok: false, code: 7002, message: `TOP: argument 2 (proto) must be TOPX_IP (1), TOPX_TCP (2) or TOPX_UDP (3), not ${String(proto)}` };
    }
    const f = isInt(field) ? FIELDS[field] : undefined;
    if (!f || f[0] !== proto) return { ok: false, code: 7003, message: `TOP: argument 3 (field) ${String(field)} is not a field of protocol ${proto} (IP 1-9, TCP 10-17, UDP 18-21)` };
    if (!isInt(reset)) return { ok: false, code: 7005, message: `TOP: argument 5 (reset_secs) must be an integer, not ${String(reset)}` };
    return { ok: true, config: { x: Math.max(1, x | 0), proto, field: field as number, sortby: sortby === SORT_BY_BYTES ? SORT_BY_BYTES : SORT_BY_PACKETS, resetSecs: reset | 0 } };
  },
  stateWords: () => WORDS,
  registers: () => 1,
  memoryCells: () => CELLS,
  lower: (config, at) => {
    const b = at.stateBase, m = at.memBase ?? 0, reg = at.regBase;
    const M = (region: number, i: Expr): Expr => ({ k: 'mem', index: bin('add', c(m + region), i) });
    const setM = (region: number, i: Expr, value: Expr): Stmt => ({ k: 'setmem', index: bin('add', c(m + region), i), value });
    const ip = at.local(), et = at.local(), ok = at.local(), v = at.local(), slot = at.local(), found = at.local();
    const p = at.local(), q = at.local(), len = at.local(), lo = at.local(), hi = at.local(), l4 = at.local();
    const R: Expr = { k: 'reg', n: reg };
    const tssec: Expr = { k: 'meta', m: 'tssec' };

    const clearTable: Stmt = seq(
      { k: 'for', reg, init: c(0), cmp: 'lt', limit: c(E), step: 1, body: setM(COUNT, R, c(0)) },
      setS(b + N, c(0)), setS(b + LAST_RST, tssec));
    const resetDue: Expr = and(bin('ge', tssec, s(b + LAST_RST)), bin('ge', bin('sub', tssec, s(b + LAST_RST)), c(config.resetSecs)));
    const resetStep: Stmt = {
      k: 'if', cond: bin('eq', s(b + STARTED), c(0)), then: seq(setS(b + STARTED, c(1)), setS(b + LAST_RST, tssec)),
      ...(config.resetSecs > 0 ? { else: { k: 'if', cond: resetDue, then: clearTable } } : {}),
    };

    // ip = the IPv4 header's offset, ok = 1 when the packet has the field (every load guarded).
    const lt = linkTypeInfo(at.linkType);
    const parse: Stmt[] = [setL(ip, c(lt?.l3 ?? 0)), setL(ok, c(1))];
    if (at.linkType === 1) {
      parse.push(
        setL(et, { k: 'cond', c: captured(c(14)), a: load(12, 2), b: c(0) }),
        { k: 'if', cond: and(bin('eq', L(et), c(0x8100)), captured(c(18))), then: seq(setL(ip, c(18)), setL(et, load(16, 2))) },
        { k: 'if', cond: bin('eq', L(et), c(0x8847)), then: setL(ip, bin('add', L(ip), c(4))) },
      );
    }
    const [, off, size] = FIELDS[config.field]!;
    parse.push(
      setL(ok, and(captured(bin('add', L(ip), c(20))), and(
        bin('eq', bin('shr', load(L(ip), 1), c(4)), c(4)),
        bin('eq', bin('and', load(bin('add', L(ip), c(6)), 2), c(0x1fff)), c(0))))),
    );
    if (config.proto === TOPX_IP) {
      parse.push({ k: 'if', cond: L(ok), then: setL(v, load(bin('add', L(ip), c(off)), size)) });
    } else {
      const want = config.proto === TOPX_TCP ? 6 : 17;
      parse.push({ k: 'if', cond: L(ok), then: seq(
        setL(l4, bin('add', L(ip), bin('mul', bin('and', load(L(ip), 1), c(0xf)), c(4)))),
        setL(ok, and(bin('eq', load(bin('add', L(ip), c(9)), 1), c(want)), captured(bin('add', L(l4), c(off + size))))),
        { k: 'if', cond: L(ok), then: setL(v, load(bin('add', L(l4), c(off)), size)) },
      ) });
    }

    // Find the value's slot (or a free one) by linear probing from a multiplicative hash.
    const lookup: Stmt = seq(
      setL(found, c(0)),
      { k: 'for', reg, init: c(0), cmp: 'lt', limit: c(E), step: 1, body: seq(
        setL(slot, bin('and', bin('add', bin('shr', bin('mul', L(v), c(0x9e3779b1)), c(32 - Math.log2(E))), R), c(E - 1))),
        { k: 'if', cond: bin('eq', M(COUNT, L(slot)), c(0)), then: seq(
          setM(KEY, L(slot), L(v)), setM(BLO, L(slot), c(0)), setM(BHI, L(slot), c(0)),
          setM(POS, L(slot), s(b + N)), setM(ORDER, s(b + N), L(slot)), setS(b + N, bin('add', s(b + N), c(1))),
          setL(found, c(1)), { k: 'break' }) },
        { k: 'if', cond: bin('eq', M(KEY, L(slot)), L(v)), then: seq(setL(found, c(1)), { k: 'break' }) },
      ) },
    );

    const better = (x: Expr, y: Expr): Expr => config.sortby === SORT_BY_BYTES
      ? lt64([M(BLO, y), M(BHI, y)], [M(BLO, x), M(BHI, x)])
      : bin('lt', M(COUNT, y), M(COUNT, x));
    const update: Stmt = seq(
      setM(COUNT, L(slot), bin('add', M(COUNT, L(slot)), c(1))),
      setL(len, { k: 'cond', c: bin('ge', wirelen, L(ip)), a: bin('sub', wirelen, L(ip)), b: c(0) }),
      add64To([M(BLO, L(slot)), M(BHI, L(slot))], [L(len), c(0)], lo, hi),
      setM(BLO, L(slot), L(lo)), setM(BHI, L(slot), L(hi)),
      // move ahead of the entries with a strictly smaller count
      setL(p, M(POS, L(slot))),
      { k: 'for', reg, init: c(0), cmp: 'lt', limit: c(E), step: 1, body: seq(
        { k: 'if', cond: bin('eq', L(p), c(0)), then: { k: 'break' } },
        setL(q, M(ORDER, bin('sub', L(p), c(1)))),
        { k: 'if', cond: { k: 'lnot', a: better(L(slot), L(q)) }, then: { k: 'break' } },
        setM(ORDER, L(p), L(q)), setM(POS, L(q), L(p)),
        setL(p, bin('sub', L(p), c(1))),
      ) },
      setM(ORDER, L(p), L(slot)), setM(POS, L(slot), L(p)),
    );

    return seq(
      resetStep,
      ...parse,
      { k: 'if', cond: L(ok), then: seq(
        lookup,
        { k: 'if', cond: L(found), then: update, else: setS(b + DROPPED, bin('add', s(b + DROPPED), c(1))) },
      ) },
    );
  },
  result: (config, state, ctx) => {
    const mem = ctx.memory!;
    const n = Math.min(state[N]!, config.x);
    const res: TopEntry[] = [];
    const isAddr = config.field === TOPX_IP_SRCIP || config.field === TOPX_IP_DSTIP;
    for (let r = 0; r < n; r++) {
      const slot = mem[ORDER + r]!;
      const value = mem[KEY + slot]!;
      const e: TopEntry = {
        value, family: AF_INET, count: mem[COUNT + slot]!,
        bytecount: (BigInt(mem[BHI + slot]!) << 32n) | BigInt(mem[BLO + slot]!), last_rst_secs: state[LAST_RST]!,
      };
      if (isAddr) e.addr = [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
      res.push(e);
    }
    return { res, size: 4 + 48 * n };
  },
};

/** Packets whose value was not counted because the table was full (for tests and diagnostics). */
export const topDropped = (state: Uint32Array): number => state[DROPPED]!;
