/**
 * The shape shared by the functions that inline a compiled filter program into the flow
 * (BPF_FILTER, FPL_FILTER): a non-empty source string, compiled for the device at apply time,
 * inlined as a step with its own registers, M[] cells and state words. A result of 0, or a
 * fault, makes the packet leave the flow.
 */
import type { Program } from '../../lang/ir/ir.js';
import type { MapiApplyContext, MapiFunctionDef } from './types.js';

export interface InlineFilterConfig { source: string; program: Program }

export function inlineFilterFunction(spec: {
  name: string;
  summary: string;
  /** What argument 1 is, for messages ("expression", "program"). */
  what: string;
  compile(ctx: MapiApplyContext, source: string): Program;
  /** MAPI's code for a source that does not compile. */
  compileErrorCode: number;
}): MapiFunctionDef<InlineFilterConfig> {
  return {
    name: spec.name,
    argdescr: 's',
    filters: true,
    summary: spec.summary,
    instance: (args, ctx) => {
      const source = args[0];
      if (typeof source !== 'string' || source.trim() === '') {
        return { ok: false, code: 7001, message: `${spec.name}: argument 1 (${spec.what}) must be a non-empty string` };
      }
      try {
        return { ok: true, config: { source, program: spec.compile(ctx, source) } };
      } catch (e) {
        return { ok: false, code: spec.compileErrorCode, message: `${spec.name}: argument 1 (${spec.what}) does not compile: ${(e as Error).message}` };
      }
    },
    stateWords: (config) => config.program.stateWords ?? 0,
    registers: (config) => config.program.registers,
    memoryCells: (config) => config.program.memoryCells,
    lower: (config, at) => at.inline(config.program),
  };
}
