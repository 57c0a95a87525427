/**
 * DIST(int fd, int fid, char* min, char* max, char* interval) — a histogram of another
 * function's u64 result, one sample per packet that reaches it. min, max and interval are time
 * strings (spec §1.2; a plain number is taken as it is). num = ceil((max − min) / interval);
 * bins 0..num: v < min → 0, v > max → num, v == min → 0 (spec §7), otherwise
 * ceil((v − min − 1) / interval), at most num. Result `{ min, max, intervals: num, data: bigint[] }`.
 * Errors: a missing function → 7001; a bad min/max/interval → 7003/7004/7005; min > max → 7000;
 * interval > max − min → 7004; more than MAX_BINS bins → 7005.
 */
import { bin, c, seq, type Stmt } from '../lang/ir/ir.js';
import { parseTimeString } from './lib/time.js';
import { const64, divU64, L, locals64, lt64, referenceArg, setL, sub64 } from './lib/u64.js';
import { add64, read64, type MapiFunctionDef, type MapiU64Source } from './lib/types.js';

/** Bins are addressed by a decision tree in the module: keep it small. */
export const MAX_BINS = 1024;

export interface DistConfig { source: MapiU64Source; min: bigint; max: bigint; interval: bigint; num: number }

export const DIST: MapiFunctionDef<DistConfig> = {
  name: 'DIST',
  argdescr: 'rfsss',
  filters: false,
  summary: 'histogram of another function\'s u64 result',
  instance: (args, ctx) => {
    const ref = referenceArg(ctx, args[0], args[1], 7001, 'DIST', 'arguments 1-2 (function)');
    if (!ref.ok) return ref;
    const names = ['min', 'max', 'interval'];
    const values: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const t = parseTimeString(args[2 + i] as string);
      if (!t) return { ok: false, code: 7003 + i, message: `DIST: argument ${3 + i} (${names[i]}) must be a time string such as "10ms", not ${JSON.stringify(args[2 + i])}` };
      values.push(t.ticks);
    }
    const [min, max, interval] = values as [bigint, bigint, bigint];
    if (min > max) return { ok: false, code: 7000, message: `DIST: min (${min} ticks) is greater than max (${max} ticks)` };
    if (interval === 0n) return { ok: false, code: 7005, message: 'DIST: argument 5 (interval) must not be 0' };
    if (interval > max - min) return { ok: false, code: 7004, message: `DIST: the interval (${interval} ticks) is larger than max − min (${max - min} ticks)` };
    const num = (max - min + interval - 1n) / interval;
    if (num + 1n > BigInt(MAX_BINS)) return { ok: false, code: 7005, message: `DIST: ${num + 1n} bins; at most ${MAX_BINS} (use a larger interval)` };
    return { ok: true, config: { source: ref.source, min, max, interval, num: Number(num) } };
  },
  stateWords: (config) => 2 * (config.num + 1),
  registers: () => 1,
  lower: (config, at) => {
    const b = at.stateBase;
    const vlo = at.local(), vhi = at.local(), dlo = at.local(), dhi = at.local(), qlo = at.local(), qhi = at.local(), k = at.local(), tmp = at.local();
    const v = locals64(vlo, vhi);
    const num = config.num;
    // bin k: a decision tree over k's constant range, each leaf a u64 counter at a constant index
    const addTo = (lo: number, hi: number): Stmt => {
      if (lo === hi) return add64(b + 2 * lo, c(1), tmp);
      const mid = (lo + hi + 1) >> 1;
      return { k: 'if', cond: bin('lt', L(k), c(mid)), then: addTo(lo, mid - 1), else: addTo(mid, hi) };
    };
    return seq(
      config.source.read(vlo, vhi, at.local),
      {
        k: 'if', cond: lt64(v, const64(config.min)), then: setL(k, c(0)),
        else: { k: 'if', cond: lt64(const64(config.max), v), then: setL(k, c(num)), else: seq(
          // d = v − min − 1 + interval − 1 (no overflow: v − min ≤ max − min and interval ≤ max − min), q = d / interval
          sub64(v, const64(config.min + 2n - config.interval), dlo, dhi),
          { k: 'if', cond: bin('eq', bin('or', bin('xor', L(vlo), c(Number(config.min & 0xffffffffn))), bin('xor', L(vhi), c(Number(config.min >> 32n)))), c(0)),
            then: setL(k, c(0)),
            else: seq(
              divU64(locals64(dlo, dhi), const64(config.interval), qlo, qhi, at.regBase, at.local),
              setL(k, { k: 'cond', c: { k: 'lor', a: bin('ne', L(qhi), c(0)), b: bin('gt', L(qlo), c(num)) }, a: c(num), b: L(qlo) }),
            ) },
        ) },
      },
      addTo(0, num),
    );
  },
  result: (config, state) => ({
    res: { min: config.min, max: config.max, intervals: BigInt(config.num), data: Array.from({ length: config.num + 1 }, (_, i) => read64(state, 2 * i)) },
    size: 24 + 8 * (config.num + 1),
  }),
};
