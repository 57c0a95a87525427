/**
 * THRESHOLD(int type, int fd, int fid, int boundary, unsigned long long threshold, int timeout,
 * int divider, int count) "irfiliii" — raises an event when another function's u64 result
 * crosses a bound (spec §2.1). MAPI's descriptor had a ninth argument that its two hooks read at
 * different offsets (an upstream bug); fplc takes these eight, in the documented order (spec §7).
 *   type: TYPE_CHAR (0), TYPE_INT (1) or TYPE_UNSIGNED_LONG_LONG (2): the value is taken as its
 *   low 8, 32 or 64 bits. TR_POLL (64) and TR_MW (128) are not supported (→ 7001).
 *   boundary: EQUAL_BOUND (0) value = threshold, GT_BOUND (1) value > threshold, LT_BOUND (2)
 *   value < threshold; EQUAL_D_BOUND (4), GT_D_BOUND (8), LT_D_BOUND (16) compare instead the
 *   difference from the value at the previous packet (value − previous, mod 2^64; none at the
 *   first packet). Comparisons are unsigned.
 *   timeout: after an event, none for this many milliseconds of packet time (0: no pause).
 *   divider: the value (or difference) is divided by it before comparing (≥ 1).
 *   count: stop after this many events (0: no limit).
 * The check runs in WebAssembly for every packet that reaches it; JavaScript runs only at an
 * event. Always passes. Result: `{ events, last, next() }` — the number of events, the last
 * `{ timestamp (32.32), value }` (or null), and `next()`, a promise of the next event not yet
 * returned by `next()` that waits for one and resolves null once the trace has ended without it
 * (MAPI's blocking read, as a promise).
 * Errors: bad type → 7001; a missing function → 7002 (argument 2, the fd); bad boundary → 7004;
 * negative timeout → 7011 (argument 6); divider < 1 or negative count → 7000 (arguments 7, 8).
 */
import { bin, c, seq, type Expr, type Stmt } from '../lang/ir/ir.js';
import { const64, divU64, eq64, L, locals64, lt64, ntpFromRecord, referenceArg, setL, state64, store64, sub64, add64, type U64 } from './lib/u64.js';
import { argError, isInt, s, setS, type MapiFunctionDef, type MapiU64Source } from './lib/types.js';

export const TYPE_CHAR = 0, TYPE_INT = 1, TYPE_UNSIGNED_LONG_LONG = 2, TR_POLL = 64, TR_MW = 128;
export const EQUAL_BOUND = 0, GT_BOUND = 1, LT_BOUND = 2, EQUAL_D_BOUND = 4, GT_D_BOUND = 8, LT_D_BOUND = 16;
/** Events kept for `next()` that it has not returned yet (older ones are dropped). */
/** No more events: waiting readers get null. */
function endEvents(config: ThresholdConfig): void {
  config.ended = true;
  while (config.waiters.length) config.waiters.shift()!(null);
}

export const THRESHOLD_QUEUE = 1024;

export interface ThresholdEvent { timestamp: bigint; value: bigint }
export interface ThresholdResult { events: number; last: ThresholdEvent | null; next(): Promise<ThresholdEvent | null> }

export interface ThresholdConfig {
  source: MapiU64Source; bits: 8 | 32 | 64; boundary: number; threshold: bigint; timeoutTicks: bigint; divider: number; count: number;
  /** Events not yet returned by next(), and the waiters of next(). */
  queue: ThresholdEvent[]; waiters: ((e: ThresholdEvent | null) => void)[]; ended: boolean; last: ThresholdEvent | null;
}

// State words: events, previous value (u64) and whether there is one, end of the pause (u64) and whether one runs.
const EVENTS = 0, PREV = 1, HAVE_PREV = 3, PAUSE_END = 4, PAUSED = 6, WORDS = 7;
const BOUNDS = [EQUAL_BOUND, GT_BOUND, LT_BOUND, EQUAL_D_BOUND, GT_D_BOUND, LT_D_BOUND];

function deliver(config: ThresholdConfig, e: ThresholdEvent | null): void {
  if (e) config.last = e;
  const w = config.waiters.shift();
  if (w) { w(e); return; }
  if (e) {
    config.queue.push(e);
    if (config.queue.length > THRESHOLD_QUEUE) config.queue.shift();
  }
}

export const THRESHOLD: MapiFunctionDef<ThresholdConfig> = {
  name: 'THRESHOLD',
  argdescr: 'irfiliii',
  filters: false,
  summary: 'an event when another function\'s u64 result (or its change) crosses a bound',
  instance: (args, ctx) => {
    const [type, fd, fid, boundary, threshold, timeout, divider, count] = args as [number, number, number, number, number | bigint, number, number, number];
    if (!isInt(type) || ![TYPE_CHAR, TYPE_INT, TYPE_UNSIGNED_LONG_LONG].includes(type)) {
      return argError(1, 'THRESHOLD', `(type) must be TYPE_CHAR (0), TYPE_INT (1) or TYPE_UNSIGNED_LONG_LONG (2) (TR_POLL and TR_MW are not supported), not ${String(type)}`);
    }
    const ref = referenceArg(ctx, fd, fid, 7002, 'THRESHOLD', 'arguments 2-3 (function)');
    if (!ref.ok) return ref;
    if (!BOUNDS.includes(boundary)) return argError(4, 'THRESHOLD', `(boundary) must be EQUAL_BOUND (0), GT_BOUND (1), LT_BOUND (2), EQUAL_D_BOUND (4), GT_D_BOUND (8) or LT_D_BOUND (16), not ${String(boundary)}`);
    if (timeout < 0) return argError(6, 'THRESHOLD', `(timeout, ms) must be ≥ 0, not ${timeout}`);
    if (divider < 1) return argError(7, 'THRESHOLD', `(divider) must be ≥ 1, not ${divider}`);
    if (count < 0) return argError(8, 'THRESHOLD', `(count) must be ≥ 0 (0: no limit), not ${count}`);
    return { ok: true, config: {
      source: ref.source, bits: type === TYPE_CHAR ? 8 : type === TYPE_INT ? 32 : 64, boundary, threshold: BigInt(threshold),
      timeoutTicks: (BigInt(timeout) << 32n) / 1000n, divider, count, queue: [], waiters: [], ended: false, last: null,
    } };
  },
  stateWords: () => WORDS,
  registers: () => 1,
  lower: (config, at) => {
    const b = at.stateBase;
    const lo = at.local(), hi = at.local(), dlo = at.local(), dhi = at.local(), qlo = at.local(), qhi = at.local();
    const tlo = at.local(), thi = at.local(), hit = at.local(), plo = at.local(), phi = at.local();
    const delta = config.boundary >= EQUAL_D_BOUND;
    const masked: Stmt = config.bits === 64 ? { k: 'eval', e: c(0) }
      : seq(setL(hi, c(0)), ...(config.bits === 8 ? [setL(lo, bin('and', L(lo), c(0xff)))] : []));
    // the compared quantity in (dlo, dhi)
    const quantity: Stmt = delta ? sub64(locals64(lo, hi), state64(b + PREV), dlo, dhi) : seq(setL(dlo, L(lo)), setL(dhi, L(hi)));
    const divided: Stmt = config.divider > 1
      ? seq(divU64(locals64(dlo, dhi), const64(BigInt(config.divider)), qlo, qhi, at.regBase, at.local), setL(dlo, L(qlo)), setL(dhi, L(qhi)))
      : { k: 'eval', e: c(0) };
    const q: U64 = locals64(dlo, dhi), t = const64(config.threshold);
    const kind = delta ? config.boundary / 4 : config.boundary;   // 1 equal, 2 greater, 4 less (delta); 0, 1, 2 otherwise
    const test: Expr = (delta ? kind === 1 : kind === EQUAL_BOUND) ? eq64(q, t) : (delta ? kind === 2 : kind === GT_BOUND) ? lt64(t, q) : lt64(q, t);
    const eligible: Expr[] = [];
    if (delta) eligible.push(bin('ne', s(b + HAVE_PREV), c(0)));
    if (config.count > 0) eligible.push(bin('lt', s(b + EVENTS), c(config.count)));
    const ts: U64 = locals64(tlo, thi);
    if (config.timeoutTicks > 0n) eligible.push({ k: 'lor', a: bin('eq', s(b + PAUSED), c(0)), b: { k: 'lnot', a: lt64(ts, state64(b + PAUSE_END)) } });
    const all = eligible.reduce<Expr>((x, y) => ({ k: 'land', a: x, b: y }), c(1));
    const fire = at.externCall('THRESHOLD', (_x, a) => {
      deliver(config, { timestamp: (BigInt(a[1]!) << 32n) | BigInt(a[0]!), value: (BigInt(a[3]!) << 32n) | BigInt(a[2]!) });
      return 0;
    }, [L(tlo), L(thi), L(lo), L(hi)]);
    return seq(
      config.source.read(lo, hi, at.local), masked,
      ntpFromRecord({ k: 'meta', m: 'tssec' }, { k: 'meta', m: 'tsfrac' }, at.nanoseconds ?? false, tlo, thi, at.local),
      setL(hit, c(0)),
      { k: 'if', cond: all, then: seq(quantity, divided, setL(hit, test)) },
      { k: 'if', cond: L(hit), then: seq(
        setS(b + EVENTS, bin('add', s(b + EVENTS), c(1))),
        { k: 'eval', e: fire },
        ...(config.timeoutTicks > 0n ? [add64(ts, const64(config.timeoutTicks), plo, phi), store64(b + PAUSE_END, locals64(plo, phi)), setS(b + PAUSED, c(1))] : []),
      ) },
      store64(b + PREV, locals64(lo, hi)), setS(b + HAVE_PREV, c(1)),
    );
  },
  finish: (config) => endEvents(config),
  cleanup: (config) => endEvents(config),
  result: (config, state) => {
    const res: ThresholdResult = {
      events: state[EVENTS]!,
      last: config.last,
      next: () => {
        const e = config.queue.shift();
        if (e) return Promise.resolve(e);
        if (config.ended) return Promise.resolve(null);
        return new Promise((resolve) => config.waiters.push(resolve));
      },
    };
    return { res, size: 4 };
  },
};
