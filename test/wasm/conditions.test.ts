/**
 * Conditions compiled as jumping code (`if` statements and `?:`, through &&, || and !), with
 * the leaf forms the backend treats specially: a masked load tested for non-zero on raw bytes
 * (`x & m`), and a range `x >= lo && x <= hi` fused into one unsigned compare. Compiled and
 * interpreted results agree on packets whose bytes often make the tests true, at every
 * truncation (where loads fault, and a fault in a condition ends the packet with 0), also as a
 * filter's first statement, where lengthguard.ts tests the length once up front.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { bin, c, land, lnot, lor, ret, seq, type Expr, type Program, type Stmt } from '../../lang/ir/ir.js';
import { printProgram } from '../../lang/ir/print.js';
import { compileProgram } from '../../vm/compile.js';
import { toRecords } from '../support/records.js';

const RUNS = Number(process.env.FPLC_FUZZ_RUNS ?? 150);
const load = (off: number, size: 1 | 2 | 4): Expr => ({ k: 'load', off: c(off), size });
const be = (b: Uint8Array, off: number, size: number) => { let v = 0; for (let i = 0; i < size; i++) v = v * 256 + (b[off + i] ?? 0); return v >>> 0; };

type Leaf = { kind: 'eq' | 'masked' | 'range'; off: number; size: 1 | 2 | 4; mask: number; lo: number; hi: number };
type Tree = { leaf: Leaf } | { op: 'and' | 'or'; a: Tree; b: Tree } | { not: Tree };

const leafArb: fc.Arbitrary<Leaf> = fc.record({
  kind: fc.constantFrom('eq' as const, 'masked' as const, 'range' as const),
  off: fc.nat(20), size: fc.constantFrom(1 as const, 2 as const, 4 as const),
  mask: fc.constantFrom(0x1fff, 0xff00, 0x00ff, 0x0f, 0xffff0000, 0x80000000),
  lo: fc.integer({ min: -3, max: 3 }), hi: fc.integer({ min: -3, max: 3 }),
});
const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    leafArb.map((leaf) => ({ leaf })),
    fc.record({ op: fc.constantFrom('and' as const, 'or' as const), a: tie('tree'), b: tie('tree') }),
    tie('tree').map((t) => ({ not: t }))),
})).tree;

/** The tree as an IR condition; constants come from the packet so tests are often true. */
function toExpr(t: Tree, base: Uint8Array): Expr {
  if ('not' in t) return lnot(toExpr(t.not, base));
  if ('op' in t) return t.op === 'and' ? land(toExpr(t.a, base), toExpr(t.b, base)) : lor(toExpr(t.a, base), toExpr(t.b, base));
  const { kind, off, size, mask, lo, hi } = t.leaf;
  const x = load(off, size);
  const v = be(base, off, size);
  const m = size === 4 ? mask : mask & (size === 2 ? 0xffff : 0xff);
  switch (kind) {
    case 'eq': return bin('eq', x, c(v));
    case 'masked': return bin('and', x, c(m));
    case 'range': {
      // Both ends within 3 of the packet's own value, so every edge case is common; lo > hi is an empty range.
      const at = (d: number) => c(Math.min(Math.max(0, v + d), 2 ** (8 * size) - 1));
      return land(bin('ge', x, at(lo)), bin('le', x, at(hi)));
    }
  }
}

// Many zero bytes, so a masked load is zero or not depending on which bytes the mask covers.
const bytesArb = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 255 })), { minLength: 24, maxLength: 24 })
  .map((a) => Uint8Array.from(a));

describe('conditions as jumping code', () => {
  it('agree with the interpreter, in ?: and in if statements', async () => {
    await fc.assert(fc.asyncProperty(fc.array(treeArb, { minLength: 1, maxLength: 3 }), bytesArb, async (trees, base) => {
      const conds = trees.map((t) => toExpr(t, base));
      // The first condition picks the returned value; the others decide through if statements.
      const body: Stmt = seq(
        ...conds.slice(1).map((e, i): Stmt => ({ k: 'if', cond: e, then: ret(c(10 + i)), ...(i % 2 ? { else: { k: 'setreg', n: 0, value: c(i) } } : {}) })),
        ret({ k: 'cond', c: conds[0]!, a: c(1), b: c(2) }),
      );
      const program: Program = { body, linkType: 1, registers: 1, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
      const packets = Array.from({ length: 25 }, (_, n) => ({ bytes: base.subarray(0, n), wirelen: 24 }));
      const state = newState(program);
      const expected = packets.map((p) => runPacket(program, state, p.bytes, p.wirelen).result);
      const f = await compileProgram(program);
      expect([...f.runRecords(toRecords(packets))], printProgram(program)).toEqual(expected);
    }), { numRuns: RUNS });
  }, 120_000);

  it('agree with the interpreter as a filter\'s only statement, where one length test up front stands for the others', async () => {
    // `return C ? K : 0` first thing is the shape lengthguard.ts rewrites to `caplen >= N && C ? K : 0`.
    await fc.assert(fc.asyncProperty(treeArb, bytesArb, async (tree, base) => {
      const program: Program = { body: seq(ret({ k: 'cond', c: toExpr(tree, base), a: c(7), b: c(0) }), ret(c(0))),
        linkType: 1, registers: 1, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
      const packets = Array.from({ length: 25 }, (_, n) => ({ bytes: base.subarray(0, n), wirelen: 24 }));
      const state = newState(program);
      const expected = packets.map((p) => runPacket(program, state, p.bytes, p.wirelen).result);
      const f = await compileProgram(program);
      expect([...f.runRecords(toRecords(packets))], printProgram(program)).toEqual(expected);
    }), { numRuns: RUNS });
  }, 120_000);
});
