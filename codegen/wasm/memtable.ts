/**
 * Large sets and lookups as hash tables in the module's memory (inset.ts decides which): an
 * open-addressing table of u32 keys, filled at compile time and placed in a data segment
 * after the layout's areas (abi/index.ts: the tables area). A probe is branch-free:
 *
 *   h = (x * mul) >>> (32 - bits);   hit = keys[h] == x | keys[h+1] == x | … (P slots)
 *
 * where P, the longest distance a key sits from its hash slot, is known at compile time and
 * kept small by the choice of multiplier and size. The table in code (a `br_table` over the
 * buckets) costs a mispredicted indirect jump whenever consecutive packets hash to different
 * buckets: ~10 ns per lookup on traffic from the list's own network, against ~2 ns here.
 *
 * Empty slots hold the first key (and its value): a probe that lands on one either compares
 * unequal or finds a key of the set with its own value, so no "empty" marker is needed.
 */
import binaryen from './binaryen.js';
import { LOOKUP_MISS } from '../../lang/ir/ir.js';

type X = binaryen.ExpressionRef;
const I32 = binaryen.i32;

/** Odd multipliers with well-mixed bits (from common 32-bit hash finalizers), tried in order. */
export const MULTIPLIERS = [0x9e3779b1, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f, 0x165667b1, 0xcc9e2d51, 0x1b873593, 0xe6546b65,
  0x7feb352d, 0x846ca68b, 0x2c1b3c6d, 0x297a2d39, 0x01000193, 0x5bd1e995, 0x68e31da5, 0xd6e8feb7];

/** The multiplicative hash of x into 2^bits slots. */
export const hashOf = (x: number, mul: number, bits: number): number => Math.imul(x, mul) >>> (32 - bits);

/** Probe lengths up to this are accepted at once; longer ones make the planner try on. */
const GOOD_PROBES = 4;
/** The longest probe the planner will emit (more slots compared per lookup). */
const MAX_PROBES = 12;

export interface TablePlan {
  mul: number;
  bits: number;
  /** Slots compared per lookup. */
  probes: number;
  /** keys[i] (and values[i]) per slot; 2^bits + probes - 1 slots. */
  keys: Uint32Array;
  values?: Uint32Array;
}

/** Linear probing in key order from each key's hash slot; undefined past MAX_PROBES. */
function fill(keys: readonly number[], values: readonly number[] | undefined, mul: number, bits: number): TablePlan | undefined {
  const size = (1 << bits) + MAX_PROBES - 1;
  const slots = new Int32Array(size).fill(-1);   // index of the key in each slot
  let probes = 1;
  for (let i = 0; i < keys.length; i++) {
    const h = hashOf(keys[i]!, mul, bits);
    let j = h;
    while (j < size && slots[j] !== -1) j++;
    if (j - h >= MAX_PROBES) return undefined;
    slots[j] = i;
    probes = Math.max(probes, j - h + 1);
  }
  const n = (1 << bits) + probes - 1;
  const out = new Uint32Array(n), vals = values ? new Uint32Array(n) : undefined;
  for (let j = 0; j < n; j++) {
    const i = slots[j] === -1 ? 0 : slots[j]!;
    out[j] = keys[i]!;
    if (vals) vals[j] = values![i]!;
  }
  return { mul, bits, probes, keys: out, ...(vals ? { values: vals } : {}) };
}

/** A table for `keys` (distinct): about 4 slots per key, the multiplier giving the shortest probe. */
export function planTable(keys: readonly number[], values?: readonly number[]): TablePlan {
  const minBits = Math.max(2, Math.ceil(Math.log2(keys.length)) + 2);
  let best: TablePlan | undefined;
  for (let bits = minBits; bits <= minBits + 2; bits++) {
    for (const mul of MULTIPLIERS) {
      const plan = fill(keys, values, mul, bits);
      if (plan && (!best || plan.probes < best.probes)) best = plan;
      if (best && best.probes <= GOOD_PROBES) return best;
    }
  }
  if (!best) throw new Error(`internal compiler error: no hash table with probes <= ${MAX_PROBES} for ${keys.length} keys`);
  return best;
}

/** The table's bytes as laid out in memory: the keys, then the values (u32, little-endian). */
export function tableBytes(plan: TablePlan): Uint8Array {
  const words = plan.keys.length * (plan.values ? 2 : 1);
  const out = new Uint32Array(words);
  out.set(plan.keys);
  if (plan.values) out.set(plan.values, plan.keys.length);
  return new Uint8Array(out.buffer);
}

/**
 * The body of `(x) -> x ∈ set` (x: local 0), or with values `(x) -> its value or LOOKUP_MISS`,
 * for the table at memory offset `off`. Local 1 holds the probe's first slot address.
 */
export function tableProbe(m: binaryen.Module, plan: TablePlan, off: number): X {
  const x = () => m.local.get(0, I32);
  const at = () => m.local.get(1, I32);
  const slot = m.i32.shl(m.i32.shr_u(m.i32.mul(x(), m.i32.const(plan.mul | 0)), m.i32.const(32 - plan.bits)), m.i32.const(2));
  const key = (j: number) => m.i32.load(off + 4 * j, 4, at());
  const eq = (j: number) => m.i32.eq(key(j), x());
  let answer: X;
  if (plan.values) {
    const valuesOff = off + 4 * plan.keys.length;
    answer = m.i32.const(LOOKUP_MISS | 0);
    for (let j = plan.probes - 1; j >= 0; j--) answer = m.select(eq(j), m.i32.load(valuesOff + 4 * j, 4, at()), answer);
  } else {
    answer = eq(0);
    for (let j = 1; j < plan.probes; j++) answer = m.i32.or(answer, eq(j));
  }
  return m.block(null, [m.local.set(1, slot), answer], I32);
}
