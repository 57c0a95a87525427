/**
 * The classic BPF checker: each of Linux's rules with its message and position, and agreement
 * with the running kernel's own checker (SO_ATTACH_FILTER) on programs around the edges.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linuxSocketFilterCheck, type BpfInsn } from '../../drivers/libpcap.js';
import { compileCbpf, formatDdd } from '../../lang/cbpf/index.js';
import { CompileError, type Diagnostic } from '../../lang/diagnostics.js';
import { oracleReady } from '../libpcap/oracle.js';
import { anyProgram } from './gen.js';

const json = (insns: BpfInsn[]) => `[\n${insns.map((i) => `  [${i.join(', ')}]`).join(',\n')}\n]`;

/** The diagnostics compileCbpf reports for a program, or [] when it compiles. */
function errorsOf(text: string): Diagnostic[] {
  try {
    compileCbpf(text, { linkType: 1, file: 'prog.bpf' });
    return [];
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return e.diagnostics.filter((d) => d.severity === 'error');
  }
}

const FIELDS = { code: 0, jt: 1, jf: 2, k: 3 } as const;

/**
 * Expects exactly one error, matching `message`, on instruction `index` (line index+2 of the
 * JSON text), at the start of `field` ('insn': the instruction's '['), in file prog.bpf.
 */
function expectError(insns: BpfInsn[], message: RegExp, index: number, field: keyof typeof FIELDS | 'insn'): void {
  const errors = errorsOf(json(insns));
  expect(errors.map((d) => d.message)).toEqual([expect.stringMatching(message)]);
  const before = field === 'insn' ? -1 : FIELDS[field];
  const col = 3 + (before < 0 ? 0 : 1 + insns[index].slice(0, before).reduce((n, v) => n + String(v).length + 2, 0));
  expect([errors[0].line, errors[0].col]).toEqual([index + 2, col]);
  expect(errors[0].file).toBe('prog.bpf');
}

const RET: BpfInsn = [0x06, 0, 0, 0x40000];

describe('classic BPF checker (Linux rules)', () => {
  it('accepts a well-formed program and returns no warnings', () => {
    const { program, warnings } = compileCbpf(json([[0x28, 0, 0, 12], [0x15, 0, 1, 0x800], RET, [0x06, 0, 0, 0]]), { linkType: 1 });
    expect(warnings).toEqual([]);
    expect(program.source?.language).toBe('cbpf');
  });

  it('program length must be 1..4096', () => {
    expect(errorsOf('[]').map((d) => d.message)).toEqual([expect.stringMatching(/at least one instruction/)]);
    const big: BpfInsn[] = Array.from({ length: 4097 }, () => RET);
    const errors = errorsOf(formatDdd(big.map(([code, jt, jf, k]) => ({ code, jt, jf, k }))));
    expect(errors.map((d) => d.message)).toEqual([expect.stringMatching(/4097 instructions; classic BPF allows at most 4096/)]);
    expect(errors[0].line).toBe(4098);   // the first instruction past the limit (after the count line)
    expect(errorsOf(formatDdd(big.slice(1).map(([code, jt, jf, k]) => ({ code, jt, jf, k }))))).toEqual([]);
  });

  it('rejects opcodes outside the allowed set, pointing at the code', () => {
    expectError([[0x08, 0, 0, 1], RET], /unknown or unsupported opcode 0x08/, 0, 'code');   // ld with a size bit in immediate mode
    expectError([RET, [0xff, 0, 0, 0], RET], /unknown or unsupported opcode 0xff/, 1, 'code');
    expectError([[0x1234, 0, 0, 0], RET], /unknown or unsupported opcode 0x1234/, 0, 'code');
  });

  it('rejects conditional jumps past the end, pointing at jt or jf', () => {
    expectError([[0x15, 1, 0, 0], RET], /true branch goes to instruction 2, past the last instruction \(1\)/, 0, 'jt');
    expectError([[0x15, 0, 5, 0], RET], /false branch goes to instruction 6/, 0, 'jf');
  });

  it('rejects ja past the end and backward jumps', () => {
    expectError([[0x05, 0, 0, 1], RET], /jump goes to instruction 2, past the last instruction/, 0, 'k');
    expectError([RET, [0x05, 0, 0, 0xfffffffe], RET], /jump back by 2 instructions; classic BPF jumps only forward/, 1, 'k');
  });

  it('requires a ret as the last instruction', () => {
    expectError([[0x28, 0, 0, 12]], /last instruction must be a ret .*found ldh \[12\]/, 0, 'insn');
  });

  it('rejects scratch indices >= 16 in ld/ldx/st/stx M[k]', () => {
    for (const code of [0x60, 0x61, 0x02, 0x03]) expectError([[code, 0, 0, 16], RET], /scratch memory index 16 is out of range/, 0, 'k');
  });

  it('rejects constant division and modulo by zero, and constant shifts of 32 or more', () => {
    expectError([[0x34, 0, 0, 0], RET], /division by the constant 0/, 0, 'k');
    expectError([[0x94, 0, 0, 0], RET], /modulo by the constant 0/, 0, 'k');
    expectError([[0x64, 0, 0, 32], RET], /constant shift must be 0..31, not 32/, 0, 'k');
    expectError([[0x74, 0, 0, 33], RET], /constant shift must be 0..31, not 33/, 0, 'k');
    expect(errorsOf(json([[0x64, 0, 0, 31], [0x3c, 0, 0, 0], RET]))).toEqual([]);   // div x by a runtime 0 is fine
  });

  it('rejects Linux ancillary and negative-offset loads as Linux-specific', () => {
    expectError([[0x28, 0, 0, 0xfffff004], RET], /SKF_AD_OFF\+4 \(ancillary field "pkttype"\).*Linux-specific and not supported/, 0, 'k');
    expectError([[0x30, 0, 0, 0xfff00009], RET], /SKF_NET_OFF\+9 is a Linux-specific negative-offset load/, 0, 'k');
    expectError([[0x20, 0, 0, 0xffe00000], RET], /SKF_LL_OFF\+0 is a Linux-specific negative-offset load/, 0, 'k');
    // An indexed load there is out of range in libpcap (result 0): allowed, with a warning.
    const { warnings } = compileCbpf(json([[0x50, 0, 0, 0xfff00000], RET]), { linkType: 1 });
    expect(warnings.map((w) => w.message)).toEqual([expect.stringMatching(/negative-offset .* returns 0/)]);
  });

  it('rejects reading a scratch cell not stored on every path', () => {
    expectError([[0x60, 0, 0, 3], RET], /reads scratch cell M\[3\] before it is stored on every path/, 0, 'k');
    // Stored on the true branch only: the join point may read garbage.
    expectError([[0x15, 0, 1, 0], [0x02, 0, 0, 3], [0x60, 0, 0, 3], RET], /M\[3\]/, 2, 'k');
    expect(errorsOf(json([[0x02, 0, 0, 3], [0x15, 0, 1, 0], [0x02, 0, 0, 4], [0x60, 0, 0, 3], RET]))).toEqual([]);
  });

  it('reports every independent error at once', () => {
    const errors = errorsOf(json([[0x34, 0, 0, 0], [0x02, 0, 0, 99], [0x28, 0, 0, 12]]));
    expect(errors.map((d) => d.line)).toEqual([2, 3, 4]);
  });
});

describe.skipIf(!oracleReady())('classic BPF checker vs the running kernel', () => {
  it('accepts exactly the programs Linux accepts (Linux-only loads aside)', () => {
    const seen = { accepts: 0, rejects: 0 };
    fc.assert(fc.property(anyProgram, (insns) => {
      const errors = errorsOf(json(insns));
      const kernel = linuxSocketFilterCheck(insns);
      if (errors.some((d) => /Linux-specific/.test(d.message))) return;   // Linux may accept those; we never do
      const verdict = errors.length ? 'rejects' : 'accepts';
      expect(kernel !== 0 ? 'rejects' : 'accepts').toBe(verdict);
      seen[verdict]++;
    }), { numRuns: 3000 });
    // Both verdicts must be well represented for the agreement to mean something.
    expect(Math.min(seen.accepts, seen.rejects)).toBeGreaterThan(300);
  });
});
