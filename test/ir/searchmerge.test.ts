/**
 * `searchall` in the reference interpreter against a plain JavaScript scan (occursIn), and the
 * search-merging pass (searchmerge.ts) as an exact rewrite: random programs with many searches
 * run through the interpreter before and after the pass (and after shareLocals too, as on a
 * device) on the same packets must give the same results, registers, memory, state and fuel count.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import type { Expr, Program, Stmt } from '../../lang/ir/ir.js';
import { mergeSearches } from '../../lang/ir/passes/searchmerge.js';
import { shareLocals } from '../../lang/ir/passes/locals.js';
import { validateProgram } from '../../lang/ir/validate.js';
import { printProgram } from '../../lang/ir/print.js';
import { occursIn } from '../../hostfns/mapi-str-search.js';
import { forEachStmtPart, isStmt, mapSubExprs, mapSubStmts } from '../../lang/ir/walk.js';
import { genPackets, genProgram } from './arbitrary.js';
import { flowProgram, packetsOf, patternPool, Rng } from './search-programs.js';

const RUNS = Number(process.env.FPLC_FUZZ_RUNS ?? 150);

describe('searchall in the walkers', () => {
  it('is a statement whose parts are its bounds, and an unchanged one is returned as it is', () => {
    const from: Expr = { k: 'const', v: 0 }, to: Expr = { k: 'meta', m: 'caplen' };
    const s: Stmt = { k: 'searchall', from, to, patterns: [Uint8Array.of(1, 2)], into: 0 };
    expect(isStmt(s)).toBe(true);
    const parts: unknown[] = [];
    forEachStmtPart(s, (x) => parts.push(x), (e) => parts.push(e));
    expect(parts).toEqual([from, to]);
    expect(mapSubStmts(s, (x) => x, (e) => e)).toBe(s);
    expect(mapSubStmts(s, (x) => x, (e) => (e === to ? { k: 'const', v: 9 } : e))).toEqual({ ...s, to: { k: 'const', v: 9 } });
  });
});

describe('searchall in the interpreter', () => {
  it('sets the bit of exactly the patterns that occur in the clipped region, and clears the rest', () => {
    fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 100 }), (seed, n) => {
      const r = new Rng(seed);
      const patterns = patternPool(r, n);
      const words = Math.ceil(n / 32);
      for (const packet of packetsOf(r, 10)) {
        const from = r.pick([0, 1, 2, 5, 30, 200, 0xffffffff]);
        const to = r.pick([0, 3, 9, 25, 0xffffffff]);
        // Locals start as 0xffffffff (a previous value) around the words: only the words change.
        const body: Stmt = { k: 'seq', body: [
          ...Array.from({ length: words + 2 }, (_, i): Stmt => ({ k: 'setlocal', n: i, value: { k: 'const', v: 0xffffffff } })),
          { k: 'searchall', from: { k: 'const', v: from }, to: { k: 'const', v: to }, patterns, into: 1 },
          ...Array.from({ length: words + 2 }, (_, i): Stmt => ({ k: 'setmem', index: { k: 'const', v: i }, value: { k: 'local', n: i } })),
        ] };
        const p: Program = { body, linkType: 1, registers: 0, memoryCells: 16, locals: words + 2, externs: [], fuel: 0 };
        expect(validateProgram(p)).toEqual([]);
        const state = newState(p);
        runPacket(p, state, packet, packet.length);
        const end = Math.min(to, packet.length);
        const expected = new Uint32Array(words + 2);
        expected[0] = expected[words + 1] = 0xffffffff;
        patterns.forEach((q, j) => { if (from < end && occursIn(packet, from, end, q)) expected[1 + (j >>> 5)]! |= 1 << (j & 31); });
        expect([...state.memory.subarray(0, words + 2)]).toEqual([...expected]);
      }
    }), { numRuns: RUNS });
  });

  it('faults as its region operands do', () => {
    const p: Program = {
      body: { k: 'seq', body: [
        { k: 'setreg', n: 0, value: { k: 'const', v: 7 } },
        { k: 'searchall', from: { k: 'load', off: { k: 'const', v: 10 }, size: 1 }, to: { k: 'const', v: 0xffffffff }, patterns: [Uint8Array.of(1)], into: 0 },
        { k: 'return', value: { k: 'const', v: 5 } },
      ] },
      linkType: 1, registers: 1, memoryCells: 1, locals: 1, externs: [], fuel: 0,
    };
    const state = newState(p);
    expect(runPacket(p, state, new Uint8Array(5), 5).result).toBe(0);
    expect(state.registers[0]).toBe(7);
    expect(runPacket(p, state, new Uint8Array(11), 11).result).toBe(5);
  });

  it('is rejected by validation when its words do not fit the locals', () => {
    const patterns = Array.from({ length: 33 }, (_, i) => Uint8Array.of(i + 1));
    const p: Program = { body: { k: 'searchall', from: { k: 'const', v: 0 }, to: { k: 'const', v: 9 }, patterns, into: 1 },
      linkType: 1, registers: 0, memoryCells: 1, locals: 2, externs: [], fuel: 0 };
    expect(validateProgram(p).join()).toMatch(/searchall into L1.*2 locals needed/);
    expect(validateProgram({ ...p, locals: 3 })).toEqual([]);
    expect(printProgram({ ...p, locals: 3 })).toContain('L1..L2 = searchall(0, 9, "\\x01"');
  });
});

/** Runs `p` on every packet in order with one state; everything observable. */
function observe(p: Program, packets: readonly Uint8Array[]) {
  const state = newState(p);
  const results = packets.map((b) => runPacket(p, state, b, b.length).result);
  return { results, registers: [...state.registers], memory: [...state.memory], state: [...state.state], fuelExhausted: state.fuelExhausted };
}

/** `p` with most of its searches moved to one of two constant regions (so that some merge). */
function withSharedRegions(p: Program, r: Rng): Program {
  const ex = (e: Expr): Expr => {
    const inner = mapSubExprs(e, ex);
    if (inner.k !== 'search' || r.chance(0.3)) return inner;
    return { ...inner, from: { k: 'const', v: r.pick([0, 14]) }, to: { k: 'const', v: r.pick([0xffffffff, 40]) } };
  };
  const region = (): Expr => ({ k: 'search', from: { k: 'const', v: r.pick([0, 14]) }, to: { k: 'const', v: 0xffffffff },
    patterns: [Uint8Array.of(r.pick([0, 0x45, 6, 0x50])), ...(r.chance(0.5) ? [Uint8Array.of(0x40, 0)] : [])] });
  // More searches: half of the `if` conditions also test one.
  const st = (s: Stmt): Stmt => {
    const inner = mapSubStmts(s, st, ex);
    if (inner.k !== 'if' || r.chance(0.5)) return inner;
    return { ...inner, cond: { k: r.chance(0.5) ? 'land' : 'lor', a: region(), b: inner.cond } };
  };
  return { ...p, body: st(p.body) };
}

const countSearchalls = (p: Program): number => (printProgram(p).match(/searchall\(/g) ?? []).length;

describe('mergeSearches is exact', () => {
  it('on device-like programs with many searches over shared regions', () => {
    let merged = 0;
    fc.assert(fc.property(fc.integer(), (seed) => {
      const p = flowProgram(seed);
      const q = mergeSearches(p);
      expect(validateProgram(q)).toEqual([]);
      if (q !== p) merged++;
      const packets = packetsOf(new Rng(seed ^ 0x1234), 30);
      const before = observe(p, packets);
      expect(observe(q, packets)).toEqual(before);
      const shared = shareLocals(q);
      expect(validateProgram(shared)).toEqual([]);
      expect(observe(shared, packets)).toEqual(before);
    }), { numRuns: RUNS });
    expect(merged).toBeGreaterThan(RUNS / 2);
  });

  it('on the generic random programs', () => {
    let merged = 0;
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (seed) => {
      const p = withSharedRegions(genProgram(seed), new Rng(seed));
      const q = mergeSearches(p);
      expect(validateProgram(q)).toEqual([]);
      if (q !== p) merged++;
      const packets = genPackets(seed, p.linkType, 12).map((t) => t.bytes);
      expect(observe(q, packets)).toEqual(observe(p, packets));
    }), { numRuns: RUNS * 4 });
    expect(merged).toBeGreaterThan(RUNS / 10);
  });

  it('gives the searches of many flows one lazily guarded scan', () => {
    const words = Array.from({ length: 70 }, (_, i) => new TextEncoder().encode(`w${i}x`));
    const flows: Stmt[] = words.map((w, i) => ({ k: 'block', label: i, catchFaults: true, body: { k: 'seq', body: [
      { k: 'if', cond: { k: 'lnot', a: { k: 'search', from: { k: 'const', v: 4 }, to: { k: 'const', v: 0xffffffff }, patterns: [w] } }, then: { k: 'exit', label: i } },
      { k: 'setstate', i, value: { k: 'bin', op: 'add', a: { k: 'state', i }, b: { k: 'const', v: 1 } } },
    ] } }));
    // A search over another region, alone in its group, stays as it is.
    flows.push({ k: 'return', value: { k: 'search', from: { k: 'const', v: 0 }, to: { k: 'const', v: 4 }, patterns: [Uint8Array.of(0x41)] } });
    const p: Program = { body: { k: 'seq', body: flows }, linkType: 1, registers: 0, memoryCells: 1, locals: 0, stateWords: 70, externs: [], fuel: 0 };
    const q = mergeSearches(p);
    expect(countSearchalls(q)).toBe(70);          // one guarded scan before each flow's test …
    expect(printProgram(q).match(/searchall\(4, 0xffffffff, /g)?.length).toBe(70);
    expect(q.locals).toBe(3 + 1);                 // … sharing three words and one flag
    expect(printProgram(q)).toContain('search(0, 4, "A")');
    const packet = new TextEncoder().encode('A...w3x w69x w7xw70x');
    const state = newState(q);
    expect(runPacket(q, state, packet, packet.length).result).toBe(1);
    expect([...state.state].flatMap((v, i) => (v ? [i] : []))).toEqual([3, 7, 69]);
  });
});
