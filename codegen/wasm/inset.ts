/**
 * Lowering of `inset` (set membership, ir.ts) and `lookup` (the same with a value per key) to WebAssembly whose cost does not grow with the set:
 *
 * - a few values: `x == c1 | x == c2 | …`, without branches;
 * - values within 64 of each other: a bit test in a 64-bit constant;
 * - otherwise a range test (min <= x <= max, and the bits all values share when that range is
 *   wide: one well-predicted branch for traffic outside the list), then the compares for a dozen values, or a hash table in code for more:
 *   `(x * mul) >>> (32 - bits)` picks a bucket through one `br_table`, and the bucket compares x
 *   with its few values (again without branches). The multiplier and size are chosen at compile
 *   time so that no bucket holds more than a few.
 *
 * That hash table lives in the module's memory (memtable.ts: branch-free probes into a data
 * segment after the layout's areas) unless the module must fit a memory laid out before it (a
 * MAPI device's), where it is code: a `br_table` over the buckets.
 */
import binaryen from './binaryen.js';
import { LOOKUP_MISS } from '../../lang/ir/ir.js';
import { MULTIPLIERS, hashOf, planTable, tableBytes, tableProbe } from './memtable.js';

export { hashOf };

type X = binaryen.ExpressionRef;
const I32 = binaryen.i32;

/** Sets up to this size are compared value by value, without a range test first. */
export const TINY_SET = 3;
/** Sets up to this size are compared value by value (after the range test). */
export const SMALL_SET = 12;
/**
 * Values per bucket on average (a table of about set/BUCKET_LOAD buckets): a bucket's compares
 * cost little next to the table's blocks, which binaryen and the engine pay for at compile time.
 */
const BUCKET_LOAD = 4;
/** Buckets with more values than this make the planner try another multiplier or a bigger table. */
const GOOD_BUCKET = 10;

export interface HashPlan {
  mul: number;
  bits: number;
  /** buckets[h]: the values whose hash is h. */
  buckets: number[][];
}

/**
 * A multiplier and a table size (2^bits buckets, about set/BUCKET_LOAD) that keep buckets small:
 * the first plan whose largest bucket holds at most GOOD_BUCKET values, else the best seen.
 */
export function planHash(set: readonly number[]): HashPlan {
  const minBits = Math.max(1, Math.ceil(Math.log2(Math.max(2, set.length / BUCKET_LOAD))));
  let best: HashPlan | undefined, bestMax = Infinity;
  for (let bits = minBits; bits <= minBits + 1; bits++) {
    for (const mul of MULTIPLIERS) {
      const buckets: number[][] = Array.from({ length: 1 << bits }, () => []);
      let max = 0;
      for (const v of set) {
        const b = buckets[hashOf(v, mul, bits)]!;
        b.push(v);
        max = Math.max(max, b.length);
      }
      if (max < bestMax) { best = { mul, bits, buckets }; bestMax = max; }
      if (max <= GOOD_BUCKET) return best!;
    }
  }
  return best!;
}

/**
 * The `inset` lowerings of one module. Small and dense sets are tested inline; each distinct
 * larger set becomes one function `(x) -> 0|1` that every test of that set calls (`host a or
 * host b …` tests one set against the source and the destination of IPv4, ARP and RARP).
 */
export class InSetEmitter {
  private readonly functions = new Map<string, string>();
  /** The data segments of the tables placed in memory (memtable.ts), and where the next goes. */
  readonly segments: { offset: number; data: Uint8Array }[] = [];
  private tablesEnd: number;

  /**
   * `tablesOff`: where tables in memory may start (the end of the module's layout), or
   * undefined to keep every table in code (compileWasm's memoryTables: false).
   */
  constructor(private readonly m: binaryen.Module, private readonly tablesOff?: number) {
    this.tablesEnd = tablesOff ?? 0;
  }

  /** Bytes of memory the tables take, from tablesOff. */
  get tablesBytes(): number { return this.tablesOff === undefined ? 0 : this.tablesEnd - this.tablesOff; }

  /** `x ∈ set` for x in local `x` of the calling function (set ascending, distinct): 0 or 1, never a fault. */
  test(x: number, set: readonly number[]): X {
    const m = this.m;
    const get = () => m.local.get(x, I32);
    if (set.length <= TINY_SET) return anyOf(m, get, set);
    const lo = set[0]!, span = set[set.length - 1]! - lo;
    if (span < 64) {
      // Bit (x - lo) of a 64-bit mask; x - lo wraps to a large number when x < lo.
      let mask = 0n;
      for (const v of set) mask |= 1n << BigInt(v - lo);
      const d = () => m.i32.sub(get(), m.i32.const(lo | 0));
      const bits = m.i64.const(BigInt.asIntN(64, mask));
      const bit = m.i32.wrap(m.i64.and(m.i64.shr_u(bits, m.i64.extend_u(d())), m.i64.const(1n)));
      return m.i32.and(m.i32.lt_u(d(), m.i32.const(64)), bit);
    }
    // Values outside [min, max] (most traffic, for a list of nearby addresses or ports) are
    // out at once, on a branch that is easy to predict.
    return m.if(mayHold(m, get, set), set.length <= SMALL_SET ? anyOf(m, get, set) : m.call(this.lookupFunction(set), [get()], I32), m.i32.const(0));
  }

  /**
   * The IR's `lookup`: values[j] when local `x` holds keys[j], else LOOKUP_MISS (keys ascending,
   * distinct); never a fault. Same plans as `test`, choosing a value instead of 0 or 1, and a
   * consecutive run of keys whose values step evenly (flows on ports 1…N) is one subtraction.
   */
  lookup(x: number, keys: readonly number[], values: readonly number[]): X {
    const m = this.m;
    const get = () => m.local.get(x, I32);
    const n = keys.length;
    if (n <= TINY_SET) return selectOf(m, get, keys, values, 0, n);
    const lo = keys[0]!, span = keys[n - 1]! - lo;
    const d = () => m.i32.sub(get(), m.i32.const(lo | 0));
    const step = (values[1]! - values[0]!) | 0;
    if (span === n - 1 && values.every((v, j) => ((v - values[0]!) | 0) === Math.imul(j, step))) {
      const value = m.i32.add(m.i32.const(values[0]! | 0), m.i32.mul(d(), m.i32.const(step)));
      return m.select(m.i32.le_u(d(), m.i32.const(span | 0)), value, m.i32.const(LOOKUP_MISS | 0));
    }
    return m.if(mayHold(m, get, keys), n <= SMALL_SET ? selectOf(m, get, keys, values, 0, n) : m.call(this.lookupFunction(keys, values), [get()], I32),
      m.i32.const(LOOKUP_MISS | 0));
  }

  /** The function `(x) -> 0|1` or `(x) -> value`, one per distinct set: a table in memory when there is room for one, else in code. */
  private lookupFunction(keys: readonly number[], values?: readonly number[]): string {
    const key = values ? `${keys.join(',')}:${values.join(',')}` : keys.join(',');
    let name = this.functions.get(key);
    if (!name) {
      name = `${values ? 'lookup' : 'inset'}${this.functions.size}`;
      this.functions.set(key, name);
      if (this.tablesOff !== undefined) {
        const plan = planTable(keys, values);
        const off = this.tablesEnd;
        const data = tableBytes(plan);
        this.segments.push({ offset: off, data });
        this.tablesEnd = off + data.length;
        this.m.addFunction(name, binaryen.createType([I32]), I32, [I32], tableProbe(this.m, plan, off));
      } else {
        this.m.addFunction(name, binaryen.createType([I32]), I32, [], hashedLookup(this.m, keys, values, name));
      }
    }
    return name;
  }
}

/**
 * A cheap necessary condition for x ∈ set (set ascending): min <= x <= max, and, when the range
 * is wide, x agrees with the bits every value of the set has in common. IPv4 addresses are
 * compared as loaded, little-endian, so the range of a list of 10.x.y.z addresses spans nearly
 * all of u32; their common first byte still turns away every address outside 10/8 at once.
 */
function mayHold(m: binaryen.Module, get: () => X, set: readonly number[]): X {
  const lo = set[0]!, span = set[set.length - 1]! - lo;
  const inRange = m.i32.le_u(m.i32.sub(get(), m.i32.const(lo | 0)), m.i32.const(span | 0));
  let ones = ~0, zeros = ~0;
  for (const v of set) { ones &= v; zeros &= ~v; }
  const mask = (ones | zeros) >>> 0;
  if (span < 1 << 16 || mask === 0) return inRange;
  const agrees = m.i32.eq(m.i32.and(get(), m.i32.const(mask | 0)), m.i32.const(ones & mask));
  return m.i32.and(inRange, agrees);
}

/**
 * values[j] for the key x equals (keys[from..to)), else LOOKUP_MISS, as a chain of `select`s
 * (no branches: the compares are cheaper than a mispredicted jump).
 */
function selectOf(m: binaryen.Module, get: () => X, keys: readonly number[], values: readonly number[], from: number, to: number): X {
  let e: X = m.i32.const(LOOKUP_MISS | 0);
  for (let j = to - 1; j >= from; j--) e = m.select(m.i32.eq(get(), m.i32.const(keys[j]! | 0)), m.i32.const(values[j]! | 0), e);
  return e;
}

/** x == c1 | x == c2 | …, without branches, as a balanced tree of `or`s (an empty set gives 0). */
function anyOf(m: binaryen.Module, get: () => X, values: readonly number[], from = 0, to = values.length): X {
  if (to - from === 0) return m.i32.const(0);
  if (to - from === 1) return m.i32.eq(get(), m.i32.const(values[from]! | 0));
  const mid = (from + to) >>> 1;
  return m.i32.or(anyOf(m, get, values, from, mid), anyOf(m, get, values, mid, to));
}

/**
 * The body of `(x) -> x ∈ set` (x: local 0), or with `values` of `(x) -> its value or
 * LOOKUP_MISS`: the bucket `(x * mul) >>> (32 - bits)` through one br_table, then the bucket's
 * values compared without branches.
 */
function hashedLookup(m: binaryen.Module, set: readonly number[], values: readonly number[] | undefined, label: string): X {
  const get = () => m.local.get(0, I32);
  const plan = planHash(set);
  const valueOf = values ? new Map(set.map((k, j) => [k, values[j]!])) : undefined;
  const answer = (bucket: readonly number[]): X =>
    valueOf ? selectOf(m, get, bucket, bucket.map((k) => valueOf.get(k)!), 0, bucket.length) : anyOf(m, get, bucket);
  const missValue = valueOf ? LOOKUP_MISS | 0 : 0;
  const out = label, miss = `${label}_miss`;
  const used = plan.buckets.map((b, h) => (b.length ? h : -1)).filter((h) => h >= 0);
  const target = new Map(used.map((h, i) => [h, `${label}_b${i}`]));
  const hash = m.i32.shr_u(m.i32.mul(get(), m.i32.const(plan.mul | 0)), m.i32.const(32 - plan.bits));
  const names = plan.buckets.map((_, h) => target.get(h) ?? miss);
  // block out [ block b_last [ … block b_0 [ block miss [ br_table ] ; return 0 ] ; return bucket 0 … ] ; bucket last ]
  // Each `return` sits in an `if (1)`, so that no block ends unreachable: binaryen would then
  // search the whole nest for branches to each new block, quadratic in the buckets (4 s at
  // 10,000 keys, against 20 ms). The optimizer folds the `if`s away.
  const ret = (x: X) => m.if(m.i32.const(1), m.return(x));
  const none = binaryen.none;
  let inner: X = m.block(target.get(used[0]!)!, [m.block(miss, [m.switch(names, miss, hash)], none), ret(m.i32.const(missValue))], none);
  for (let i = 1; i < used.length; i++) {
    inner = m.block(target.get(used[i]!)!, [inner, ret(answer(plan.buckets[used[i - 1]!]!))], none);
  }
  return m.block(out, [inner, answer(plan.buckets[used[used.length - 1]!]!)], I32);
}
