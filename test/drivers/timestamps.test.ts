/**
 * pcapng timestamp conversion against exact BigInt arithmetic: every resolution (decimal and
 * binary), offsets, and 64-bit counts on both sides of the fast path's exactness bound.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertTimestamp, type TsResolution } from '../../drivers/timestamps.js';

function reference(hi: number, lo: number, r: TsResolution): [number, number] {
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const units = r.decimal ? 10n ** BigInt(r.exp) : 1n << BigInt(r.exp);
  return [Number((t / units + BigInt(r.offset)) % 4294967296n), Number(((t % units) * 1000000000n) / units)];
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const hiValues = fc.oneof(
  fc.integer({ min: 0, max: 0x1fffff }),                       // the fast path (µs since 1970 is hi ≈ 400 000)
  fc.integer({ min: 0x1ffff0, max: 0x200010 }),                 // around its bound
  u32,                                                          // ns since 1970 and beyond
);
const resolutions = fc.record({
  decimal: fc.boolean(),
  exp: fc.integer({ min: 0, max: 12 }),
  offset: fc.oneof(fc.constant(0), u32),
}).map((r): TsResolution => (r.decimal ? r : { ...r, exp: Math.min(r.exp, 30) }));

describe('pcapng timestamps', () => {
  it('convert exactly: seconds mod 2^32 plus the offset, and nanoseconds', () => {
    const out = new Uint32Array(2);
    fc.assert(fc.property(hiValues, u32, resolutions, (hi, lo, r) => {
      convertTimestamp(hi, lo, r, out);
      expect([out[0], out[1]]).toEqual(reference(hi, lo, r));
    }), { numRuns: 20000 });
  });

  it('convert the last microsecond and nanosecond of a second, where rounding would carry', () => {
    const out = new Uint32Array(2);
    for (const exp of [6, 9]) {
      const units = 10 ** exp;
      for (const sec of [1, 1_700_000_000, 2 ** 32 - 1, Math.floor(2 ** 53 / units) - 1]) {
        const t = BigInt(sec) * BigInt(units) + BigInt(units - 1);
        const hi = Number(t >> 32n), lo = Number(t & 0xffffffffn);
        const r = { decimal: true, exp, offset: 0 };
        convertTimestamp(hi, lo, r, out);
        expect([out[0], out[1]], `${exp} ${sec}`).toEqual(reference(hi, lo, r));
      }
    }
  });
});
