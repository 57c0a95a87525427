/**
 * IrHasher (lang/ir/equal.ts): structurally equal IR is equal and hashes alike, whatever the
 * objects; any change to a field, a constant, a byte of a pattern or a field's presence makes
 * it unequal. Checked against JSON strings (what regroup.ts compared before) on random programs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IrHasher } from '../../lang/ir/equal.js';
import { arbProgram } from './arbitrary.js';

/** A deep copy that shares no object with the original (byte arrays included). */
const copy = <T>(v: T): T => structuredClone(v);

describe('IrHasher', () => {
  it('finds copies equal, with equal hashes', () => {
    fc.assert(fc.property(arbProgram(), (p) => {
      const h = new IrHasher();
      const c = copy(p.body);
      expect(h.equal(p.body, c)).toBe(true);
      expect(h.hash(p.body)).toBe(h.hash(c));
    }), { numRuns: 200 });
  });

  it('agrees with a comparison of JSON strings on pairs of random programs and edited copies', () => {
    fc.assert(fc.property(arbProgram(), arbProgram(), fc.nat(), (p, q, pick) => {
      const h = new IrHasher();
      expect(h.equal(p.body, q.body)).toBe(JSON.stringify(p.body) === JSON.stringify(q.body));
      // Edit one numeric field somewhere in a copy: no longer equal.
      const edited = copy(p.body) as unknown;
      const numbers: { o: Record<string, unknown>; k: string }[] = [];
      const walk = (x: unknown): void => {
        if (!x || typeof x !== 'object' || ArrayBuffer.isView(x)) return;
        for (const [k, v] of Object.entries(x)) { if (typeof v === 'number') numbers.push({ o: x as Record<string, unknown>, k }); else walk(v); }
      };
      walk(edited);
      if (numbers.length === 0) return;
      const { o, k } = numbers[pick % numbers.length]!;
      o[k] = (o[k] as number) + 1;
      expect(h.equal(p.body, edited)).toBe(false);
    }), { numRuns: 200 });
  });

  it('tells apart byte patterns and missing fields', () => {
    const h = new IrHasher();
    const a = { k: 'search', patterns: [new Uint8Array([1, 2, 3])] };
    expect(h.equal(a, { k: 'search', patterns: [new Uint8Array([1, 2, 3])] })).toBe(true);
    expect(h.equal(a, { k: 'search', patterns: [new Uint8Array([1, 2, 4])] })).toBe(false);
    expect(h.equal({ k: 'if', cond: 1, then: 2 }, { k: 'if', cond: 1, then: 2, else: 3 })).toBe(false);
    expect(h.equal([1, 2], { 0: 1, 1: 2 })).toBe(false);
  });
});
