/**
 * The size limits of lang/ir/limits.ts: past each one the error names it and the position;
 * up to them compiling works and its output grows linearly (checked on sizes, not wall time:
 * wall-time comparisons are in bench/sizes/); random deep and long inputs never crash.
 */
import binaryen from 'binaryen';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompileError } from '../../lang/diagnostics.js';
import { compileFpl } from '../../lang/fpl/index.js';
import {
  FPL_MAX_BLOCK_DEPTH, FPL_MAX_NESTING, FPL_MAX_OPERATOR_CHAIN, FPL_MAX_UNARY_RUN, MAPI_MAX_FUNCTIONS_PER_FLOW, PCAP_MAX_OPERATOR_CHAIN, PCAP_MAX_PAREN_DEPTH, PCAP_MAX_TERMS,
} from '../../lang/ir/limits.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { compileWasm } from '../../codegen/wasm/index.js';
import { largestFunctionBody } from '../../codegen/wasm/function-size.js';
import { Device, MapiError } from '../../vm/mapi/index.js';

const LONG = process.env.FPLC_LONG_FUZZ === '1';
const rep = (n: number, s: string) => s.repeat(n);

/** The compile error's message and 1-based column, or undefined when the expression compiles. */
function errorOf(expr: string): { message: string; column: number } | undefined {
  try {
    compilePcapFilter(expr, { linkType: 1 });
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(CompileError);
    const d = (e as CompileError).diagnostics[0]!;
    return { message: d.message, column: d.col };
  }
}

describe('libpcap expression limits', () => {
  it('parentheses: PCAP_MAX_PAREN_DEPTH deep compiles, one more is refused at that parenthesis', () => {
    expect(errorOf(rep(PCAP_MAX_PAREN_DEPTH, '(') + 'tcp' + rep(PCAP_MAX_PAREN_DEPTH, ')'))).toBeUndefined();
    const err = errorOf(rep(PCAP_MAX_PAREN_DEPTH + 1, '(') + 'tcp' + rep(PCAP_MAX_PAREN_DEPTH + 1, ')'));
    expect(err?.message).toMatch(/PCAP_MAX_PAREN_DEPTH/);
    expect(err?.column).toBe(PCAP_MAX_PAREN_DEPTH + 1);
  });

  it('operator chains: arithmetic and `not`, across parentheses', () => {
    expect(errorOf('ether[0] ' + rep(PCAP_MAX_OPERATOR_CHAIN - 1, '+ 1 ') + '= 5')).toBeUndefined();
    const plus = 'ether[0] ' + rep(PCAP_MAX_OPERATOR_CHAIN + 1, '+ 1 ') + '= 5';
    const err = errorOf(plus);
    expect(err?.message).toMatch(/PCAP_MAX_OPERATOR_CHAIN/);
    expect(err?.column).toBe('ether[0] '.length + 4 * PCAP_MAX_OPERATOR_CHAIN + 1);
    expect(errorOf(rep(PCAP_MAX_OPERATOR_CHAIN, 'not ') + 'tcp')).toBeUndefined();
    expect(errorOf(rep(PCAP_MAX_OPERATOR_CHAIN + 1, 'not ') + 'tcp')?.message).toMatch(/PCAP_MAX_OPERATOR_CHAIN/);
    // Parentheses do not reset the count: the nesting is what the parser recurses on.
    const nested = rep(10, '(') + rep(PCAP_MAX_OPERATOR_CHAIN / 2, 'not ') + '(' + rep(PCAP_MAX_OPERATOR_CHAIN / 2 + 1, 'not ') + 'tcp)' + rep(10, ')');
    expect(errorOf(nested)?.message).toMatch(/PCAP_MAX_OPERATOR_CHAIN/);
    // Operands of and/or are siblings: each may have its own chain.
    expect(errorOf(rep(4, `(${rep(PCAP_MAX_OPERATOR_CHAIN / 2, 'not ')}tcp) and `) + 'udp')).toBeUndefined();
  });

  it('terms: PCAP_MAX_TERMS, refused at the first and/or past it', () => {
    const err = errorOf(Array.from({ length: PCAP_MAX_TERMS + 1 }, () => 'tcp').join(' and '));
    expect(err?.message).toMatch(/PCAP_MAX_TERMS/);
    expect(err?.column).toBe(PCAP_MAX_TERMS * 'tcp and '.length - 'and '.length + 1);
  }, 60_000);

  it('random deep and long expressions compile or give a located CompileError, never a crash', () => {
    const prim = fc.constantFrom('tcp', 'udp', 'port 80', 'host 10.0.0.1', 'ip[2:2] > 100', 'ether[0] & 1 = 1', 'len < 60');
    const expr = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'large', withCrossShrink: true },
        prim,
        fc.tuple(fc.nat({ max: 300 }), tie('e')).map(([n, e]) => `${rep(n, 'not ')}${e}`),
        fc.tuple(fc.nat({ max: 60 }), tie('e')).map(([n, e]) => `${rep(n, '(')}${e}${rep(n, ')')}`),
        fc.tuple(fc.nat({ max: 300 })).map(([n]) => `ip[0] ${rep(n, '+ 1 ')}= 5`),
        fc.tuple(tie('e'), fc.constantFrom(' and ', ' or '), tie('e')).map(([a, op, b]) => a + op + b),
      ),
    })).e;
    fc.assert(fc.property(expr, (e) => {
      try { compilePcapFilter(e, { linkType: 1 }); } catch (err) {
        expect(err, e.slice(0, 200)).toBeInstanceOf(CompileError);
        expect((err as Error).message).not.toMatch(/call stack/i);
      }
    }), { numRuns: LONG ? 3_000 : 150 });
  }, LONG ? 3_600_000 : 120_000);
});

describe('FPL limits', () => {
  function fplError(src: string): { message: string; column: number } | undefined {
    try { compileFpl(src, { linkType: 1 }); return undefined; } catch (e) {
      expect(e).toBeInstanceOf(CompileError);
      const d = (e as CompileError).diagnostics[0]!;
      return { message: d.message, column: d.col };
    }
  }
  it('each limit compiles at its value and names itself one past it, at the character that crosses it', () => {
    const cases: [string, string, string, number][] = [
      ['FPL_MAX_NESTING', `RETURN ${rep(FPL_MAX_NESTING, '(')}1${rep(FPL_MAX_NESTING, ')')};`, `RETURN ${rep(FPL_MAX_NESTING + 1, '(')}1${rep(FPL_MAX_NESTING + 1, ')')};`, 'RETURN '.length + FPL_MAX_NESTING + 1],
      ['FPL_MAX_OPERATOR_CHAIN', `RETURN 1${rep(FPL_MAX_OPERATOR_CHAIN, ' + 1')};`, `RETURN 1${rep(FPL_MAX_OPERATOR_CHAIN + 1, ' + 1')};`, 'RETURN 1'.length + 4 * FPL_MAX_OPERATOR_CHAIN + 2],
      ['FPL_MAX_UNARY_RUN', `RETURN ${rep(FPL_MAX_UNARY_RUN, '!')}1;`, `RETURN ${rep(FPL_MAX_UNARY_RUN + 1, '!')}1;`, 'RETURN '.length + FPL_MAX_UNARY_RUN + 1],
      ['FPL_MAX_BLOCK_DEPTH', `${rep(FPL_MAX_BLOCK_DEPTH, 'IF (1) THEN ')}RETURN 1;${rep(FPL_MAX_BLOCK_DEPTH, ' FI')}`, `${rep(FPL_MAX_BLOCK_DEPTH + 1, 'IF (1) THEN ')}RETURN 1;${rep(FPL_MAX_BLOCK_DEPTH + 1, ' FI')}`, 'IF (1) THEN '.length * FPL_MAX_BLOCK_DEPTH + 1],
    ];
    for (const [name, ok, bad, column] of cases) {
      expect(fplError(ok), name).toBeUndefined();
      const err = fplError(bad);
      expect(err?.message, name).toMatch(new RegExp(name));
      expect(err?.column, name).toBe(column);
    }
  }, 60_000);

  it('every limit at once still compiles (the stack has room for the worst combination)', () => {
    const expr = `${rep(FPL_MAX_NESTING - 1, '(')}${rep(FPL_MAX_UNARY_RUN / 2, '!')}1${rep(FPL_MAX_OPERATOR_CHAIN - FPL_MAX_UNARY_RUN / 2 - 1, ' * 1')}${rep(FPL_MAX_NESTING - 1, ')')}`;
    expect(fplError(`${rep(FPL_MAX_BLOCK_DEPTH, 'IF (1) THEN ')}RETURN ${expr};${rep(FPL_MAX_BLOCK_DEPTH, ' FI')}`)).toBeUndefined();
  }, 60_000);
});

describe('linear output', () => {
  /** Body size of the filter function and its locals, without binaryen's optimizer. */
  function shape(expr: string): { bytes: number; locals: number } {
    const { program } = compilePcapFilter(expr, { linkType: 1 });
    const { wasm } = compileWasm(program, { optimize: false });
    const m = binaryen.readBinary(wasm);
    try {
      let locals = 0;
      for (let i = 0; i < m.getNumFunctions(); i++) locals = Math.max(locals, binaryen.getFunctionInfo(m.getFunctionByIndex(i)).vars.length);
      return { bytes: largestFunctionBody(wasm), locals };
    } finally { m.dispose(); }
  }
  const hostPort = (n: number) => Array.from({ length: n }, (_, i) => `(host 10.0.${i >> 8}.${i & 255} and port ${1 + i})`).join(' or ');
  const tcpAnd = (n: number) => Array.from({ length: n }, () => 'tcp').join(' and ');

  it('doubling a list doubles the function and keeps its locals (no local per term)', () => {
    for (const make of [hostPort, tcpAnd]) {
      const a = shape(make(200)), b = shape(make(400));
      expect(b.bytes / a.bytes).toBeGreaterThan(1.7);
      expect(b.bytes / a.bytes).toBeLessThan(2.3);
      expect(b.locals).toBe(a.locals);
    }
  }, 120_000);

  it('largestFunctionBody reads the code section', () => {
    const m = new binaryen.Module();
    m.addFunction('small', binaryen.none, binaryen.i32, [], m.i32.const(1));
    m.addFunction('big', binaryen.none, binaryen.i32, [binaryen.i32], m.block(null, Array.from({ length: 1000 }, (_, i) => m.local.set(0, m.i32.const(i))).concat([m.local.get(0, binaryen.i32)]), binaryen.i32));
    const wasm = m.emitBinary();
    m.dispose();
    const n = largestFunctionBody(wasm);
    // 1,000 × (i32.const LEB + local.set 0) ≥ 4,000 bytes, below the whole module.
    expect(n).toBeGreaterThan(4000);
    expect(n).toBeLessThan(wasm.length);
  });
});

describe('MAPI limits', () => {
  it('MAPI_MAX_FUNCTIONS_PER_FLOW: one more apply fails with 7006 naming the limit and the flow', async () => {
    const dev = await Device.offline('samples/web.pcap');
    const flow = dev.flow();
    for (let i = 0; i < MAPI_MAX_FUNCTIONS_PER_FLOW; i++) flow.apply('PKT_COUNTER');
    let err: unknown;
    try { flow.apply('PKT_COUNTER'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(MapiError);
    expect(err).toMatchObject({ code: 7006, message: expect.stringMatching(new RegExp(`flow ${flow.fd}.*MAPI_MAX_FUNCTIONS_PER_FLOW`)) });
    // Another flow has its own count.
    expect(typeof dev.flow().apply('PKT_COUNTER')).toBe('number');
    dev.delete();
  }, 60_000);
});
