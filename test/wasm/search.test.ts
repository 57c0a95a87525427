/**
 * The `search` node: the compiled SIMD scans (codegen/wasm/search.ts) against the reference
 * interpreter's naive search and against Buffer.indexOf as an independent oracle, on packets
 * built to hurt: patterns planted at the very start and end of the region, straddling the
 * region's end and the captured length, over small alphabets (many overlapping partial
 * matches), patterns of 1 to 100 bytes, sets of 1 to 100 patterns.
 *
 * The region comes from the record timestamps (`search(tssec, tsfrac, …)`), so one compiled
 * module sees a different region per packet.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket, searchRegion } from '../../lang/ir/interp.js';
import type { Program } from '../../lang/ir/ir.js';
import { compileProgram } from '../../vm/compile.js';
import { essentialPatterns } from '../../codegen/wasm/search.js';
import { atMemoryEnd } from '../support/memory-end.js';
import { toRecords, type RecordPacket } from '../support/records.js';

const RUNS = Number(process.env.FPLC_FUZZ_RUNS ?? 150);

const regionSearch = (patterns: Uint8Array[]): Program => ({
  body: { k: 'return', value: { k: 'search', from: { k: 'meta', m: 'tssec' }, to: { k: 'meta', m: 'tsfrac' }, patterns } },
  linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0,
});

/** Independent of the interpreter: Buffer.indexOf over the clipped region. */
function indexOfOracle(packet: Uint8Array, from: number, to: number, patterns: readonly Uint8Array[]): number {
  const end = Math.min(to, packet.length);
  if (from >= end) return 0;
  const region = Buffer.from(packet.buffer, packet.byteOffset + from, end - from);
  return patterns.some((p) => region.indexOf(p) >= 0) ? 1 : 0;
}

interface Case { bytes: Uint8Array; from: number; to: number }

const ALPHABETS = [[0x61, 0x62], [0x61, 0x62, 0x63], [0, 0xff, 0x80, 0x7f], Array.from({ length: 256 }, (_, i) => i)];

/** Patterns over an alphabet, and packets of that alphabet with patterns (or near misses) planted at the edges. */
const arbScenario = fc.record({
  alphabet: fc.constantFrom(...ALPHABETS),
  patternCount: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 9 }), fc.constant(100)),
  maxLen: fc.constantFrom(1, 2, 3, 4, 8, 17, 100),
  seed: fc.integer(),
}).map(({ alphabet, patternCount, maxLen, seed }) => {
  let s = seed >>> 0;
  const rnd = (n: number) => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s >>> 8) % n; };
  const byte = () => alphabet[rnd(alphabet.length)]!;
  const patterns = Array.from({ length: patternCount }, () =>
    Uint8Array.from({ length: 1 + rnd(maxLen) }, byte));
  // Long patterns over a two-letter alphabet would never occur by chance: plant them.
  const cases: Case[] = [];
  for (let i = 0; i < 40; i++) {
    const len = [0, 1, 2, 15, 16, 17, 31, 33, 64, 200, 1500][rnd(11)]!;
    const bytes = Uint8Array.from({ length: len }, byte);
    const p = patterns[rnd(patterns.length)]!;
    // A copy of p, perhaps with its last byte changed (a partial match that must not count).
    const planted = Uint8Array.from(p);
    if (rnd(3) === 0) planted[planted.length - 1] = byte();
    const where = rnd(4);
    let from = rnd(3) === 0 ? 0 : rnd(len + 2);
    let to = [0xffffffff, len, len + 5, rnd(len + 2)][rnd(4)]!;
    if (len >= planted.length) {
      // At the region's start, its end, across its end, or anywhere.
      const at = where === 0 ? Math.min(from, len - planted.length) : where === 1 ? Math.max(0, Math.min(to, len) - planted.length)
        : where === 2 ? Math.max(0, Math.min(to, len) - planted.length + 1) : rnd(len - planted.length + 1);
      bytes.set(planted.subarray(0, Math.min(planted.length, len - at)), at);
      if (rnd(4) === 0) { from = at; to = at + p.length; }
    }
    cases.push({ bytes, from, to });
  }
  // Straddling the captured length: the packet cut inside a planted pattern.
  for (const c of cases.slice(0, 10)) cases.push({ ...c, bytes: c.bytes.subarray(0, Math.max(0, c.bytes.length - 1 - rnd(4))) });
  return { patterns, cases };
});

describe('search: compiled SIMD scans = naive search = Buffer.indexOf', () => {
  it('on adversarial packets and regions', async () => {
    await fc.assert(fc.asyncProperty(arbScenario, fc.boolean(), async ({ patterns, cases }, optimize) => {
      const f = await compileProgram(regionSearch(patterns), { optimize });
      const packets: RecordPacket[] = cases.map((c) => ({ bytes: c.bytes, wirelen: c.bytes.length, ts: [c.from, c.to] }));
      const got = [...f.runRecords(toRecords(packets))];
      const naive = cases.map((c) => (searchRegion(c.bytes, c.from, c.to, patterns) ? 1 : 0));
      const oracle = cases.map((c) => indexOfOracle(c.bytes, c.from, c.to, patterns));
      expect(naive).toEqual(oracle);
      expect(got).toEqual(naive);
    }), { numRuns: Math.ceil(RUNS / 3) });
  }, 120_000);

  it('finds a pattern exactly at the region edges and not one byte past them', async () => {
    for (const len of [1, 2, 3, 7, 8, 9, 16, 17, 100]) {
      const p = Uint8Array.from({ length: len }, (_, i) => 0x41 + (i % 26));
      const f = await compileProgram(regionSearch([p]));
      const hay = new Uint8Array(300).fill(0x2e);
      const packets: RecordPacket[] = [];
      const expected: number[] = [];
      for (const at of [0, 1, 15, 16, 17, 100, 300 - len]) {
        const bytes = Uint8Array.from(hay);
        bytes.set(p, at);
        packets.push({ bytes, wirelen: 300, ts: [at, at + len] }); expected.push(1);          // exactly the region
        packets.push({ bytes, wirelen: 300, ts: [at + 1, 0xffffffff] }); expected.push(0);    // starts one past it
        packets.push({ bytes, wirelen: 300, ts: [at, at + len - 1] }); expected.push(0);      // region one short
        packets.push({ bytes: bytes.subarray(0, at + len - 1), wirelen: 300, ts: [0, 0xffffffff] }); expected.push(0);   // cut by caplen
        packets.push({ bytes: bytes.subarray(0, at + len), wirelen: 300, ts: [0, 0xffffffff] }); expected.push(1);
      }
      expect([...f.runRecords(toRecords(packets))], `pattern of ${len} bytes`).toEqual(expected);
    }
  });

  it('with 100 patterns of 1 to 100 bytes, each found alone', async () => {
    const patterns = Array.from({ length: 100 }, (_, i) => Uint8Array.from({ length: 1 + i }, (_, j) => 0x80 + ((i * 7 + j * 13) % 120)));
    const f = await compileProgram(regionSearch(patterns));
    const packets: RecordPacket[] = patterns.map((p, i) => {
      const bytes = new Uint8Array(40 + p.length + i).fill(0x20);
      bytes.set(p, 40 + i);
      return { bytes, wirelen: bytes.length, ts: [40 + i, 0xffffffff] };
    });
    packets.push({ bytes: new Uint8Array(1500).fill(0x20), wirelen: 1500, ts: [0, 0xffffffff] });
    const expected = packets.map((p) => (searchRegion(p.bytes, p.ts![0], p.ts![1], patterns) ? 1 : 0));
    expect(expected.slice(0, 100).every((r) => r === 1) && expected[100] === 0).toBe(true);
    expect([...f.runRecords(toRecords(packets))]).toEqual(expected);
  });

  // A region that ends within 32 bytes of the memory's end takes the byte-by-byte scan (the
  // SIMD loads would read past the memory): place a record at the very end of the memory.
  it('at the very end of the memory (no over-read)', async () => {
    for (const patterns of [[Uint8Array.of(1, 2, 3)], [Uint8Array.of(9), Uint8Array.of(1, 2, 3), Uint8Array.of(7, 7)]]) {
      const program = regionSearch(patterns);
      const runAtEnd = atMemoryEnd(program);
      for (const len of [3, 4, 20, 40]) {
        for (let at = 0; at + 3 <= len; at++) {
          for (const [from, to] of [[0, 0xffffffff], [at, at + 3], [at + 1, 0xffffffff]] as const) {
            const packet = new Uint8Array(len).fill(5);
            packet.set([1, 2, 3], at);
            const expected = runPacket(program, newState(program), packet, len, { timestamp: [from, to] }).result;
            expect(runAtEnd(packet, [from, to]), `len ${len} at ${at} region [${from}, ${to})`).toBe(expected);
          }
        }
      }
    }
  });
});

describe('search operands', () => {
  it('keeps the faults of its operands and never faults itself', async () => {
    const pattern = [Uint8Array.of(0x45)];
    // to = load past the packet: a fault from the operand (result 0 even if the pattern is there).
    const faulting: Program = { ...regionSearch(pattern), body: { k: 'seq', body: [
      { k: 'setreg', n: 0, value: { k: 'const', v: 7 } },
      { k: 'return', value: { k: 'bin', op: 'add', a: { k: 'const', v: 10 },
        b: { k: 'search', from: { k: 'const', v: 0 }, to: { k: 'load', off: { k: 'const', v: 1000 }, size: 1 }, patterns: pattern } } },
    ] }, registers: 1 };
    const quiet: Program = { ...regionSearch(pattern), body: { k: 'return', value: { k: 'bin', op: 'add', a: { k: 'const', v: 10 },
      b: { k: 'search', from: { k: 'const', v: 0xfffffff0 }, to: { k: 'const', v: 0xffffffff }, patterns: pattern } } } };
    const packets: RecordPacket[] = [{ bytes: Uint8Array.of(0x45, 0, 0), wirelen: 3 }, { bytes: new Uint8Array(0), wirelen: 0 }];
    for (const program of [faulting, quiet]) {
      const state = newState(program);
      const expected = packets.map((p) => runPacket(program, state, p.bytes, p.wirelen).result);
      const f = await compileProgram(program);
      expect([...f.runRecords(toRecords(packets))]).toEqual(expected);
      expect([...f.registers.subarray(0, 1)]).toEqual([...state.registers.subarray(0, 1)]);
    }
    expect(runPacket(quiet, newState(quiet), Uint8Array.of(0x45), 1).result).toBe(10);
  });
});

describe('the patterns a scan keeps', () => {
  it('drop only patterns that contain another one byte for byte', () => {
    // 1a 2b does not contain a2, although their hex spellings "1a2b" and "a2" would suggest it.
    expect(essentialPatterns([Uint8Array.of(0x1a, 0x2b), Uint8Array.of(0xa2)])).toHaveLength(2);
    expect(essentialPatterns([Uint8Array.of(1, 2, 3), Uint8Array.of(2, 3), Uint8Array.of(2, 3)])).toEqual([Uint8Array.of(2, 3)]);
  });
});
