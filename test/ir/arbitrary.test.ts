/**
 * The generators others test against: they must reach every node kind and the interesting
 * outcomes (faults, fuel exhaustion, breaks, exits), and the interpreter must be total and
 * deterministic on what they produce.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Expr, Program, Stmt } from '../../lang/ir/ir.js';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { linkTypeInfo } from '../../lang/ir/linktypes.js';
import { forEachStmtPart } from '../../lang/ir/walk.js';
import { arbPacket, fakeExtern, genPackets, genProgram, LINK_TYPES_UNDER_TEST } from './arbitrary.js';

function kinds(p: Program): Set<string> {
  const seen = new Set<string>();
  const ex = (e: Expr): void => {
    seen.add(`expr:${e.k}`);
    if (e.k === 'field' && e.shift) seen.add('field-shift');
    if (e.k === 'bin') seen.add(`op:${e.op}`);
    for (const v of Object.values(e)) {
      if (Array.isArray(v)) v.forEach(ex);
      else if (typeof v === 'object' && v !== null && 'k' in v) ex(v as Expr);
    }
  };
  const st = (s: Stmt): void => {
    seen.add(`stmt:${s.k}`);
    forEachStmtPart(s, st, ex);
  };
  st(p.body);
  return seen;
}

/** Calls `f` on each top-level expression of the statements in `s`. */
function forEachExpr(s: Stmt, f: (e: Expr) => void): void {
  forEachStmtPart(s, (b) => forEachExpr(b, f), f);
}

const EXPR_KINDS = ['const', 'reg', 'mem', 'local', 'meta', 'load', 'field', 'bin', 'neg', 'bnot', 'lnot', 'land', 'lor', 'cond', 'hash'];
const STMT_KINDS = ['seq', 'if', 'for', 'break', 'block', 'exit', 'return', 'setreg', 'setmem', 'setlocal', 'eval'];
const OPS = ['add', 'sub', 'mul', 'div', 'mod', 'and', 'or', 'xor', 'shl', 'shr', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];

describe('arbProgram / genProgram', () => {
  it('reaches every node kind and operator, fields with and without shift', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 400; seed++) for (const k of kinds(genProgram(seed))) seen.add(k);
    const want = [...EXPR_KINDS.map((k) => `expr:${k}`), ...STMT_KINDS.map((k) => `stmt:${k}`), ...OPS.map((o) => `op:${o}`), 'field-shift'];
    expect(want.filter((k) => !seen.has(k))).toEqual([]);
    expect(seen.has('expr:extern')).toBe(false);
    const withExterns = new Set<string>();
    for (let seed = 0; seed < 200; seed++) for (const k of kinds(genProgram(seed, { externs: true }))) withExterns.add(k);
    expect(withExterns.has('expr:extern')).toBe(true);
  });

  it('honours linkType, memoryCells and maxDepth', () => {
    const p = genProgram(42, { linkType: 113, memoryCells: 256 });
    expect(p.linkType).toBe(113);
    expect(p.memoryCells).toBe(256);
    // Expression height is bounded by maxDepth + 3 (a leaf load's offset adds at most three levels).
    const height = (e: Expr): number => 1 + Math.max(0, ...Object.values(e).flatMap((v: unknown) => (Array.isArray(v) ? v : [v]))
      .filter((v): v is Expr => typeof v === 'object' && v !== null && 'k' in v).map(height));
    for (const maxDepth of [1, 2, 4]) {
      let tallest = 0;
      for (let seed = 0; seed < 300; seed++) {
        forEachExpr(genProgram(seed, { maxDepth }).body, (e) => { tallest = Math.max(tallest, height(e)); });
      }
      expect(tallest).toBeLessThanOrEqual(maxDepth + 3);
      expect(tallest).toBeGreaterThanOrEqual(maxDepth);
    }
  });

  it('exercises results, faults, fuel exhaustion and cross-packet state; the interpreter is total and deterministic', () => {
    let nonzero = 0, outOfFuel = 0, zero = 0, stateCarried = 0;
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer(), (seed, pseed) => {
      const program = genProgram(seed, { externs: seed % 4 === 0 });
      const packets = genPackets(pseed, program.linkType, 12);
      const opts = { callExtern: fakeExtern };
      const runAll = () => {
        const state = newState(program);
        const results = packets.map((p) => runPacket(program, state, p.bytes, p.wirelen, opts));
        return { state, results };
      };
      const a = runAll();
      const b = runAll();
      expect(b.results).toEqual(a.results);
      expect([...b.state.registers]).toEqual([...a.state.registers]);
      expect([...b.state.memory]).toEqual([...a.state.memory]);
      expect(a.state.fuelExhausted).toBe(a.results.filter((r) => r.fuelExhausted).length);
      for (const r of a.results) {
        expect(Number.isInteger(r.result) && r.result >= 0 && r.result < 2 ** 32).toBe(true);
        if (r.fuelExhausted) { outOfFuel++; expect(r.result).toBe(0); } else if (r.result === 0) zero++; else nonzero++;
      }
      if (a.state.registers.some((v) => v !== 0) || a.state.memory.some((v) => v !== 0)) stateCarried++;
    }), { numRuns: 400 });
    expect(nonzero).toBeGreaterThan(100);
    expect(zero).toBeGreaterThan(100);
    expect(outOfFuel).toBeGreaterThan(10);
    expect(stateCarried).toBeGreaterThan(50);
  });
});

describe('arbPacket / genPackets', () => {
  it('gives empty, tiny, truncated and protocol-shaped packets within maxLen', () => {
    let empty = 0, tiny = 0, ipv4 = 0, ipv6 = 0, longerOnWire = 0;
    fc.assert(fc.property(arbPacket({ maxLen: 64 }), (p) => {
      expect(p.bytes.length).toBeLessThanOrEqual(64);
      expect(p.wirelen).toBeGreaterThanOrEqual(p.bytes.length);
      if (p.bytes.length === 0) empty++;
      else if (p.bytes.length < 14) tiny++;
      if (p.wirelen > p.bytes.length) longerOnWire++;
      if (p.bytes.length > 14 && p.bytes[12] === 0x08 && p.bytes[13] === 0) ipv4++;
      if (p.bytes.length > 14 && p.bytes[12] === 0x86 && p.bytes[13] === 0xdd) ipv6++;
    }), { numRuns: 1000 });
    for (const n of [empty, tiny, ipv4, ipv6, longerOnWire]) expect(n).toBeGreaterThan(10);
  });

  it.each(LINK_TYPES_UNDER_TEST)('shapes IP headers at the L3 offset of link type %i', (linkType) => {
    const l3 = linkTypeInfo(linkType)!.l3;
    const versions = new Set(genPackets(7, linkType, 300).filter((p) => p.bytes.length > l3).map((p) => p.bytes[l3]! >> 4));
    expect(versions.has(4) && versions.has(6)).toBe(true);
  });
});
