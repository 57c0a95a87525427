/**
 * The backend's set membership (codegen/wasm/inset.ts) against the reference interpreter, in
 * each of its forms — a few values, values within 64 of each other, a hashed table — on values
 * in the set, next to it and anywhere; shared lookup functions; and the hash planner's promise
 * (every value lands in its bucket, buckets stay small).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { load, type Expr, type Program } from '../../lang/ir/ir.js';
import { compileProgram } from '../../vm/compile.js';
import { hashOf, planHash } from '../../codegen/wasm/inset.js';
import { compileWasm } from '../../codegen/wasm/index.js';
import { toRecords } from '../support/records.js';

const u32 = fc.nat({ max: 0xffffffff });

/** Sets in each shape the backend lowers differently. */
const arbSet = fc.oneof(
  fc.uniqueArray(u32, { maxLength: 6 }),
  fc.tuple(u32, fc.uniqueArray(fc.nat(63), { minLength: 7, maxLength: 40 })).map(([lo, ds]) => ds.map((d) => (Math.min(lo, 0xffffffff - 63) + d) >>> 0)),
  fc.uniqueArray(u32, { minLength: 7, maxLength: 600 }),
  fc.uniqueArray(fc.nat(70000), { minLength: 7, maxLength: 300 }),
  fc.uniqueArray(fc.nat(255).map((b) => (b << 24) >>> 0), { minLength: 7, maxLength: 100 }),   // high bits only
).map((s) => [...new Set(s)].sort((a, b) => a - b));

/** Probes: members, their neighbours, the extremes, random values. */
function probesFor(set: readonly number[], extra: readonly number[]): number[] {
  const near = set.slice(0, 40).flatMap((v) => [v, (v + 1) >>> 0, (v - 1) >>> 0, (v ^ 0x80000000) >>> 0]);
  return [...near, 0, 1, 0xffffffff, 0x80000000, ...extra];
}

describe('inset in WebAssembly = reference interpreter', () => {
  it('on every form of set, for members, neighbours and random values', async () => {
    await fc.assert(fc.asyncProperty(arbSet, fc.array(u32, { maxLength: 20 }), fc.boolean(), async (set, extra, optimize) => {
      // The value comes from the packet, so nothing is folded at compile time.
      const program: Program = { body: { k: 'return', value: { k: 'inset', e: load(0, 4), set } }, linkType: 1,
        registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
      const probes = probesFor(set, extra);
      const packets = probes.map((v) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v); return { bytes: b, wirelen: 4 }; });
      packets.push({ bytes: new Uint8Array(3), wirelen: 4 });   // the operand faults
      const expected = packets.map((p) => runPacket(program, newState(program), p.bytes, p.wirelen).result);
      const f = await compileProgram(program, { optimize });
      expect([...f.runRecords(toRecords(packets))]).toEqual(expected);
      expect(expected.filter((r) => r === 1).length).toBeGreaterThanOrEqual(Math.min(set.length, 40));
    }), { numRuns: 60 });
  }, 60_000);

  it('shares one lookup function between the tests of one set', () => {
    const set = Array.from({ length: 500 }, (_, i) => (0x0a000001 + i * 256) >>> 0);
    const test = (off: number): Expr => ({ k: 'inset', e: load(off, 4), set });
    const program: Program = { body: { k: 'return', value: { k: 'lor', a: test(26), b: { k: 'lor', a: test(30), b: test(38) } } },
      linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
    const one = compileWasm({ ...program, body: { k: 'return', value: test(26) } }, { optimize: false }).wasm.length;
    const three = compileWasm(program, { optimize: false }).wasm.length;
    expect(three).toBeLessThan(one + 400);
  });
});

describe('planHash', () => {
  it('puts every value in its bucket and keeps buckets small', () => {
    fc.assert(fc.property(fc.uniqueArray(u32, { minLength: 7, maxLength: 3000 }), (values) => {
      const plan = planHash(values);
      expect(plan.buckets).toHaveLength(1 << plan.bits);
      expect(plan.buckets.flat().sort((a, b) => a - b)).toEqual([...values].sort((a, b) => a - b));
      plan.buckets.forEach((b, h) => b.forEach((v) => expect(hashOf(v, plan.mul, plan.bits)).toBe(h)));
      expect(Math.max(...plan.buckets.map((b) => b.length))).toBeLessThanOrEqual(12);
    }), { numRuns: 100 });
  });
});
