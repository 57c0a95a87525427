/**
 * "expression rejects all packets": libpcap's optimizer refuses filters it proves can never
 * match (`ip and vlan`, `ip6 and tcp[13] & 2 != 0`, `arp` on raw IP). Without the optimizer
 * libpcap compiles them, and so does fplc — with a warning, found by this small prover.
 *
 * It is sound, not complete: it tracks equalities `load == constant` (and `load & mask ==
 * constant`) that hold on the path to each test and reports a filter only when every path is
 * contradicted. Loads at constant offsets and named fields never change during a packet, so
 * a fact learned on the left of an `and` holds on its right.
 */
import type { Expr } from '../ir/ir.js';
import type { Pred } from './gen.js';

/** Known values along a path: a persistent list (sharing tails keeps it linear per path). */
type Facts = { key: string; v: number; next: Facts } | undefined;

function lookup(f: Facts, key: string): number | undefined {
  for (let p = f; p; p = p.next) if (p.key === key) return p.v;
  return undefined;
}

/** A key for a value that cannot change within a packet: a constant-offset load or a field, optionally masked. */
function keyOf(e: Expr): string | undefined {
  if (e.k === 'load' && e.off.k === 'const') return `L${e.off.v}:${e.size}`;
  if (e.k === 'field') return `F${e.name}:${e.shift ?? 0}`;
  if (e.k === 'bin' && e.op === 'and' && e.b.k === 'const') {
    const inner = keyOf(e.a);
    return inner === undefined ? undefined : `${inner}&${e.b.v}`;
  }
  return undefined;
}

const REL: Partial<Record<string, (a: number, b: number) => boolean>> = {
  eq: (a, b) => a === b, ne: (a, b) => a !== b, lt: (a, b) => a < b, le: (a, b) => a <= b, gt: (a, b) => a > b, ge: (a, b) => a >= b,
};

/** The value of `e` when the facts decide it (only what the tests need: constants, known keys, comparisons). */
function value(e: Expr, f: Facts): number | undefined {
  if (e.k === 'const') return e.v;
  const key = keyOf(e);
  if (key !== undefined) {
    const known = lookup(f, key);
    if (known !== undefined) return known;
  }
  if (e.k === 'bin') {
    const rel = REL[e.op];
    if (rel) {
      const a = value(e.a, f);
      const b = a === undefined ? undefined : value(e.b, f);
      return a !== undefined && b !== undefined ? (rel(a, b) ? 1 : 0) : undefined;
    }
    if (e.op === 'and') {
      const a = value(e.a, f);
      const b = value(e.b, f);
      if (a !== undefined && b !== undefined) return (a & b) >>> 0;
    }
  }
  return undefined;
}

/** Facts that hold when `e` is true. */
function assume(e: Expr, f: Facts): Facts {
  if (e.k === 'land') return assume(e.b, assume(e.a, f));
  if (e.k === 'bin' && e.op === 'eq') {
    const ka = keyOf(e.a);
    if (ka !== undefined && e.b.k === 'const') return { key: ka, v: e.b.v, next: f };
    const kb = keyOf(e.b);
    if (kb !== undefined && e.a.k === 'const') return { key: kb, v: e.a.v, next: f };
  }
  return f;
}

function mayBeTrue(e: Expr, f: Facts): boolean {
  const v = value(e, f);
  if (v !== undefined) return v !== 0;
  switch (e.k) {
    // Facts from the right also constrain a small left test (`not ip and ip`); loads are pure.
    case 'land': return mayBeTrue(e.a, f) && mayBeTrue(e.b, assume(e.a, f)) && (!isSmall(e.a) || mayBeTrue(e.a, assume(e.b, f)));
    case 'lor': return mayBeTrue(e.a, f) || mayBeTrue(e.b, f);
    case 'lnot': return mayBeFalse(e.a, f);
    default: return true;
  }
}

/** A single comparison or its negation: cheap to re-check (keeps the prover linear). */
function isSmall(e: Expr): boolean {
  return e.k === 'bin' || (e.k === 'lnot' && e.a.k === 'bin');
}

function mayBeFalse(e: Expr, f: Facts): boolean {
  const v = value(e, f);
  if (v !== undefined) return v === 0;
  switch (e.k) {
    case 'land': return mayBeFalse(e.a, f) || mayBeFalse(e.b, assume(e.a, f));
    case 'lor': return mayBeFalse(e.a, f) && mayBeFalse(e.b, f);
    case 'lnot': return mayBeTrue(e.a, f);
    default: return true;
  }
}

function predAssume(p: Pred, f: Facts): Facts {
  if (p.k === 'e') return assume(p.e, f);
  if (p.k === 'and') return predAssume(p.b, predAssume(p.a, f));
  return f;
}

function predMayBeTrue(p: Pred, f: Facts): boolean {
  switch (p.k) {
    case 'e': return mayBeTrue(p.e, f);
    case 'stmt': return mayBeTrue(p.e, f);
    case 'and': return predMayBeTrue(p.a, f) && predMayBeTrue(p.b, predAssume(p.a, f));
    case 'or': return predMayBeTrue(p.a, f) || predMayBeTrue(p.b, f);
    case 'not': return predMayBeFalse(p.a, f);
  }
}

function predMayBeFalse(p: Pred, f: Facts): boolean {
  switch (p.k) {
    case 'e': return mayBeFalse(p.e, f);
    case 'stmt': return mayBeFalse(p.e, f);
    case 'and': return predMayBeFalse(p.a, f) || predMayBeFalse(p.b, predAssume(p.a, f));
    case 'or': return predMayBeFalse(p.a, f) && predMayBeFalse(p.b, f);
    case 'not': return predMayBeTrue(p.a, f);
  }
}

/** True when no packet can satisfy the predicate (so the filter returns 0 on every packet). */
export function rejectsAll(p: Pred): boolean {
  return !predMayBeTrue(p, undefined);
}
