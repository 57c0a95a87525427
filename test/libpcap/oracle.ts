/**
 * libpcap as a test oracle: compile an expression with libpcap 1.10 and run its own
 * interpreter over ABI records. The pcap-expression and classic-BPF differential suites
 * compare fplc against these verdicts (return values, not booleans).
 *
 * Use `oracleReady()` in a suite: it skips loudly when the addon is not built, and fails under CI.
 */
import { bpfFilterRecords, libpcapAvailable, libpcapUnavailableReason, pcapCompile, type BpfInsn } from '../../drivers/libpcap.js';
import { requires } from '../support/env.js';

export type OracleResult =
  | { ok: true; insns: BpfInsn[]; verdicts: Uint32Array }
  | { ok: false; error: string };

/** True when the libpcap addon can be used; otherwise warns (skip) or, under CI=true, throws. */
export function oracleReady(): boolean {
  return requires(`the libpcap addon (${libpcapUnavailableReason() || 'ok'}; build it with npm run build:native)`, libpcapAvailable());
}

/**
 * Compiles `expr` for `linkType` with libpcap (optimize on or off) and returns the program and
 * bpf_filter's return value for every ABI record in `records` (16-byte little-endian pcap record
 * header + bytes, back to back). A rejected expression gives libpcap's error text instead.
 */
export function libpcapVerdicts(expr: string, linkType: number, records: Uint8Array, optimize: boolean,
  opts: { snaplen?: number; netmask?: number; count?: number } = {}): OracleResult {
  const compiled = pcapCompile(expr, { linkType, optimize, ...opts });
  if (!compiled.ok) return compiled;
  return { ok: true, insns: compiled.insns, verdicts: bpfFilterRecords(compiled.insns, records, opts.count) };
}
