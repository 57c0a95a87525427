/**
 * The backend's set membership (codegen/wasm/inset.ts) against the reference interpreter, in
 * each of its forms — a few values, values within 64 of each other, a hashed table — on values
 * in the set, next to it and anywhere, with large sets as tables in memory and in code; the
 * same for `lookup`; shared lookup functions; and the hash planners' promises (every value
 * lands in its bucket or within its probe, buckets and probes stay short).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { load, type Expr, type Program } from '../../lang/ir/ir.js';
import { compileProgram } from '../../vm/compile.js';
import { hashOf, planHash } from '../../codegen/wasm/inset.js';
import { planTable } from '../../codegen/wasm/memtable.js';
import { compileWasm } from '../../codegen/wasm/index.js';
import { CompiledFilter } from '../../vm/filter.js';
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

/** The program compiled with its large sets as tables in memory (as compileProgram does) or in code (as a MAPI device does). */
async function compiled(program: Program, optimize: boolean, memoryTables: boolean): Promise<CompiledFilter> {
  return memoryTables ? compileProgram(program, { optimize }) : CompiledFilter.load(compileWasm(program, { optimize, memoryTables }).wasm);
}

/** Packets carrying each probe value at offset 0, and one too short to hold it (the operand faults). */
function probePackets(probes: readonly number[]) {
  const packets = probes.map((v) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v); return { bytes: b, wirelen: 4 }; });
  packets.push({ bytes: new Uint8Array(3), wirelen: 4 });
  return packets;
}

describe('inset in WebAssembly = reference interpreter', () => {
  it('on every form of set, for members, neighbours and random values', async () => {
    await fc.assert(fc.asyncProperty(arbSet, fc.array(u32, { maxLength: 20 }), fc.boolean(), fc.boolean(), async (set, extra, optimize, memoryTables) => {
      // The value comes from the packet, so nothing is folded at compile time.
      const program: Program = { body: { k: 'return', value: { k: 'inset', e: load(0, 4), set } }, linkType: 1,
        registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
      const packets = probePackets(probesFor(set, extra));
      const expected = packets.map((p) => runPacket(program, newState(program), p.bytes, p.wirelen).result);
      const f = await compiled(program, optimize, memoryTables);
      expect([...f.runRecords(toRecords(packets))]).toEqual(expected);
      expect(expected.filter((r) => r === 1).length).toBeGreaterThanOrEqual(Math.min(set.length, 40));
    }), { numRuns: 80 });
  }, 60_000);

  it('lookup: the value of each key, LOOKUP_MISS for others, tables in memory and in code', async () => {
    await fc.assert(fc.asyncProperty(arbSet, fc.array(u32, { maxLength: 20 }), fc.boolean(), fc.boolean(), fc.nat(1000), async (keys, extra, optimize, memoryTables, seed) => {
      const values = keys.map((k, i) => (seed % 3 === 0 ? i * 7 + seed : Math.imul(k, 2654435761) ^ seed) >>> 0);
      const program: Program = { body: { k: 'return', value: { k: 'lookup', e: load(0, 4), keys, values } }, linkType: 1,
        registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
      const packets = probePackets(probesFor(keys, extra));
      const expected = packets.map((p) => runPacket(program, newState(program), p.bytes, p.wirelen).result);
      const f = await compiled(program, optimize, memoryTables);
      expect([...f.runRecords(toRecords(packets))]).toEqual(expected);
    }), { numRuns: 80 });
  }, 60_000);

  it('places the table of a large set in memory after the layout, or in code', () => {
    const set = Array.from({ length: 500 }, (_, i) => (0x0a000001 + i * 4099) >>> 0);
    const program: Program = { body: { k: 'return', value: { k: 'inset', e: load(0, 4), set } }, linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
    const inMemory = compileWasm(program).meta;
    const inCode = compileWasm(program, { memoryTables: false }).meta;
    expect(inCode.tablesOff).toBeUndefined();
    expect(inMemory.tablesOff).toBe(inCode.pages * 65536);
    expect(inMemory.tablesBytes).toBeGreaterThanOrEqual(500 * 4);
    expect(inMemory.pages).toBe(inCode.pages + Math.ceil(inMemory.tablesBytes! / 65536));
  });

  it('uses a reserved tables area when the tables fit, and code when they do not, the memory the same size', async () => {
    const set = Array.from({ length: 500 }, (_, i) => (0x0a000001 + i * 4099) >>> 0);
    const program: Program = { body: { k: 'return', value: { k: 'inset', e: load(0, 4), set } }, linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
    const layoutPages = compileWasm(program, { memoryTables: false }).meta.pages;
    const roomy = compileWasm(program, { tablesReserve: 4 * 65536 });
    const tight = compileWasm(program, { tablesReserve: 0 });
    const forced = compileWasm(program, { tablesReserve: 4 * 65536, memoryTables: false });
    expect(roomy.meta.tablesOff).toBe(layoutPages * 65536);
    expect(tight.meta.tablesOff).toBeUndefined();
    expect(forced.meta.tablesOff).toBeUndefined();
    expect([roomy.meta.pages, tight.meta.pages, forced.meta.pages]).toEqual([layoutPages + 4, layoutPages, layoutPages + 4]);
    // Same verdicts whichever way, on values in and out of the set.
    const packets = [...set.slice(0, 50), ...Array.from({ length: 50 }, (_, i) => 0x0b000000 + i * 7919)].map((v) => ({ bytes: new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]), wirelen: 4 }));
    const verdicts = async (wasm: Uint8Array) => [...(await CompiledFilter.load(wasm)).runRecords(toRecords(packets))];
    const expected = await verdicts(compileWasm(program, { memoryTables: false }).wasm);
    for (const m of [roomy, tight, forced]) expect(await verdicts(m.wasm)).toEqual(expected);
    expect(expected.filter((v) => v !== 0).length).toBe(50);
    expect(() => compileWasm(program, { tablesReserve: 1000 })).toThrow(RangeError);
  });

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

describe('planTable', () => {
  it('finds every key within its probe from its hash slot, with its value, in few probes', () => {
    fc.assert(fc.property(fc.uniqueArray(u32, { minLength: 7, maxLength: 3000 }), (keys) => {
      const values = keys.map((_, i) => i);
      const plan = planTable(keys, values);
      expect(plan.keys.length).toBe((1 << plan.bits) + plan.probes - 1);
      keys.forEach((k, i) => {
        const h = hashOf(k, plan.mul, plan.bits);
        const at = plan.keys.subarray(h, h + plan.probes).indexOf(k);
        expect(at).toBeGreaterThanOrEqual(0);
        expect(plan.values![h + at]).toBe(values[i]);
      });
      expect(plan.probes).toBeLessThanOrEqual(6);
    }), { numRuns: 100 });
  });
});
