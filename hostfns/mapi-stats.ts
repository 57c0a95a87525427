/**
 * STATS(int fd, int fid, char* ticks) — statistics of another function's u64 result: count,
 * sum, sum of squares, max and min of the values sampled; result:
 * `{ count, sum, sum2, max, min }` (bigints; MAPI's sums were long doubles, these are exact:
 * sum in 96 bits, sum2 in 160 bits, both wrap only beyond that).
 *   ticks "0": sample every packet; "1": every packet but the first; a time string: every
 *   interval (periodic, see lib/periodic.ts), reading the value and then resetting the source
 *   (when it has a reset).
 * A real 0 is recorded as a minimum (spec §7). A missing function → 7001, a bad ticks string → 7003.
 */
import { bin, c, seq, type Stmt } from '../lang/ir/ir.js';
import { parseTimeString } from './lib/time.js';
import { PERIODIC_WORDS, periodicTick } from './lib/periodic.js';
import { addSquareToWide, addU64ToWide, L, locals64, lt64, readWide, referenceArg, state64, store64 } from './lib/u64.js';
import { add64, read64, s, setS, type MapiFunctionDef, type MapiU64Source } from './lib/types.js';

export interface StatsConfig { source: MapiU64Source; mode: 'every' | 'skip-first' | 'periodic'; interval: bigint }

// State words.
const COUNT = 0, SUM = 2, SUM_WORDS = 3, SUM2 = 5, SUM2_WORDS = 5, MAX = 10, MIN = 12, MIN_SET = 14, SEEN = 15, PERIOD = 16;
const WORDS = PERIOD + PERIODIC_WORDS;

export interface StatsResult { count: bigint; sum: bigint; sum2: bigint; max: bigint; min: bigint }

export const STATS: MapiFunctionDef<StatsConfig> = {
  name: 'STATS',
  argdescr: 'rfs',
  filters: false,
  summary: 'count, sum, sum of squares, max and min of another function\'s u64 result',
  instance: (args, ctx) => {
    const ref = referenceArg(ctx, args[0], args[1], 7001, 'STATS', 'arguments 1-2 (function)');
    if (!ref.ok) return ref;
    const ticks = args[2] as string;
    if (ticks.trim() === '0') return { ok: true, config: { source: ref.source, mode: 'every', interval: 0n } };
    if (ticks.trim() === '1') return { ok: true, config: { source: ref.source, mode: 'skip-first', interval: 0n } };
    const t = parseTimeString(ticks);
    if (!t || t.ticks === 0n) return { ok: false, code: 7003, message: `STATS: argument 3 (ticks) must be "0", "1" or a time string such as "1s", "500ms", not ${JSON.stringify(ticks)}` };
    return { ok: true, config: { source: ref.source, mode: 'periodic', interval: t.ticks } };
  },
  stateWords: () => WORDS,
  registers: (config) => (config.mode === 'periodic' ? 1 : 0),
  lower: (config, at) => {
    const b = at.stateBase;
    const lo = at.local(), hi = at.local(), tmp = at.local(), carry = at.local();
    const v = locals64(lo, hi);
    const record: Stmt = seq(
      config.source.read(lo, hi, at.local),
      add64(b + COUNT, c(1), tmp),
      addU64ToWide(b + SUM, SUM_WORDS, v, tmp, carry),
      addSquareToWide(b + SUM2, SUM2_WORDS, v, at.local),
      { k: 'if', cond: lt64(state64(b + MAX), v), then: store64(b + MAX, v) },
      { k: 'if', cond: { k: 'lor', a: bin('eq', s(b + MIN_SET), c(0)), b: lt64(v, state64(b + MIN)) }, then: seq(store64(b + MIN, v), setS(b + MIN_SET, c(1))) },
    );
    if (config.mode === 'every') return record;
    if (config.mode === 'skip-first') {
      return { k: 'if', cond: bin('eq', s(b + SEEN), c(0)), then: setS(b + SEEN, c(1)), else: record };
    }
    const fired = at.local();
    return seq(
      periodicTick(config.interval, b + PERIOD, fired, at.regBase, at.nanoseconds ?? false, at.local),
      { k: 'if', cond: bin('ne', L(fired), c(0)), then: seq(record, config.source.reset ? config.source.reset(at.local) : { k: 'eval', e: c(0) }) },
    );
  },
  result: (_config, st) => {
    const res: StatsResult = {
      count: read64(st, COUNT), sum: readWide(st, SUM, SUM_WORDS), sum2: readWide(st, SUM2, SUM2_WORDS),
      max: read64(st, MAX), min: read64(st, MIN),
    };
    return { res, size: 56 };
  },
};
