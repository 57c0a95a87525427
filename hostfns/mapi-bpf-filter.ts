/**
 * BPF_FILTER(char *expr) — a libpcap filter expression, compiled for the device's link type
 * and snaplen and inlined into the flow: a packet it rejects (or whose loads run past the
 * captured bytes) leaves the flow.
 */
import type { Program } from '../lang/ir/ir.js';
import type { MapiFunctionDef } from './mapi-types.js';

export const BPF_FILTER: MapiFunctionDef<{ expr: string; program: Program }> = {
  name: 'BPF_FILTER',
  argdescr: 's',
  filters: true,
  summary: 'libpcap filter expression',
  instance: (args, ctx) => {
    const expr = args[0];
    if (typeof expr !== 'string' || expr.trim() === '') {
      return { ok: false, code: 7001, message: 'BPF_FILTER: argument 1 (expression) must be a non-empty string' };
    }
    try {
      return { ok: true, config: { expr, program: ctx.compilePcap(expr) } };
    } catch (e) {
      return { ok: false, code: 1025, message: `BPF_FILTER: argument 1 (expression) does not compile: ${(e as Error).message}` };
    }
  },
  stateWords: (config) => config.program.stateWords ?? 0,
  registers: (config) => config.program.registers,
  lower: (config, at) => at.inline(config.program),
};
