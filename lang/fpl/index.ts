// Placeholder until the FPL front end lands (same signature).
import type { Program } from '../ir/ir.js';
import type { Diagnostic } from '../diagnostics.js';

export interface ExternSignature {
  name: string;
  summary?: string;
  inCells?: number;
  outCells?: number;
  validate?(config: readonly (string | number)[]): string | undefined;
}

export interface FplOptions {
  file?: string;
  linkType: number;
  memoryCells?: number;
  fuel?: number;
  externs?: readonly ExternSignature[];
}

export function compileFpl(_source: string, _opts: FplOptions): { program: Program; warnings: Diagnostic[] } {
  throw new Error('FPL front end not implemented yet');
}
