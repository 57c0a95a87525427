/**
 * BPF_FILTER(char *expr) — a libpcap filter expression, compiled for the device's link type
 * and snaplen and inlined into the flow: a packet it rejects (or whose loads run past the
 * captured bytes) leaves the flow. A compile failure → 1025.
 */
import { inlineFilterFunction } from './lib/inline-filter.js';

export const BPF_FILTER = inlineFilterFunction({
  name: 'BPF_FILTER',
  summary: 'libpcap filter expression',
  what: 'expression',
  compile: (ctx, expr) => ctx.compilePcap(expr),
  compileErrorCode: 1025,
});
