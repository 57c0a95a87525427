/**
 * FPL_FILTER(char *program) — an FPL program (spec/fpl.md), compiled for the device's link
 * type and inlined into the flow with its own registers and M[] cells (kept across packets and
 * recompiles): a result of 0, or a fault, makes the packet leave the flow.
 */
import type { Program } from '../lang/ir/ir.js';
import type { MapiFunctionDef } from './mapi-types.js';

export const FPL_FILTER: MapiFunctionDef<{ source: string; program: Program }> = {
  name: 'FPL_FILTER',
  argdescr: 's',
  filters: true,
  summary: 'FPL filter program',
  instance: (args, ctx) => {
    const source = args[0];
    if (typeof source !== 'string' || source.trim() === '') {
      return { ok: false, code: 7001, message: 'FPL_FILTER: argument 1 (program) must be a non-empty string' };
    }
    try {
      return { ok: true, config: { source, program: ctx.compileFpl(source) } };
    } catch (e) {
      return { ok: false, code: 7001, message: `FPL_FILTER: argument 1 (program) does not compile: ${(e as Error).message}` };
    }
  },
  stateWords: (config) => config.program.stateWords ?? 0,
  registers: (config) => config.program.registers,
  memoryCells: (config) => config.program.memoryCells,
  lower: (config, at) => at.inline(config.program),
};
