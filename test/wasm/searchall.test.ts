/**
 * The `searchall` statement compiled (codegen/wasm/search.ts, the multi-pattern scan that
 * records every pattern it finds) against the reference interpreter and against Buffer.indexOf
 * per pattern as an independent oracle: many patterns (1 to 300, so one to ten result words),
 * overlapping ones, ones sharing prefixes, duplicates, patterns of 1 to 100 bytes, planted at
 * the region's edges, across its end and across the captured length.
 *
 * The region comes from the record timestamps (`searchall(tssec, tsfrac, …)`), so one module
 * sees a different region per packet; each packet's words land in M[packet * words + i].
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import type { Program, Stmt } from '../../lang/ir/ir.js';
import { compileProgram } from '../../vm/compile.js';
import { atMemoryEnd } from '../support/memory-end.js';
import { toRecords, type RecordPacket } from '../support/records.js';
import { mergeSearches } from '../../lang/ir/passes/searchmerge.js';
import { shareLocals } from '../../lang/ir/passes/locals.js';
import { flowProgram, packetsOf, Rng } from '../ir/search-programs.js';

const RUNS = Number(process.env.FPLC_FUZZ_RUNS ?? 150);
const MEMORY_CELLS = 4096;

/** searchall over the timestamp region; packet k's words go to M[k * words + i] (k counted in R[0]). */
function searchAllProgram(patterns: Uint8Array[]): Program {
  const words = Math.ceil(patterns.length / 32);
  const stores = Array.from({ length: words }, (_, i): Stmt => ({
    k: 'setmem', index: { k: 'bin', op: 'add', a: { k: 'bin', op: 'mul', a: { k: 'reg', n: 0 }, b: { k: 'const', v: words } }, b: { k: 'const', v: i } },
    value: { k: 'local', n: 1 + i },
  }));
  return {
    body: { k: 'seq', body: [
      { k: 'searchall', from: { k: 'meta', m: 'tssec' }, to: { k: 'meta', m: 'tsfrac' }, patterns, into: 1 },
      ...stores,
      { k: 'setreg', n: 0, value: { k: 'bin', op: 'add', a: { k: 'reg', n: 0 }, b: { k: 'const', v: 1 } } },
      { k: 'return', value: { k: 'local', n: 1 } },
    ] },
    linkType: 1, registers: 1, memoryCells: MEMORY_CELLS, locals: 1 + words, externs: [], fuel: 0,
  };
}

/** Independent of the interpreter: Buffer.indexOf of each pattern over the clipped region. */
function oracleWords(packet: Uint8Array, from: number, to: number, patterns: readonly Uint8Array[]): number[] {
  const words = new Uint32Array(Math.ceil(patterns.length / 32));
  const end = Math.min(to, packet.length);
  if (from < end) {
    const region = Buffer.from(packet.buffer, packet.byteOffset + from, end - from);
    patterns.forEach((p, j) => { if (region.indexOf(p) >= 0) words[j >>> 5]! |= 1 << (j & 31); });
  }
  return [...words];
}

const ALPHABETS = [[0x61, 0x62], [0x61, 0x62, 0x63], [0, 0xff, 0x80, 0x7f], Array.from({ length: 256 }, (_, i) => i)];

const arbScenario = fc.record({
  alphabet: fc.constantFrom(...ALPHABETS),
  patternCount: fc.constantFrom(1, 2, 3, 8, 31, 32, 33, 100, 257, 300),
  maxLen: fc.constantFrom(1, 2, 3, 4, 8, 17, 100),
  prefixes: fc.boolean(),
  seed: fc.integer(),
}).map(({ alphabet, patternCount, maxLen, prefixes, seed }) => {
  let s = seed >>> 0;
  const rnd = (n: number) => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s >>> 8) % n; };
  const byte = () => alphabet[rnd(alphabet.length)]!;
  const patterns: Uint8Array[] = [];
  while (patterns.length < patternCount) {
    const earlier = patterns[rnd(patterns.length + 1)];
    if (earlier && rnd(10) === 0) patterns.push(earlier);                          // a duplicate
    else if (earlier && prefixes) patterns.push(Uint8Array.from([...earlier.subarray(0, 1 + rnd(earlier.length)), ...Array.from({ length: rnd(4) }, byte)]));
    else patterns.push(Uint8Array.from({ length: 1 + rnd(maxLen) }, byte));
  }
  const cases: RecordPacket[] = [];
  for (let i = 0; i < 12; i++) {
    const len = [0, 1, 2, 15, 16, 17, 31, 33, 64, 200, 1500][rnd(11)]!;
    const bytes = Uint8Array.from({ length: len }, byte);
    let from = rnd(3) === 0 ? 0 : rnd(len + 2);
    let to = [0xffffffff, len, len + 5, rnd(len + 2)][rnd(4)]!;
    // Several patterns planted: at the region's start, at its end, across its end, anywhere.
    for (let k = rnd(6); k > 0; k--) {
      const p = Uint8Array.from(patterns[rnd(patterns.length)]!);
      if (rnd(3) === 0) p[p.length - 1] = byte();   // a near miss
      if (len < p.length) continue;
      const where = rnd(4);
      const at = where === 0 ? Math.min(from, len - p.length) : where === 1 ? Math.max(0, Math.min(to, len) - p.length)
        : where === 2 ? Math.max(0, Math.min(to, len) - p.length + 1) : rnd(len - p.length + 1);
      bytes.set(p.subarray(0, Math.min(p.length, len - at)), at);
      if (rnd(8) === 0) { from = at; to = at + p.length; }
    }
    cases.push({ bytes, wirelen: len, ts: [from, to] });
  }
  // The captured length cutting into planted patterns.
  for (const c of cases.slice(0, 4)) cases.push({ ...c, bytes: c.bytes.subarray(0, Math.max(0, c.bytes.length - 1 - rnd(4))) });
  return { patterns, cases };
});

describe('searchall compiled = interpreter = Buffer.indexOf per pattern', () => {
  it('on adversarial pattern sets and regions', async () => {
    let bitsSet = 0, bitsClear = 0;
    await fc.assert(fc.asyncProperty(arbScenario, fc.boolean(), async ({ patterns, cases }, optimize) => {
      const program = searchAllProgram(patterns);
      const words = Math.ceil(patterns.length / 32);
      const f = await compileProgram(program, { optimize });
      const results = [...f.runRecords(toRecords(cases))];
      const state = newState(program);
      const expected = cases.map((c) => runPacket(program, state, c.bytes, c.wirelen, { timestamp: c.ts! }).result);
      const oracle = cases.flatMap((c) => oracleWords(c.bytes, c.ts![0], c.ts![1], patterns));
      expect([...state.memory.subarray(0, oracle.length)]).toEqual(oracle);
      expect([...f.memory.subarray(0, cases.length * words)]).toEqual(oracle);
      expect(results).toEqual(expected);
      for (const w of oracle) for (let b = 0; b < 32; b++) if ((w >>> b) & 1) bitsSet++; else bitsClear++;
    }), { numRuns: Math.ceil(RUNS / 8) });
    // Both outcomes are common (the comparison is not vacuous).
    expect(bitsSet).toBeGreaterThan(1000);
    expect(bitsClear).toBeGreaterThan(1000);
  }, 120_000);

  it('finds each of 300 patterns of 1 to 100 bytes alone, and all of them at once', async () => {
    const patterns = Array.from({ length: 300 }, (_, i) => Uint8Array.from({ length: 1 + (i % 100) }, (_, j) => 0x80 + ((i * 7 + j * 13) % 120)));
    const program = searchAllProgram(patterns);
    const f = await compileProgram(program);
    const packets: RecordPacket[] = patterns.map((p, i) => {
      const bytes = new Uint8Array(40 + p.length + (i % 50)).fill(0x20);
      bytes.set(p, 40 + (i % 50));
      return { bytes, wirelen: bytes.length, ts: [40 + (i % 50), 0xffffffff] };
    });
    const all = new Uint8Array(patterns.reduce((n, p) => n + p.length, 0));
    patterns.reduce((at, p) => { all.set(p, at); return at + p.length; }, 0);
    packets.push({ bytes: all, wirelen: all.length, ts: [0, 0xffffffff] });
    packets.push({ bytes: new Uint8Array(1500).fill(0x20), wirelen: 1500, ts: [0, 0xffffffff] });
    f.runRecords(toRecords(packets));
    const words = 10;
    const expected = packets.flatMap((p) => oracleWords(p.bytes, p.ts![0], p.ts![1], patterns));
    // Packet i finds pattern i (others may be inside it); the concatenation finds every one.
    patterns.forEach((_, i) => expect((expected[i * words + (i >>> 5)]! >>> (i & 31)) & 1).toBe(1));
    expect(expected.slice(300 * words, 301 * words).every((w, i) => w === (i === 9 ? 0xfff : 0xffffffff))).toBe(true);
    expect([...f.memory.subarray(0, expected.length)]).toEqual(expected);
  });

  // A region that ends within 32 bytes of the memory's end takes the byte-by-byte scan.
  it('at the very end of the memory (no over-read)', () => {
    const patterns = [Uint8Array.of(9), Uint8Array.of(1, 2, 3), Uint8Array.of(7, 7), Uint8Array.of(2, 3), Uint8Array.of(1, 2, 3)];
    const program: Program = { ...searchAllProgram(patterns), memoryCells: 1 };
    const runAtEnd = atMemoryEnd(program);
    let found = 0;
    for (const len of [3, 4, 20, 40]) {
      for (let at = 0; at + 3 <= len; at++) {
        for (const [from, to] of [[0, 0xffffffff], [at, at + 3], [at + 1, 0xffffffff], [at, at + 2]] as const) {
          const packet = new Uint8Array(len).fill(5);
          packet.set([1, 2, 3], at);
          if (at > 0 && len > 10) packet.set([7, 7], 0);
          const expected = oracleWords(packet, from, to, patterns)[0]!;
          expect(runAtEnd(packet, [from, to]), `len ${len} at ${at} region [${from}, ${to})`).toBe(expected);
          found += expected;
        }
      }
    }
    expect(found).toBeGreaterThan(0);
  });
});

describe('merged searches compiled', () => {
  // The device's order of passes (searches merged, then locals shared), against the interpreter on the original.
  it('give the original program\'s results and state', async () => {
    let merged = 0;
    await fc.assert(fc.asyncProperty(fc.integer(), fc.boolean(), async (seed, optimize) => {
      const p = flowProgram(seed);
      const q = shareLocals(mergeSearches(p));
      if (/searchall/.test(JSON.stringify(q, (_, v: unknown) => (v instanceof Uint8Array ? [...v] : v)))) merged++;
      const packets = packetsOf(new Rng(seed ^ 0x77), 25).map((bytes): RecordPacket => ({ bytes, wirelen: bytes.length }));
      const state = newState(p);
      const expected = packets.map((x) => runPacket(p, state, x.bytes, x.wirelen).result);
      const f = await compileProgram(q, { optimize });
      expect([...f.runRecords(toRecords(packets))]).toEqual(expected);
      expect([...f.registers.subarray(0, p.registers)]).toEqual([...state.registers.subarray(0, p.registers)]);
      expect([...f.memory]).toEqual([...state.memory]);
      expect([...f.state]).toEqual([...state.state]);
      expect(f.fuelExhausted).toBe(state.fuelExhausted);
    }), { numRuns: Math.ceil(RUNS / 5) });
    expect(merged).toBeGreaterThan(RUNS / 10);
  }, 120_000);
});
