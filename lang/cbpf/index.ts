// Placeholder until the classic BPF front end lands (same signature).
import type { Program } from '../ir/ir.js';
import type { Diagnostic } from '../diagnostics.js';

export interface CbpfOptions { linkType: number; file?: string }

export function compileCbpf(_text: string, _opts: CbpfOptions): { program: Program; warnings: Diagnostic[] } {
  throw new Error('classic BPF front end not implemented yet');
}
