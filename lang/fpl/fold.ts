/** Small facts about lowered IR expressions that the FPL lowering needs. */
import type { Expr } from '../ir/ir.js';
import { binop } from '../ir/interp.js';
import { callsExtern } from '../ir/walk.js';

/** The value of an expression made only of constants and operators; undefined otherwise (or on a fault such as 1/0). */
export function foldConstant(e: Expr): number | undefined {
  switch (e.k) {
    case 'const': return e.v >>> 0;
    case 'bin': {
      const a = foldConstant(e.a);
      const b = a === undefined ? undefined : foldConstant(e.b);
      return a === undefined || b === undefined ? undefined : binop(e.op, a, b);
    }
    case 'neg': { const a = foldConstant(e.a); return a === undefined ? undefined : (0 - a) >>> 0; }
    case 'bnot': { const a = foldConstant(e.a); return a === undefined ? undefined : ~a >>> 0; }
    case 'lnot': { const a = foldConstant(e.a); return a === undefined ? undefined : a === 0 ? 1 : 0; }
    case 'land':
    case 'lor': {
      const a = foldConstant(e.a);
      const b = a === undefined ? undefined : foldConstant(e.b);
      if (a === undefined || b === undefined) return undefined;
      return (e.k === 'land' ? a !== 0 && b !== 0 : a !== 0 || b !== 0) ? 1 : 0;
    }
    default: return undefined;
  }
}

/** True when evaluating `e` can change state: only extern calls can (they may write M). */
export const hasSideEffects = callsExtern;

/** Cheap to evaluate twice and free of side effects and faults: constants, registers, locals, and +,-,&,… of them. */
export function isCheapToRepeat(e: Expr, depth = 0): boolean {
  if (depth > 3) return false;
  switch (e.k) {
    case 'const': case 'reg': case 'local': case 'meta': return true;
    case 'mem': return isCheapToRepeat(e.index, depth + 1);
    case 'bin': return e.op !== 'div' && e.op !== 'mod' && isCheapToRepeat(e.a, depth + 1) && isCheapToRepeat(e.b, depth + 1);
    case 'neg': case 'bnot': case 'lnot': return isCheapToRepeat(e.a, depth + 1);
    default: return false;
  }
}
