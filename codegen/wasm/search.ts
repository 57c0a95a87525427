/**
 * The IR's `search` node in WebAssembly (ir.ts): one function per distinct pattern set,
 *
 *   search_<n>(start, end) -> 1 if a pattern occurs whole inside memory [start, end), else 0
 *
 * over absolute addresses (the caller clips the region to the captured bytes). Two SIMD scans,
 * both looking at 16 candidate start positions per step:
 *
 * - one pattern: the first and the last byte of the pattern are compared at every position of
 *   the block at once (two unaligned loads, `i8x16.eq`); the few positions where both agree are
 *   verified with constant compares of 8, 4, 2 or 1 bytes;
 * - several patterns (Hyperscan's "Teddy"): patterns are spread over at most 8 buckets (one bit
 *   each); for the first FINGERPRINT bytes, `i8x16.swizzle` looks the low and the high nibble of
 *   every byte up in 16-entry tables held as v128 constants, so a lane keeps bucket b's bit only
 *   if every fingerprint byte could begin a pattern of bucket b. Lanes that survive are verified
 *   against the bucket's patterns only.
 *
 * No tables in memory: everything the scan needs is in the code, so the module's memory layout
 * does not change. The loads of the last block may read up to 32 bytes past `end` (never past
 * the memory: when the region ends that close to the memory's end, a plain byte-by-byte scan
 * runs instead); positions whose pattern would not end inside the region are masked off, so the
 * bytes past `end` can only make candidates that verification rejects.
 */
import binaryen from './binaryen.js';
import { patternKey } from '../../lang/ir/ir.js';

type X = binaryen.ExpressionRef;
const I32 = binaryen.i32;
const V128 = binaryen.v128;

/** Bytes of every pattern the multi-pattern scan looks at before verifying (fewer for short patterns). */
export const FINGERPRINT = 4;
/** Buckets of the multi-pattern scan: one bit of an i8 lane each. */
const BUCKETS = 8;
/** The scan may load up to this many bytes past `end`. */
const OVERREAD = 32;

// The search function's parameters and locals (searchall's add LEFT and its words W0, W1, …).
const START = 0, END = 1, LAST = 2, AT = 3, MASK = 4, BM = 5, Q = 6, V = 7, LEFT = 8, W0 = 9;

/**
 * The patterns a search really needs to look for: duplicates go, and so does a pattern that
 * contains another one (wherever it occurs, the shorter one occurs too).
 */
export function essentialPatterns(patterns: readonly Uint8Array[]): Uint8Array[] {
  // One character per byte (latin1), so that containment of keys is containment of patterns
  // (a hex key could match across a byte boundary).
  const unique = new Map<string, Uint8Array>();
  for (const p of patterns) unique.set(Buffer.from(p).toString('latin1'), p);
  const keys = [...unique.keys()].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  // Quadratic: skipped for very large sets, where it would cost more than it saves.
  if (keys.length > 2000) return keys.map((k) => unique.get(k)!);
  const kept: string[] = [];
  for (const k of keys) if (!kept.some((shorter) => k.includes(shorter))) kept.push(k);
  return kept.map((k) => unique.get(k)!);
}

/** Spreads patterns over at most BUCKETS buckets, patterns with similar starts together. */
export function bucketsOf(patterns: readonly Uint8Array[]): Uint8Array[][] {
  const sorted = [...patterns].sort((a, b) => {
    for (let i = 0; i < FINGERPRINT; i++) {
      const d = (a[i] ?? -1) - (b[i] ?? -1);
      if (d !== 0) return d;
    }
    return 0;
  });
  const n = Math.min(BUCKETS, sorted.length);
  return Array.from({ length: n }, (_, b) => sorted.slice(Math.floor((b * sorted.length) / n), Math.floor(((b + 1) * sorted.length) / n)));
}

/** The nibble tables of the multi-pattern scan: lo[k][nibble] and hi[k][nibble] hold bucket bits. */
export function teddyTables(buckets: readonly (readonly Uint8Array[])[], fingerprint: number): { lo: Uint8Array[]; hi: Uint8Array[] } {
  const lo = Array.from({ length: fingerprint }, () => new Uint8Array(16));
  const hi = Array.from({ length: fingerprint }, () => new Uint8Array(16));
  buckets.forEach((bucket, b) => {
    const bit = 1 << b;
    for (const p of bucket) {
      for (let k = 0; k < fingerprint; k++) {
        if (k < p.length) {
          lo[k]![p[k]! & 15]! |= bit;
          hi[k]![p[k]! >> 4]! |= bit;
        } else {
          // Past the pattern's end any byte will do.
          for (let n = 0; n < 16; n++) { lo[k]![n]! |= bit; hi[k]![n]! |= bit; }
        }
      }
    }
  });
  return { lo, hi };
}

/** A searchall function: its name and the globals it leaves its result words in. */
export interface SearchAllFunction { name: string; words: string[] }

export class SearchEmitter {
  private readonly names = new Map<string, string>();
  private readonly allNames = new Map<string, SearchAllFunction>();

  constructor(private readonly m: binaryen.Module) {}

  /** Whether any search function was emitted (the module then needs the SIMD feature). */
  get used(): boolean { return this.names.size > 0 || this.allNames.size > 0; }

  /**
   * The function that records which of `patterns` occur (emitted on first use):
   *
   *   searchall_<n>(start, end): bit j % 32 of global words[j / 32] = patterns[j] occurs whole in memory [start, end)
   *
   * Every word is written on every call. The scan is the multi-pattern one, except that a
   * verified candidate sets its pattern's bits instead of returning; a pattern already found is
   * not verified again, and the scan stops once every pattern is found.
   */
  allFunctionFor(patterns: readonly Uint8Array[]): SearchAllFunction {
    const key = patterns.map((p) => patternKey(p)).join(',');
    let fn = this.allNames.get(key);
    if (fn === undefined) {
      const name = `searchall_${this.allNames.size}`;
      fn = { name, words: Array.from({ length: Math.ceil(patterns.length / 32) }, (_, i) => `${name}_w${i}`) };
      this.allNames.set(key, fn);
      this.emitAll(fn, patterns);
    }
    return fn;
  }

  private emitAll(fn: SearchAllFunction, patterns: readonly Uint8Array[]): void {
    const m = this.m;
    // Identical patterns are looked for once and set every bit they stand for.
    const bitsOf = new Map<string, { p: Uint8Array; bits: number[] }>();
    patterns.forEach((p, j) => {
      const k = patternKey(p);
      const entry = bitsOf.get(k) ?? { p, bits: [] };
      entry.bits.push(j);
      bitsOf.set(k, entry);
    });
    const entries = [...bitsOf.values()];
    const byPattern = new Map(entries.map((e) => [e.p, e.bits]));
    const distinct = entries.map((e) => e.p);
    const minLen = Math.min(...distinct.map((p) => p.length));
    const word = (j: number) => W0 + (j >>> 5);
    const bit = (j: number) => this.k(1 << (j & 31));
    const setBits = (bits: number[]): X[] => bits.map((j) => m.local.set(word(j), m.i32.or(this.get(word(j)), bit(j))));
    const done = 'all_done';
    const onCandidate = (p: Uint8Array): X => {
      const bits = byPattern.get(p)!;
      return m.if(m.i32.eqz(m.i32.and(this.get(word(bits[0]!)), bit(bits[0]!))),
        m.if(this.fitsAndMatches(p, minLen), m.block(null, [
          ...setBits(bits),
          m.local.set(LEFT, m.i32.sub(this.get(LEFT), this.k(1))),
          m.br(done, m.i32.eqz(this.get(LEFT))),
        ])));
    };
    const roomy = m.i64.le_u(
      m.i64.add(m.i64.extend_u(this.get(END)), m.i64.const(BigInt(OVERREAD))),
      m.i64.shl(m.i64.extend_u(m.memory.size('mem')), m.i64.const(16n)));
    const scan = distinct.length === 1
      // One pattern: the single-pattern search function says whether it occurs.
      ? m.if(m.call(this.functionFor(distinct), [this.get(START), this.get(END)], I32), m.block(null, setBits(entries[0]!.bits)))
      : m.if(roomy, this.multiScan(distinct, minLen, onCandidate), this.plainScan(distinct, minLen, onCandidate));
    const body = m.block(null, [
      m.block(done, [
        m.br(done, m.i32.le_u(this.get(END), this.get(START))),
        m.br(done, m.i32.lt_u(m.i32.sub(this.get(END), this.get(START)), this.k(minLen))),
        m.local.set(LAST, m.i32.sub(this.get(END), this.k(minLen))),
        m.local.set(LEFT, this.k(distinct.length)),
        scan,
      ]),
      ...fn.words.map((g, i) => m.global.set(g, this.get(W0 + i))),
    ]);
    for (const g of fn.words) m.addGlobal(g, I32, true, this.k(0));
    m.addFunction(fn.name, binaryen.createType([I32, I32]), binaryen.none,
      [I32, I32, I32, I32, I32, V128, I32, ...fn.words.map(() => I32)], body);
  }

  /** The name of the function that searches for `patterns` (emitted on first use). */
  functionFor(patterns: readonly Uint8Array[]): string {
    const key = patterns.map((p) => patternKey(p)).sort().join(',');
    let name = this.names.get(key);
    if (name === undefined) {
      name = `search_${this.names.size}`;
      this.names.set(key, name);
      this.emit(name, essentialPatterns(patterns));
    }
    return name;
  }

  private get(i: number, type: binaryen.Type = I32): X { return this.m.local.get(i, type); }
  private k(v: number): X { return this.m.i32.const(v | 0); }

  private emit(name: string, patterns: Uint8Array[]): void {
    const m = this.m;
    const minLen = Math.min(...patterns.map((p) => p.length));
    const single = patterns.length === 1;
    const scan = single ? this.singleScan(patterns[0]!) : this.multiScan(patterns, minLen);
    // Far enough from the memory's end for the scan's over-reads? (64-bit: 65536 pages is 2^32 bytes.)
    const roomy = m.i64.le_u(
      m.i64.add(m.i64.extend_u(this.get(END)), m.i64.const(BigInt(OVERREAD))),
      m.i64.shl(m.i64.extend_u(m.memory.size('mem')), m.i64.const(16n)));
    const body = m.block(null, [
      // Too short a region for the shortest pattern (or an empty one): nothing to find.
      m.if(m.i32.le_u(this.get(END), this.get(START)), m.return(this.k(0))),
      m.if(m.i32.lt_u(m.i32.sub(this.get(END), this.get(START)), this.k(minLen)), m.return(this.k(0))),
      m.local.set(LAST, m.i32.sub(this.get(END), this.k(minLen))),
      m.if(roomy, scan, this.plainScan(patterns, minLen)),
      m.return(this.k(0)),
    ]);
    m.addFunction(name, binaryen.createType([I32, I32]), I32, [I32, I32, I32, I32, I32, V128], body);
  }

  /**
   * The block loop shared by both scans: AT walks the region 16 positions at a time; `prefilter`
   * leaves in V a vector whose non-zero lanes are candidates; `verify` looks at MASK (one bit per
   * candidate position, those past LAST already cleared) and returns 1 on a match.
   */
  private blockLoop(id: string, prefilter: X, candidates: X, verify: X): X {
    const m = this.m;
    const left = () => m.i32.sub(this.get(LAST), this.get(AT));   // positions left in this block, minus one
    return m.block(null, [
      m.local.set(AT, this.get(START)),
      m.loop(`${id}_blocks`, m.block(null, [
        m.local.set(V, prefilter),
        m.if(m.v128.any_true(this.get(V, V128)), m.block(null, [
          m.local.set(MASK, candidates),
          m.if(m.i32.lt_u(left(), this.k(15)),
            m.local.set(MASK, m.i32.and(this.get(MASK), m.i32.sub(m.i32.shl(this.k(2), left()), this.k(1))))),
          verify,
        ])),
        m.local.set(AT, m.i32.add(this.get(AT), this.k(16))),
        m.br(`${id}_blocks`, m.i32.le_u(this.get(AT), this.get(LAST))),
      ])),
    ]);
  }

  /** One pattern: first and last byte compared at 16 positions at once, then the rest verified. */
  private singleScan(p: Uint8Array): X {
    const m = this.m;
    const n = p.length;
    const splat = (b: number) => m.v128.const(new Array(16).fill(b));
    const firstEq = m.i8x16.eq(m.v128.load(0, 1, this.get(AT)), splat(p[0]!));
    const prefilter = n === 1 ? firstEq : m.v128.and(firstEq, m.i8x16.eq(m.v128.load(n - 1, 1, this.get(AT)), splat(p[n - 1]!)));
    const candidates = m.i8x16.bitmask(this.get(V, V128));
    // First and last byte are all there is to a pattern of one or two bytes.
    const verify = n <= 2
      ? m.if(this.get(MASK), m.return(this.k(1)))
      : this.eachBit('single', MASK, m.if(this.matchesHere(p), m.return(this.k(1))));
    return this.blockLoop('single', prefilter, candidates, verify);
  }

  /**
   * Several patterns: nibble-table fingerprints per bucket, then the bucket's patterns verified;
   * `onCandidate(p)` is what a candidate position Q does for pattern p (default: return 1 if p is there).
   */
  private multiScan(patterns: Uint8Array[], minLen: number,
    onCandidate: (p: Uint8Array) => X = (p) => this.m.if(this.fitsAndMatches(p, minLen), this.m.return(this.k(1)))): X {
    const m = this.m;
    const buckets = bucketsOf(patterns);
    const fingerprint = Math.min(FINGERPRINT, Math.max(...patterns.map((p) => p.length)));
    const { lo, hi } = teddyTables(buckets, fingerprint);
    const nibbles = () => m.v128.const(new Array(16).fill(15));
    let prefilter: X | undefined;
    for (let k = 0; k < fingerprint; k++) {
      const bytes = () => m.v128.load(k, 1, this.get(AT));
      const hits = m.v128.and(
        m.i8x16.swizzle(m.v128.const([...lo[k]!]), m.v128.and(bytes(), nibbles())),
        m.i8x16.swizzle(m.v128.const([...hi[k]!]), m.i8x16.shr_u(bytes(), this.k(4))));
      prefilter = prefilter === undefined ? hits : m.v128.and(prefilter, hits);
    }
    const zero = () => m.v128.const(new Array(16).fill(0));
    const candidates = m.i8x16.bitmask(m.i8x16.ne(this.get(V, V128), zero()));
    const verify = m.block(null, buckets.map((bucket, b) => m.block(null, [
      m.local.set(BM, m.i32.and(this.get(MASK),
        m.i8x16.bitmask(m.i8x16.ne(m.v128.and(this.get(V, V128), m.v128.const(new Array(16).fill(1 << b))), zero())))),
      this.eachBit(`bucket${b}`, BM, m.block(null, bucket.map(onCandidate))),
    ])));
    return this.blockLoop('multi', prefilter!, candidates, verify);
  }

  /** Byte by byte, every position, every pattern: for regions at the very end of the memory. */
  private plainScan(patterns: Uint8Array[], minLen: number,
    onCandidate: (p: Uint8Array) => X = (p) => this.m.if(this.fitsAndMatches(p, minLen), this.m.return(this.k(1)))): X {
    const m = this.m;
    return m.block(null, [
      m.local.set(Q, this.get(START)),
      m.loop('plain', m.block(null, [
        ...patterns.map(onCandidate),
        m.local.set(Q, m.i32.add(this.get(Q), this.k(1))),
        m.br('plain', m.i32.le_u(this.get(Q), this.get(LAST))),
      ])),
    ]);
  }

  /** For each set bit j of local `bits` (cleared as it goes): Q = AT + j, then `body`. */
  private eachBit(id: string, bits: number, body: X): X {
    const m = this.m;
    return m.block(`${id}_done`, [m.loop(`${id}_bits`, m.block(null, [
      m.br(`${id}_done`, m.i32.eqz(this.get(bits))),
      m.local.set(Q, m.i32.add(this.get(AT), m.i32.ctz(this.get(bits)))),
      body,
      m.local.set(bits, m.i32.and(this.get(bits), m.i32.sub(this.get(bits), this.k(1)))),
      m.br(`${id}_bits`),
    ]))]);
  }

  /** Pattern p lies whole inside [Q, END) and matches there (Q <= LAST, so patterns of minLen bytes fit). */
  private fitsAndMatches(p: Uint8Array, minLen: number): X {
    const m = this.m;
    if (p.length === minLen) return this.matchesHere(p);
    // END - Q cannot wrap: Q < END.
    return m.if(m.i32.le_u(this.k(p.length), m.i32.sub(this.get(END), this.get(Q))), this.matchesHere(p), this.k(0));
  }

  /**
   * Whether memory [Q, Q + p.length) equals p: little-endian constant compares of 8 bytes (the
   * last chunk overlapping the one before), or 4, 2, 1 for short patterns. Short-circuits every 16 bytes.
   */
  private matchesHere(p: Uint8Array): X {
    const m = this.m;
    const n = p.length;
    const size = n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
    const offsets: number[] = [];
    for (let off = 0; off + size <= n; off += size) offsets.push(off);
    if (offsets[offsets.length - 1]! + size < n) offsets.push(n - size);
    const compare = (off: number): X => {
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(p[off + i]!);
      const ptr = m.local.get(Q, I32);
      switch (size) {
        case 8: return m.i64.eq(m.i64.load(off, 1, ptr), m.i64.const(BigInt.asIntN(64, v)));
        case 4: return m.i32.eq(m.i32.load(off, 1, ptr), this.k(Number(v)));
        case 2: return m.i32.eq(m.i32.load16_u(off, 1, ptr), this.k(Number(v)));
        default: return m.i32.eq(m.i32.load8_u(off, 1, ptr), this.k(Number(v)));
      }
    };
    // Pairs of compares joined without a branch; pairs chained with short-circuit ifs.
    const pairs: X[] = [];
    for (let i = 0; i < offsets.length; i += 2) {
      pairs.push(i + 1 < offsets.length ? m.i32.and(compare(offsets[i]!), compare(offsets[i + 1]!)) : compare(offsets[i]!));
    }
    return pairs.reduceRight((rest, pair) => m.if(pair, rest, this.k(0)));
  }
}
