/**
 * The backend's view of packet facts: the facts themselves (length and value facts, their
 * join) live in lang/ir/facts.ts, shared with the length-guard pass; what only the backend
 * needs is here.
 */
import type { Expr } from '../../lang/ir/ir.js';
import { MAX_CAPLEN } from '../../abi/index.js';

export {
  FRAME, MAX_FACTS, frameValueKey, rawValueKey, MAX_FACTS_FOR_NE, NO_FACTS, eqKey, lengthKey, meet, meetAll, neKey, proven, valueKey, withExact, withFact, type Facts,
} from '../../lang/ir/facts.js';

export { splitOffset } from '../../lang/ir/offsets.js';

/**
 * An upper bound of a packet-pure expression's value, or undefined when the expression is not
 * packet-pure (registers, memory, locals, externs may differ between two evaluations).
 * `lower` resolves named fields to their loads.
 */
export function pureBound(e: Expr, lower: (f: Extract<Expr, { k: 'field' }>) => Expr): number | undefined {
  const b = (x: Expr) => pureBound(x, lower);
  switch (e.k) {
    case 'const': return e.v;
    case 'load': return b(e.off) === undefined ? undefined : 2 ** (8 * e.size) - 1;
    case 'meta': return e.m === 'caplen' ? MAX_CAPLEN : 0xffffffff;
    case 'field': return b(lower(e));
    case 'cond': {
      const c = b(e.c), x = b(e.a), y = b(e.b);
      return c === undefined || x === undefined || y === undefined ? undefined : Math.max(x, y);
    }
    case 'bin': {
      const x = b(e.a), y = b(e.b);
      if (x === undefined || y === undefined) return undefined;
      switch (e.op) {
        case 'add': return Math.min(x + y, 0xffffffff) === x + y ? x + y : 0xffffffff;
        case 'mul': return x * y <= 0xffffffff ? x * y : 0xffffffff;
        case 'and': return Math.min(x, y);
        case 'shr': return e.b.k === 'const' && e.b.v < 32 ? Math.floor(x / 2 ** e.b.v) : x;
        case 'div': return x;
        case 'mod': return Math.min(x, Math.max(y - 1, 0));
        case 'eq': case 'ne': case 'lt': case 'le': case 'gt': case 'ge': return 1;
        default: return 0xffffffff;
      }
    }
    case 'lnot': case 'land': case 'lor':
      return [e.a, ...(e.k === 'lnot' ? [] : [e.b])].every((x) => b(x) !== undefined) ? 1 : undefined;
    case 'neg': case 'bnot': return b(e.a) === undefined ? undefined : 0xffffffff;
    default: return undefined;
  }
}
