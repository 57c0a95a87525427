/**
 * BUCKET(int fd, int fid, char* interval, int reset) — records another function's u64 result
 * with packet times in a ring of BUCKET_RING `{ timestamp, data }` records (spec §2.1).
 *   interval "0": a record on every packet that reaches it, `{ packet time, value }`.
 *   interval "-1": no periodic records; one record `{ last packet time, value }` when the trace
 *   ends or the flow is closed.
 *   a time string: periodic (lib/periodic.ts). When a packet ends k ≥ 1 intervals, the k − 1
 *   intervals that had no packet get empty records `{ end of that interval, 0 }`, then the value
 *   gets `{ end of the last interval, value }`, and the source is reset when reset = 1 (spec's
 *   order, with distinct times). In this mode BUCKET runs just before its source when that is in
 *   the same flow (MAPI's "move before"), so the packet that ends an interval counts in the next.
 * reset must be 0 or 1 (else 7000); a missing function → 7001; a bad interval → 7003.
 * Result `{ total, records }`: `total` records written so far, `records` the ones still in the
 * ring, oldest first (record i is number total − n + i). Reading does not consume (spec §7: no
 * reader lag). All per-packet work is in WebAssembly; the ring is in the instance's M[] cells.
 */
import { bin, c, seq, type Expr, type Stmt } from '../lang/ir/ir.js';
import { parseTimeString } from './lib/time.js';
import { PERIODIC_WORDS, periodicTick } from './lib/periodic.js';
import { const64, L, locals64, ntpFromRecord, referenceArg, setL, state64, store64, sub64, type U64 } from './lib/u64.js';
import { isInt, s, setS, type MapiFunctionDef, type MapiU64Source } from './lib/types.js';

export const BUCKET_RING = 1000;
export interface BucketRecord { timestamp: bigint; data: bigint }
export interface BucketConfig { source: MapiU64Source; mode: 'every' | 'end' | 'periodic'; interval: bigint; reset: boolean; before?: number }

// State words: records written, the last value and time seen ("-1"), then the periodic words.
const TOTAL = 0, VALUE = 1, TIME = 3, SEEN = 5, PERIOD = 6, WORDS = PERIOD + PERIODIC_WORDS;

/** IR writing record `{ts, data}` at ring position TOTAL, then counting it. */
function writeRecord(b: number, m: number, slot: number, ts: U64, data: U64): Stmt {
  const put = (w: number, v: Expr): Stmt => ({ k: 'setmem', index: bin('add', c(m + w), L(slot)), value: v });
  return seq(
    setL(slot, bin('mul', bin('mod', s(b + TOTAL), c(BUCKET_RING)), c(4))),
    put(0, ts[0]), put(1, ts[1]), put(2, data[0]), put(3, data[1]),
    setS(b + TOTAL, bin('add', s(b + TOTAL), c(1))),
  );
}

export const BUCKET: MapiFunctionDef<BucketConfig> = {
  name: 'BUCKET',
  argdescr: 'rfsi',
  filters: false,
  summary: 'a ring of { time, value } records of another function\'s u64 result: per packet, periodic or at the end',
  instance: (args, ctx) => {
    const [fd, fid, interval, reset] = args as [number, number, string, number];
    const ref = referenceArg(ctx, fd, fid, 7001, 'BUCKET', 'arguments 1-2 (function)');
    if (!ref.ok) return ref;
    if (!isInt(reset) || (reset !== 0 && reset !== 1)) return { ok: false, code: 7000, message: `BUCKET: argument 4 (reset) must be 0 or 1, not ${String(reset)}` };
    const text = interval.trim();
    if (text === '0' || text === '-1') return { ok: true, config: { source: ref.source, mode: text === '0' ? 'every' : 'end', interval: 0n, reset: reset === 1 } };
    const t = parseTimeString(text);
    if (!t || t.ticks === 0n) return { ok: false, code: 7003, message: `BUCKET: argument 3 (interval) must be "0", "-1" or a time string such as "1s", not ${JSON.stringify(interval)}` };
    return { ok: true, config: { source: ref.source, mode: 'periodic', interval: t.ticks, reset: reset === 1, before: fd === ctx.fd ? fid : undefined } };
  },
  stateWords: () => WORDS,
  registers: (config) => (config.mode === 'periodic' ? 2 : 0),
  memoryCells: () => 4096,
  moveBefore: (config) => config.before,
  lower: (config, at) => {
    const b = at.stateBase, m = at.memBase ?? 0;
    const lo = at.local(), hi = at.local(), slot = at.local(), tlo = at.local(), thi = at.local();
    const now = () => ntpFromRecord({ k: 'meta', m: 'tssec' }, { k: 'meta', m: 'tsfrac' }, at.nanoseconds ?? false, tlo, thi, at.local);
    if (config.mode === 'every') {
      return seq(config.source.read(lo, hi, at.local), now(), writeRecord(b, m, slot, locals64(tlo, thi), locals64(lo, hi)));
    }
    if (config.mode === 'end') {
      return seq(config.source.read(lo, hi, at.local), now(), store64(b + VALUE, locals64(lo, hi)), store64(b + TIME, locals64(tlo, thi)), setS(b + SEEN, c(1)));
    }
    const fired = at.local(), k = at.local(), elo = at.local(), ehi = at.local(), step = at.local(), shi = at.local();
    const reg = at.regBase + 1;
    return seq(
      periodicTick(config.interval, b + PERIOD, fired, at.regBase, at.nanoseconds ?? false, at.local),
      { k: 'if', cond: bin('ne', L(fired), c(0)), then: seq(
        config.source.read(lo, hi, at.local),
        // empty records for the k − 1 intervals without packets: ends last − (k−1)·iv … last − iv
        // (only the last BUCKET_RING of them can stay in the ring)
        setL(k, { k: 'cond', c: bin('gt', L(fired), c(BUCKET_RING + 1)), a: c(BUCKET_RING + 1), b: L(fired) }),
        { k: 'if', cond: bin('gt', L(fired), L(k)), then: setS(b + TOTAL, bin('add', s(b + TOTAL), bin('sub', L(fired), L(k)))) },
        { k: 'for', reg, init: c(1), cmp: 'lt', limit: L(k), step: 1, body: seq(
          // the empty record j (1-based) ends at last − (k − j)·interval
          setL(step, c(0)), setL(shi, c(0)),
          mulInterval(config.interval, bin('sub', L(k), { k: 'reg', n: reg }), step, shi),
          sub64(state64(b + PERIOD), locals64(step, shi), elo, ehi),
          writeRecord(b, m, slot, locals64(elo, ehi), const64(0n)),
        ) },
        writeRecord(b, m, slot, state64(b + PERIOD), locals64(lo, hi)),
        config.reset && config.source.reset ? config.source.reset(at.local) : { k: 'eval', e: c(0) },
      ) },
    );
  },
  finish: (config, state, ctx) => {
    if (config.mode !== 'end' || !state[SEEN]) return;
    const mem = ctx.memory!;
    const r = (state[TOTAL]! % BUCKET_RING) * 4;
    mem[r] = state[TIME]!; mem[r + 1] = state[TIME + 1]!; mem[r + 2] = state[VALUE]!; mem[r + 3] = state[VALUE + 1]!;
    state[TOTAL] = state[TOTAL]! + 1;
  },
  result: (_config, state, ctx) => {
    const mem = ctx.memory!;
    const total = state[TOTAL]!;
    const n = Math.min(total, BUCKET_RING);
    const records: BucketRecord[] = [];
    for (let i = total - n; i < total; i++) {
      const r = (i % BUCKET_RING) * 4;
      records.push({ timestamp: (BigInt(mem[r + 1]!) << 32n) | BigInt(mem[r]!), data: (BigInt(mem[r + 3]!) << 32n) | BigInt(mem[r + 2]!) });
    }
    return { res: { total, records }, size: 16 * n };
  },
};

/** (lo, hi) = n · interval for a u32 n ≤ BUCKET_RING + 1 and a constant u64 interval (16-bit limbs). */
function mulInterval(interval: bigint, n: Expr, lo: number, hi: number): Stmt {
  // interval = i3·2^48 + i2·2^32 + i1·2^16 + i0; n < 2^16, so each partial product fits in 32 bits
  const limb = (k: number) => Number((interval >> BigInt(16 * k)) & 0xffffn);
  const p0 = bin('mul', n, c(limb(0))), p1 = bin('mul', n, c(limb(1))), p2 = bin('mul', n, c(limb(2))), p3 = bin('mul', n, c(limb(3)));
  // lo = p0 + (p1 << 16); hi = (p1 >> 16) + p2 + (p3 << 16) + carry
  return seq(
    setL(lo, bin('add', p0, bin('shl', p1, c(16)))),
    setL(hi, bin('add', bin('add', bin('add', bin('shr', p1, c(16)), p2), bin('shl', p3, c(16))), bin('lt', L(lo), p0))),
  );
}
