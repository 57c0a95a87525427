/**
 * SAMPLE(int value, int mode) — passes a sample of the packets.
 *   PERIODIC (2, and any mode other than 3): the value-th, 2·value-th, … packet (value ≤ 0 means 1).
 *   PROBABILISTIC (3): each packet with probability value% (value clamped to 0..100), drawn from
 *   a xorshift32 generator in the instance's state, seeded per device, so runs are reproducible.
 */
import { bin, c, seq, type Expr } from '../lang/ir/ir.js';
import { isInt, s, setS, type MapiFunctionDef } from './lib/types.js';

export const PERIODIC = 2;
export const PROBABILISTIC = 3;

/** One xorshift32 step (13, 17, 5), as in the IR and in JS (tests use the JS one as oracle). */
export function xorshift32(x: number): number {
  x ^= x << 13; x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

export const SAMPLE: MapiFunctionDef<{ value: number; mode: number }> = {
  name: 'SAMPLE',
  argdescr: 'ii',
  filters: true,
  summary: 'periodic (mode 2) or probabilistic (mode 3, value %) sampling',
  instance: (args) => {
    const [value, mode] = args;
    if (!isInt(value)) return { ok: false, code: 7001, message: `SAMPLE: argument 1 (value) must be an integer, not ${String(value)}` };
    if (!isInt(mode)) return { ok: false, code: 7002, message: `SAMPLE: argument 2 (mode) must be an integer, not ${String(mode)}` };
    if (mode === PROBABILISTIC) return { ok: true, config: { mode, value: Math.min(100, Math.max(0, value | 0)) } };
    return { ok: true, config: { mode: PERIODIC, value: value <= 0 ? 1 : value >>> 0 } };
  },
  stateWords: () => 1,
  init: (config, state, { seed }) => {
    if (config.mode === PROBABILISTIC) state[0] = (seed >>> 0) || 0x9e3779b9;
  },
  lower: ({ value, mode }, at) => {
    const b = at.stateBase;
    if (mode === PERIODIC) {
      return seq(
        setS(b, bin('add', s(b), c(1))),
        { k: 'if', cond: bin('lt', s(b), c(value)), then: at.exitFlow, else: setS(b, c(0)) },
      );
    }
    const x: Expr = s(b);
    const t = at.local();
    const l: Expr = { k: 'local', n: t };
    return seq(
      { k: 'setlocal', n: t, value: bin('xor', x, bin('shl', x, c(13))) },
      { k: 'setlocal', n: t, value: bin('xor', l, bin('shr', l, c(17))) },
      { k: 'setlocal', n: t, value: bin('xor', l, bin('shl', l, c(5))) },
      setS(b, l),
      { k: 'if', cond: bin('ge', bin('mod', l, c(100)), c(value)), then: at.exitFlow },
    );
  },
};
