/**
 * Random IR programs and packets for differential tests (reference interpreter against the
 * WebAssembly backend). Programs come from a small seeded generator rather than fast-check
 * combinators because their shape depends on context (loop registers are never written in
 * their loop body, `break` only inside `for`, `exit` only inside its block); fast-check
 * drives the seed, and failures print the program.
 *
 * Every node kind appears, with the values that find bugs: zero divisors, shift counts >= 32,
 * loads at offsets near the end of the packet and near 2^32, fuel from 0 to a few dozen,
 * memory indices beyond the memory size, and fields on every supported link type.
 * Every generated program passes validateProgram (lang/ir/validate.ts).
 *
 * Externs are off by default; with `externs: true` programs call extern #0, FAKE_EXTERN, whose
 * deterministic implementation is `fakeExtern` (pass it as the interpreter's `callExtern`).
 */
import fc from 'fast-check';
import type { BinOp, Expr, Extern, Program, RelOp, Stmt } from '../../lang/ir/ir.js';
import { FIELD_NAMES, type FieldName } from '../../lang/ir/fields.js';
import { linkTypeInfo } from '../../lang/ir/linktypes.js';

export const LINK_TYPES_UNDER_TEST = [1, 101, 113, 276, 0, 108, 228, 229];
const BIN_OPS: BinOp[] = ['add', 'sub', 'mul', 'div', 'mod', 'and', 'or', 'xor', 'shl', 'shr', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];
const REL_OPS: RelOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];
const SPECIAL = [0, 1, 2, 3, 4, 7, 8, 14, 31, 32, 33, 64, 255, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const DATA_REGS = 8;   // R[0..8) are written freely; R[8..12) belong to loops

class Rng {
  constructor(private s: number) {}
  next(): number {   // mulberry32
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  chance(p: number): boolean { return this.next() < p; }
}

interface Ctx { depth: number; loopRegs: number[]; inFor: boolean; labels: number[] }

export interface GenOptions {
  /** DLT the program's fields are for; default: one of LINK_TYPES_UNDER_TEST. */
  linkType?: number;
  /** Power of two; default: one of 1, 2, 16, 1024. */
  memoryCells?: number;
  /** Expression nesting limit (statements nest at most maxDepth - 1); default 4. */
  maxDepth?: number;
  /** Let programs call extern #0 (FAKE_EXTERN); default false. */
  externs?: boolean;
}

/** The extern programs call when generated with `externs: true`. */
export const FAKE_EXTERN: Extern = { name: 'test.mix', config: [] };

/**
 * FAKE_EXTERN's implementation, deterministic and easy to mirror in another backend:
 * h = 7 + id; for each argument a: h = h * 31 + a (mod 2^32); result h ^ wirelen.
 */
export function fakeExtern(id: number, args: number[], _packet: Uint8Array, wirelen: number): number {
  let h = (7 + id) >>> 0;
  for (const a of args) h = (Math.imul(h, 31) + a) >>> 0;
  return (h ^ wirelen) >>> 0;
}

class ProgramGen {
  private nextLabel = 0;
  private readonly fields: FieldName[];
  /** Host-function state words the program may use (S[0..stateWords)). */
  stateWords = 0;
  constructor(private readonly r: Rng, private readonly linkType: number, readonly locals: number,
    private readonly maxDepth = 4, private readonly externs = false) {
    const info = linkTypeInfo(linkType)!;
    this.fields = FIELD_NAMES.filter((f) => info.ethertype !== undefined || f !== 'link.type');
  }

  constant(): number {
    return this.r.chance(0.6) ? this.r.pick(SPECIAL) : this.r.int(2 ** 32) >>> 0;
  }

  /**
   * A constant, or the same value hidden behind `v | 0` so that the backend cannot see it is
   * constant and takes its general path (the unoptimized module keeps it hidden).
   */
  maybeOpaque(v: number): Expr {
    const k: Expr = { k: 'const', v };
    return this.r.chance(0.5) ? k : { k: 'bin', op: 'or', a: k, b: { k: 'const', v: 0 } };
  }

  offset(depth: number): Expr {
    const r = this.r;
    switch (r.int(6)) {
      case 0: return this.maybeOpaque(r.int(80));
      case 1: return this.maybeOpaque(r.pick([0xffffffff, 0xfffffffe, 0xfffffffc, 0x80000000, 1000]));
      case 2: return { k: 'bin', op: 'sub', a: { k: 'meta', m: 'caplen' }, b: { k: 'const', v: r.int(6) } };
      case 3: if (depth < this.maxDepth) return this.expr(depth + 1);
        return { k: 'const', v: r.int(60) };
      default: return { k: 'const', v: r.int(60) };
    }
  }

  expr(depth: number): Expr {
    const r = this.r;
    const leaf = depth >= this.maxDepth || r.chance(0.3);
    if (leaf) {
      switch (r.int(7)) {
        case 0: case 1: return { k: 'const', v: this.constant() };
        case 2: return { k: 'reg', n: r.int(DATA_REGS + 4) };
        case 3: return this.locals ? { k: 'local', n: r.int(this.locals) } : { k: 'const', v: 1 };
        case 4: return r.chance(0.3) && this.stateWords ? this.stateWord(depth)
          : { k: 'meta', m: r.pick(['caplen', 'wirelen', 'caplen', 'wirelen', 'tssec', 'tsfrac'] as const) };
        case 5: return { k: 'field', name: r.pick(this.fields), ...(r.chance(0.2) ? { shift: r.pick([4, 8]) } : {}) };
        default: return { k: 'load', off: this.offset(depth), size: r.pick([1, 2, 4] as const) };
      }
    }
    const d = depth + 1;
    switch (r.int(this.externs ? 13 : 12)) {
      case 0: case 1: case 2: {
        const op = r.pick(BIN_OPS);
        // Divisors and shift counts are often small or zero so that guards are exercised.
        const b = (op === 'div' || op === 'mod' || op === 'shl' || op === 'shr') && r.chance(0.5)
          ? this.maybeOpaque(r.pick([0, 1, 3, 31, 32, 33, 0xffffffff])) : this.expr(d);
        return { k: 'bin', op, a: this.expr(d), b };
      }
      case 3: return { k: 'mem', index: this.expr(d) };
      case 4: return r.pick([{ k: 'neg', a: this.expr(d) }, { k: 'bnot', a: this.expr(d) }, { k: 'lnot', a: this.expr(d) }] as Expr[]);
      case 5: return { k: 'land', a: this.expr(d), b: this.expr(d) };
      case 6: return { k: 'lor', a: this.expr(d), b: this.expr(d) };
      case 7: return { k: 'cond', c: this.expr(d), a: this.expr(d), b: this.expr(d) };
      case 11: if (this.externs) {
        return { k: 'extern', id: 0, args: Array.from({ length: r.int(3) }, () => this.expr(d)) };
      }
        return { k: 'field', name: r.pick(this.fields) };
      case 8: return {
        // Offsets near the end of the packet too, so that off + len lands on both sides of caplen.
        k: 'hash', off: r.chance(0.3) ? { k: 'bin', op: 'sub', a: { k: 'meta', m: 'caplen' }, b: { k: 'const', v: r.int(8) } }
          : r.chance(0.6) ? { k: 'const', v: r.int(40) } : this.expr(d),
        len: r.chance(0.7) ? { k: 'const', v: r.int(24) } : this.expr(d),
        range: r.chance(0.7) ? { k: 'const', v: r.pick([0, 1, 7, 1024, 0xffffffff]) } : this.expr(d),
      };
      case 9: return r.chance(0.3) ? (r.chance(0.6) ? this.inset(d) : this.lookup(d)) : { k: 'load', off: this.offset(d), size: r.pick([1, 2, 4] as const) };
      default: return r.chance(0.3) ? this.search(d) : { k: 'field', name: r.pick(this.fields) };
    }
  }

  /**
   * Set membership in each of the backend's forms (a few values, values within 64 of each
   * other, a hashed table), over values that often fall in the set: small ones, the special
   * constants, and neighbours of the set's own values.
   */
  inset(d: number): Expr {
    const r = this.r;
    const size = r.pick([0, 1, 3, 6, 7, 12, 40, 300]);
    const lo = r.pick([0, 1, 60, 0x7fffffc0, 0xffffffc0, this.constant()]);
    const value = (): number => r.pick([
      () => r.int(256), () => this.constant(), () => (lo + r.int(64)) >>> 0, () => r.int(2 ** 32) >>> 0,
      () => (r.int(256) << 24) >>> 0,
    ])();
    const set = [...new Set(Array.from({ length: size }, value))].sort((a, b) => a - b);
    const e = r.pick([
      () => this.expr(d), () => ({ k: 'load', off: this.offset(d), size: 1 }) as Expr,
      () => ({ k: 'bin', op: 'add', a: this.expr(d + 1), b: { k: 'const', v: lo } }) as Expr,
    ])();
    return { k: 'inset', e, set };
  }

  /**
   * A table lookup in each of the backend's forms: a few keys, a run of consecutive keys whose
   * values step evenly (one subtraction), other runs, and hashed tables; keys as `inset`'s sets.
   */
  lookup(d: number): Expr {
    const r = this.r;
    const set = (this.inset(d) as Extract<Expr, { k: 'inset' }>);
    let keys = set.set;
    if (r.chance(0.4)) {
      const lo = r.pick([0, 1, 1000, 0xffffff00, this.constant()]);
      keys = Array.from({ length: r.pick([2, 4, 5, 50, 300]) }, (_, j) => lo + j).filter((k) => k <= 0xffffffff);
    }
    const v0 = r.pick([0, 7, 0xfffffff0, this.constant()]), step = r.pick([0, 1, 10, 0xffffffff]);
    const values = keys.map((_, j) => (r.chance(0.8) ? v0 + Math.imul(j, step) : r.int(2 ** 32)) >>> 0);
    return { k: 'lookup', e: set.e, keys, values };
  }

  /** S[i], or S[i + at] with `at` often in range (and sometimes not: a fault). */
  stateWord(depth: number): Expr {
    const r = this.r;
    if (r.chance(0.6)) return { k: 'state', i: r.int(this.stateWords) };
    return { k: 'state', i: r.int(this.stateWords), at: this.stateOffset(depth) };
  }

  stateOffset(depth: number): Expr {
    const r = this.r;
    return r.chance(0.7) ? this.maybeOpaque(r.pick([0, 1, 2, 0xffffffff])) : this.expr(depth + 1);
  }

  /**
   * A string search over a region near the packet's edges, for 1 to 3 short patterns of bytes
   * that shaped packets often contain (so that both outcomes occur).
   */
  search(d: number): Expr {
    const r = this.r;
    const byte = () => r.pick([0x00, 0x45, 0x06, 0x50, 0x40, 0x0a, r.int(256)]);
    const patterns = Array.from({ length: 1 + r.int(3) }, () => Uint8Array.from({ length: 1 + r.int(r.chance(0.2) ? 20 : 3) }, byte));
    const bound = (): Expr => r.chance(0.6) ? this.maybeOpaque(r.pick([0, 1, 14, 20, 34, 60, 0xffffffff])) : this.offset(d);
    return { k: 'search', from: bound(), to: bound(), patterns };
  }

  stmt(ctx: Ctx): Stmt {
    const r = this.r;
    const d = { ...ctx, depth: ctx.depth + 1 };
    const simple = ctx.depth >= this.maxDepth - 1 || r.chance(0.45);
    if (simple) {
      const choices: (() => Stmt)[] = [
        () => ({ k: 'setreg', n: r.int(DATA_REGS), value: this.expr(ctx.depth) }),
        () => ({ k: 'setmem', index: this.expr(ctx.depth), value: this.expr(ctx.depth) }),
        () => (this.locals ? { k: 'setlocal', n: r.int(this.locals), value: this.expr(ctx.depth) } : { k: 'eval', e: this.expr(ctx.depth) }),
        () => (this.stateWords ? { k: 'setstate', i: r.int(this.stateWords), ...(r.chance(0.4) ? { at: this.stateOffset(ctx.depth) } : {}), value: this.expr(ctx.depth) }
          : { k: 'eval', e: this.expr(ctx.depth) }),
        () => ({ k: 'eval', e: this.expr(ctx.depth) }),
        () => ({ k: 'return', value: this.expr(ctx.depth) }),
      ];
      if (ctx.inFor) choices.push(() => ({ k: 'break' }));
      if (ctx.labels.length) choices.push(() => ({ k: 'exit', label: r.pick(ctx.labels) }));
      return r.pick(choices)();
    }
    switch (r.int(4)) {
      case 0: return { k: 'seq', body: Array.from({ length: 1 + r.int(4) }, () => this.stmt(d)) };
      case 1: return { k: 'if', cond: this.expr(ctx.depth), then: this.stmt(d), ...(r.chance(0.5) ? { else: this.stmt(d) } : {}) };
      case 2: {
        const free = [8, 9, 10, 11].filter((x) => !ctx.loopRegs.includes(x));
        if (!free.length) return this.stmt({ ...d, depth: 99 });
        const reg = r.pick(free);
        const step = r.pick([1, 1, 2, 0xffffffff, 0]);
        return {
          k: 'for', reg, init: r.chance(0.7) ? { k: 'const', v: r.int(4) } : this.expr(ctx.depth),
          cmp: r.pick(REL_OPS), limit: r.chance(0.6) ? { k: 'const', v: r.int(8) } : this.expr(ctx.depth), step,
          body: this.stmt({ ...d, loopRegs: [...ctx.loopRegs, reg], inFor: true }),
        };
      }
      default: {
        const label = this.nextLabel++;
        return { k: 'block', label, body: this.stmt({ ...d, labels: [...ctx.labels, label] }), ...(r.chance(0.5) ? { catchFaults: true } : {}) };
      }
    }
  }
}

export function genProgram(seed: number, opts: GenOptions = {}): Program {
  const r = new Rng(seed);
  const linkType = opts.linkType ?? r.pick(LINK_TYPES_UNDER_TEST);
  const locals = r.int(4);
  const g = new ProgramGen(r, linkType, locals, Math.max(1, opts.maxDepth ?? 4), opts.externs ?? false);
  g.stateWords = r.pick([0, 1, 3]);
  const stmts = Array.from({ length: 1 + r.int(5) }, () => g.stmt({ depth: 0, loopRegs: [], inFor: false, labels: [] }));
  // Most programs end with a computed result, so that results (not only state) are compared.
  if (r.chance(0.8)) stmts.push({ k: 'return', value: g.expr(1) });
  const body: Stmt = { k: 'seq', body: stmts };
  return {
    body, linkType, registers: 12, memoryCells: opts.memoryCells ?? r.pick([1, 2, 16, 1024]), locals, stateWords: g.stateWords,
    externs: opts.externs ? [FAKE_EXTERN] : [],
    // Small fuel runs out often; 300 lets most loops finish (step 0 loops still run dry).
    fuel: r.chance(0.5) ? 1 + r.int(20) : r.pick([0, 40, 300]),
  };
}

/** Random programs (seeded: fast-check drives the seed and reports it; no structural shrinking). */
export const arbProgram = (opts: GenOptions = {}): fc.Arbitrary<Program> =>
  fc.integer({ min: 0, max: 0x7fffffff }).map((seed) => genProgram(seed, opts));

/** A packet shaped like Ethernet/IPv4 or IPv6/TCP or UDP (for a link type), randomly mutated and truncated. */
function shapedPacket(r: Rng, linkType: number): Uint8Array {
  const l3 = linkTypeInfo(linkType)?.l3 ?? 14;
  const v6 = r.chance(0.3);
  const proto = r.pick([6, 17, 1, 58, r.int(256)]);
  const ip = v6
    ? [0x60, 0, 0, 0, 0, 40, proto, 64, ...Array.from({ length: 32 }, () => r.int(256))]
    : [0x40 | r.pick([5, 5, 6, 4, 15]), 0, 0, 60, 0, 1, r.pick([0, 0x20, 0x40]), r.pick([0, 0, 5]), 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
  const l4 = [0, r.pick([80, 53, 22]), 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0];
  const link = Array.from({ length: l3 }, () => r.int(256));
  if (linkType === 1) { link[12] = v6 ? 0x86 : 0x08; link[13] = v6 ? 0xdd : 0x00; }
  const all = Uint8Array.from([...link, ...ip, ...(v6 ? [] : [0, 0, 0, 0]), ...l4, ...Array.from({ length: r.int(30) }, () => r.int(256))]);
  for (let i = r.int(4); i > 0; i--) all[r.int(all.length)] = r.int(256);
  return all.subarray(0, r.chance(0.25) ? r.int(all.length + 1) : all.length);
}

export interface TestPacket { bytes: Uint8Array; wirelen: number; /** [seconds, sub-second units] */ ts?: [number, number] }

function genPacket(r: Rng, linkType: number, maxLen: number): TestPacket {
  const len = r.chance(0.3) ? r.int(4) : r.int(70);   // empty and tiny packets catch missing length checks
  const all = r.chance(0.7) ? shapedPacket(r, linkType) : Uint8Array.from({ length: len }, () => r.int(256));
  const bytes = all.subarray(0, maxLen);
  return { bytes, wirelen: bytes.length + (r.chance(0.3) ? r.int(1500) : 0), ts: [r.int(2 ** 32), r.int(1_000_000)] };
}

export function genPackets(seed: number, linkType: number, count: number, maxLen = Infinity): TestPacket[] {
  const r = new Rng(seed ^ 0x5bd1e995);
  return Array.from({ length: count }, () => genPacket(r, linkType, maxLen));
}

/**
 * One packet: empty, tiny, random bytes, or shaped like IPv4/IPv6 with TCP/UDP/ICMP behind the
 * link header of `linkType` (default EN10MB), mutated and often truncated; at most `maxLen` bytes.
 */
export const arbPacket = (opts: { maxLen?: number; linkType?: number } = {}): fc.Arbitrary<TestPacket> =>
  fc.integer().map((seed) => genPacket(new Rng(seed ^ 0x5bd1e995), opts.linkType ?? 1, opts.maxLen ?? Infinity));
