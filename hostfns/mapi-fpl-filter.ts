/**
 * FPL_FILTER(char *program) — an FPL program (spec/fpl.md), compiled for the device's link
 * type and inlined into the flow with its own registers and M[] cells (kept across packets and
 * recompiles): a result of 0, or a fault, makes the packet leave the flow. A compile failure → 7001.
 */
import { inlineFilterFunction } from './lib/inline-filter.js';

export const FPL_FILTER = inlineFilterFunction({
  name: 'FPL_FILTER',
  summary: 'FPL filter program',
  what: 'program',
  compile: (ctx, source) => ctx.compileFpl(source),
  compileErrorCode: 7001,
});
