/**
 * What is known about a packet on a path: the fault semantics the length-guard pass and the
 * backend share. Two kinds of facts, in one map:
 *
 *   length facts  "caplen >= base + end" for an offset base: the key FRAME ('') is the frame
 *                 start (constant offsets); lengthKey(base) keys a packet-pure offset
 *                 expression (built only from packet bytes, caplen and constants, so it has one
 *                 value per packet) whose value is small enough that base + end cannot wrap
 *                 around 2^32;
 *   value facts   a packet-pure value is known non-zero (valueKey, stored as 1), equals a
 *                 constant (eqKey) or differs from one (neKey).
 *
 * `null` stands for an unreachable path. Facts only let a consumer leave work out, so dropping
 * one is always safe (MAX_FACTS).
 *
 * The same file says how many captured bytes an expression needs (lengthNeeded): the
 * length-guard pass (passes/lengthguard.ts) turns it into one test up front, and the backend
 * (codegen/wasm/emit.ts) then takes that test as a FRAME fact.
 */
import type { Expr } from './ir.js';
import { lowerField } from './fields.js';

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

/** The key of length facts about constant offsets from the frame start. */
export const FRAME = '';
/** The key of length facts about offsets from a packet-pure base expression. */
export const lengthKey = (base: Expr): string => JSON.stringify(base);
/** The key of "this packet-pure load's value is at hand" facts: size bytes k past base, or at a constant offset. */
export const valueKey = (base: Expr, k: number, size: number): string => `v:${JSON.stringify(base)}+${k}:${size}`;
export const frameValueKey = (off: number, size: number): string => `v:${off}:${size}`;
/** The same value loaded without its byte swap (the backend compares little-endian words). */
export const rawValueKey = (key: string): string => `${key}:le`;
/** The key of "value `key` equals c" facts (the fact's number is c). */
export const eqKey = (key: string): string => `eq:${key}`;
/** The key of "value `key` differs from c" facts. */
export const neKey = (key: string, c: number): string => `ne:${key}:${c}`;

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

/**
 * The fewest captured bytes (from the frame start) with which an evaluation of e completes
 * without a fault: `always` for any outcome, `whenTrue` when e comes out non-zero, `whenFalse`
 * when zero. Only loads at constant offsets count (a dynamic offset proves nothing about where
 * it lands). A packet of fewer bytes faults, or gives the other outcome.
 */
export function lengthNeeded(e: Expr, linkType: number): { always: number; whenTrue: number; whenFalse: number } {
  return { always: always(e, linkType), whenTrue: whenTrue(e, linkType), whenFalse: whenFalse(e, linkType) };
}

/*
 * Lower bounds of the captured bytes an evaluation of e needs to complete without a fault:
 * `always` for any outcome, `whenTrue` when e comes out non-zero, `whenFalse` when zero. Only
 * loads at constant offsets count (a dynamic offset proves nothing about where it lands).
 */

function whenTrue(e: Expr, dlt: number): number {
  switch (e.k) {
    case 'land': return Math.max(whenTrue(e.a, dlt), whenTrue(e.b, dlt));
    case 'lor': return Math.min(whenTrue(e.a, dlt), Math.max(whenFalse(e.a, dlt), whenTrue(e.b, dlt)));
    case 'lnot': return whenFalse(e.a, dlt);
    case 'cond': return Math.min(Math.max(whenTrue(e.c, dlt), whenTrue(e.a, dlt)), Math.max(whenFalse(e.c, dlt), whenTrue(e.b, dlt)));
    default: return always(e, dlt);
  }
}

function whenFalse(e: Expr, dlt: number): number {
  switch (e.k) {
    case 'land': return Math.min(whenFalse(e.a, dlt), Math.max(whenTrue(e.a, dlt), whenFalse(e.b, dlt)));
    case 'lor': return Math.max(whenFalse(e.a, dlt), whenFalse(e.b, dlt));
    case 'lnot': return whenTrue(e.a, dlt);
    case 'cond': return Math.min(Math.max(whenTrue(e.c, dlt), whenFalse(e.a, dlt)), Math.max(whenFalse(e.c, dlt), whenFalse(e.b, dlt)));
    default: return always(e, dlt);
  }
}

function always(e: Expr, dlt: number): number {
  switch (e.k) {
    case 'load': return Math.max(always(e.off, dlt), e.off.k === 'const' ? e.off.v + e.size : 0);
    case 'field': {
      let low: Expr;
      try { low = lowerField(e.name, dlt, e.shift ?? 0); } catch { return 0; }
      return always(low, dlt);
    }
    case 'bin': return Math.max(always(e.a, dlt), always(e.b, dlt));
    case 'neg': case 'bnot': return always(e.a, dlt);
    case 'inset': case 'lookup': return always(e.e, dlt);
    // Both outcomes of a logical operator or a choice: the weaker of the two.
    case 'land': case 'lor': case 'lnot': case 'cond': return Math.min(whenTrue(e, dlt), whenFalse(e, dlt));
    // Searches never fault; registers, memory, state, metadata and constants read no packet bytes.
    default: return 0;
  }
}
