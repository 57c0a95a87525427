/**
 * Classic BPF in: `tcpdump -ddd` / `tcpdump -dd` output or a JSON array of [code, jt, jf, k],
 * checked as Linux checks a socket filter, then lowered to IR with libpcap's interpreter
 * semantics (see lower.ts). Errors are CompileErrors that point at the offending field.
 */
import type { Program } from '../ir/ir.js';
import { CompileError, type Diagnostic } from '../diagnostics.js';
import { lowerCbpf } from './lower.js';
import { parseCbpf } from './parse.js';
import { validateCbpf } from './validate.js';

export interface CbpfOptions { linkType: number; file?: string }

export function compileCbpf(text: string, opts: CbpfOptions): { program: Program; warnings: Diagnostic[] } {
  const { insns } = parseCbpf(text, opts.file);
  const { errors, warnings } = validateCbpf(insns, text, opts.file);
  if (errors.length) throw new CompileError([...errors, ...warnings], text);
  const program = lowerCbpf(insns, opts.linkType, { language: 'cbpf', text, ...(opts.file !== undefined ? { file: opts.file } : {}) });
  return { program, warnings };
}

export { parseCbpf, type CbpfForm, type SourceInsn } from './parse.js';
export { validateCbpf } from './validate.js';
export { lowerCbpf, CBPF_LOCALS, LOCAL_A, LOCAL_X, LOCAL_M0, type Insn } from './lower.js';

/** Renders instructions as `tcpdump -ddd` text (count line, then `code jt jf k` lines). */
export function formatDdd(insns: readonly { code: number; jt: number; jf: number; k: number }[]): string {
  return `${insns.length}\n${insns.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}`).join('\n')}\n`;
}
