/**
 * The property behind the backend: for random programs and random packet sequences, compiled
 * WebAssembly and the reference interpreter agree on every result, on R[] and M[] after every
 * packet sequence, and on the fuel-exhaustion count. Optimized and unoptimized modules both.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { printProgram } from '../../lang/ir/print.js';
import { compileProgram } from '../../vm/compile.js';
import { toRecords as toRecordsWith, type RecordPacket } from '../support/records.js';
import { genPackets, genProgram, LINK_TYPES_UNDER_TEST } from '../ir/arbitrary.js';
import { FIELD_NAMES } from '../../lang/ir/fields.js';
import { linkTypeInfo } from '../../lang/ir/linktypes.js';
import type { Expr, Program } from '../../lang/ir/ir.js';

const RUNS = Number(process.env.FPLC_FUZZ_RUNS ?? 150);

// Non-zero timestamps: a load that wrongly reads past a packet sees these, not zeros.
const toRecords = (packets: RecordPacket[]): Uint8Array => toRecordsWith(packets, () => [0xa5a5a5a5, 0x5a5a5a5a]);

describe('compiled WebAssembly = reference interpreter', () => {
  it.each([true, false])('on random programs and packets (optimize=%s)', async (optimize) => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer(), async (seed, pseed) => {
      const program = genProgram(seed);
      const packets = genPackets(pseed, program.linkType, 24);
      const state = newState(program);
      const expected = packets.map((p) => runPacket(program, state, p.bytes, p.wirelen, p.ts ? { timestamp: p.ts } : {}).result);
      const f = await compileProgram(program, { optimize });
      const got = f.runRecords(toRecords(packets));
      const ctx = `\n${printProgram(program)}`;
      expect([...got], ctx).toEqual(expected);
      expect([...f.registers], ctx).toEqual([...state.registers]);
      expect([...f.memory], ctx).toEqual([...state.memory]);
      expect([...f.state], ctx).toEqual([...state.state]);
      expect(f.fuelExhausted, ctx).toBe(state.fuelExhausted);
    }), { numRuns: RUNS });
  }, 120_000);

  // Length checks the backend leaves out must be implied by earlier ones on every path:
  // chains of header fields over every truncation of real-looking packets.
  it('on field chains over every truncation of a packet', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...LINK_TYPES_UNDER_TEST), fc.array(fc.nat(FIELD_NAMES.length - 1), { minLength: 2, maxLength: 6 }),
      fc.integer(), fc.boolean(),
      async (linkType, picks, pseed, branchy) => {
        const names = picks.map((i) => FIELD_NAMES[i]!).filter((n) => n !== 'link.type' || linkTypeInfo(linkType)!.ethertype !== undefined);
        if (names.length < 2) return;
        const f = (i: number): Expr => ({ k: 'field', name: names[i % names.length]! });
        const xor = names.slice(1).reduce<Expr>((acc, _n, i) => ({ k: 'bin', op: 'xor', a: acc, b: f(i + 1) }), f(0));
        const body = branchy
          ? { k: 'if' as const, cond: { k: 'bin' as const, op: 'lt' as const, a: f(0), b: { k: 'const' as const, v: 100 } },
              then: { k: 'return' as const, value: f(1) }, else: { k: 'return' as const, value: xor } }
          : { k: 'return' as const, value: { k: 'bin' as const, op: 'add' as const, a: xor, b: { k: 'const' as const, v: 1 } } };
        const program: Program = { body, linkType, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
        const full = genPackets(pseed, linkType, 3).filter((p) => p.bytes.length > 0);
        const packets = full.flatMap((p) => Array.from({ length: p.bytes.length + 1 }, (_, n) => ({ bytes: p.bytes.subarray(0, n), wirelen: p.wirelen })));
        const state = newState(program);
        const expected = packets.map((p) => runPacket(program, state, p.bytes, p.wirelen).result);
        const compiled = await compileProgram(program);
        expect([...compiled.runRecords(toRecords(packets))], printProgram(program)).toEqual(expected);
      }), { numRuns: Math.ceil(RUNS / 3) });
  }, 120_000);
});
