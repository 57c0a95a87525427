// Placeholder until the libpcap-expression front end lands (same signature).
import type { Program } from '../ir/ir.js';
import type { Diagnostic } from '../diagnostics.js';

export interface PcapFilterOptions {
  linkType: number;
  /** Value returned for accepted packets (libpcap returns the snaplen); default 262144. */
  snaplen?: number;
  /** IPv4 netmask for `ip broadcast` (u32); unknown when absent. */
  netmask?: number;
  file?: string;
}

export function compilePcapFilter(_expr: string, _opts: PcapFilterOptions): { program: Program; warnings: Diagnostic[] } {
  throw new Error('libpcap expression front end not implemented yet');
}
