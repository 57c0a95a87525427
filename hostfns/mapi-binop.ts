/**
 * BINOP(int type, int fd1, int fid1, int fd2, int fid2) — the sum (BINOP_ADD = 0) or difference
 * (BINOP_SUB = 1, left − right, mod 2^64) of two functions' u64 results, recomputed for every
 * packet that reaches it; result: u64. The functions may belong to this flow (applied before
 * BINOP) or to other flows of the same device. Flows run in the order they were created, so a
 * function of a later flow is read as it stood before this packet reached it.
 * A missing left function → 7002, a missing right one → 7004 (the fd arguments, as MAPI).
 */
import { seq } from '../lang/ir/ir.js';
import { add64, locals64, referenceArg, sub64, L } from './lib/u64.js';
import { isInt, read64, setS, type MapiFunctionDef, type MapiU64Source } from './lib/types.js';

export const BINOP_ADD = 0;
export const BINOP_SUB = 1;

export interface BinopConfig { type: number; left: MapiU64Source; right: MapiU64Source }

export const BINOP: MapiFunctionDef<BinopConfig> = {
  name: 'BINOP',
  argdescr: 'irfrf',
  filters: false,
  summary: 'sum or difference of two functions\' u64 results (u64)',
  instance: (args, ctx) => {
    const [type, fd1, fid1, fd2, fid2] = args;
    if (!isInt(type) || (type !== BINOP_ADD && type !== BINOP_SUB)) {
      return { ok: false, code: 7001, message: `BINOP: argument 1 (type) must be BINOP_ADD (0) or BINOP_SUB (1), not ${String(type)}` };
    }
    const left = referenceArg(ctx, fd1, fid1, 7002, 'BINOP', 'arguments 2-3 (left function)');
    if (!left.ok) return left;
    const right = referenceArg(ctx, fd2, fid2, 7004, 'BINOP', 'arguments 4-5 (right function)');
    if (!right.ok) return right;
    return { ok: true, config: { type, left: left.source, right: right.source } };
  },
  stateWords: () => 2,
  lower: ({ type, left, right }, at) => {
    const alo = at.local(), ahi = at.local(), blo = at.local(), bhi = at.local(), lo = at.local(), hi = at.local();
    const op = type === BINOP_ADD ? add64 : sub64;
    return seq(
      left.read(alo, ahi, at.local), right.read(blo, bhi, at.local),
      op(locals64(alo, ahi), locals64(blo, bhi), lo, hi),
      setS(at.stateBase, L(lo)), setS(at.stateBase + 1, L(hi)),
    );
  },
  result: (_config, state) => ({ res: read64(state, 0), size: 8 }),
  value64: (_config, at, lo, hi) => seq({ k: 'setlocal', n: lo, value: { k: 'state', i: at.stateBase } }, { k: 'setlocal', n: hi, value: { k: 'state', i: at.stateBase + 1 } }),
};
