/**
 * Offsets as `base + k`: how passes and backends relate loads that share a dynamic base (the
 * transport header, say) and differ by constants.
 */
import type { Expr } from './ir.js';

/**
 * offset = base + k with the constants pulled out of additions. k is the plain sum (it may
 * exceed 2^32 where the IR's addition would wrap: callers check base + k stays below 2^32).
 */
export function splitOffset(e: Expr): { base: Expr; k: number } {
  if (e.k === 'bin' && e.op === 'add') {
    if (e.b.k === 'const') { const r = splitOffset(e.a); return { base: r.base, k: r.k + e.b.v }; }
    if (e.a.k === 'const') { const r = splitOffset(e.b); return { base: r.base, k: r.k + e.a.v }; }
  }
  return { base: e, k: 0 };
}
