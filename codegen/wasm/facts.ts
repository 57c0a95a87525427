/**
 * Captured-length facts on a path, so that the backend emits a length check only where earlier
 * checks on every path to a load do not already imply it.
 *
 * A fact says "caplen >= base + end" for an offset base: the key '' is the frame start
 * (constant offsets); other keys are packet-pure offset expressions (built only from packet
 * bytes, caplen and constants, so they have one value per packet) whose value is small enough
 * that base + end cannot wrap around 2^32. `null` stands for an unreachable path.
 */
import type { Expr } from '../../lang/ir/ir.js';
import { MAX_CAPLEN } from '../../vm/abi.js';

export type Facts = ReadonlyMap<string, number> | null;

/**
 * At most this many facts per path. Facts only let the backend leave work out, so dropping one
 * is always safe; the bound keeps copying and joining them linear in the program's size (an
 * `or` of a thousand comparisons would otherwise gather a thousand `ne:` facts).
 */
export const MAX_FACTS = 1024;
/** `ne:` facts (a value differs from a constant) are the ones long chains produce; they stop earlier so the rest keep room. */
export const MAX_FACTS_FOR_NE = 128;

export const NO_FACTS: Facts = new Map();

/** True when the facts prove caplen >= base(key) + end. */
export function proven(f: Facts, key: string, end: number): boolean {
  return f === null || (f.get(key) ?? -1) >= end;
}

export function withFact(f: Facts, key: string, end: number): Facts {
  if (f === null || proven(f, key, end) || (f.size >= MAX_FACTS && !f.has(key))) return f;
  const next = new Map(f);
  next.set(key, end);
  return next;
}

/** Sets a fact that holds exactly (an `eq:` outcome: the value is c). */
export function withExact(f: Facts, key: string, value: number): Facts {
  if (f === null || f.get(key) === value || (f.size >= (key.startsWith('ne:') ? MAX_FACTS_FOR_NE : MAX_FACTS) && !f.has(key))) return f;
  const next = new Map(f);
  next.set(key, value);
  return next;
}

/**
 * What holds after paths join: facts every reachable path proved, at the weaker bound.
 * `eq:` facts (a value equals a constant) survive only where every path knows the same value.
 */
export function meet(...all: Facts[]): Facts {
  return meetAll(all);
}

/** meet of a list (a long filter has more paths than a call may have arguments). */
export function meetAll(all: readonly Facts[]): Facts {
  const live = all.filter((f): f is ReadonlyMap<string, number> => f !== null);
  if (!live.length) return null;
  const [first, ...rest] = live;
  const out = new Map<string, number>();
  for (const [k, v] of first!) {
    let end = v;
    if (k.startsWith('eq:')) {
      if (rest.every((f) => f.get(k) === v)) out.set(k, v);
      continue;
    }
    for (const f of rest) end = Math.min(end, f.get(k) ?? -1);
    if (end >= 0) out.set(k, end);
  }
  return out;
}

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
