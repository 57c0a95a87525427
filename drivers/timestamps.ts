/**
 * pcapng timestamps: a 64-bit count of interface units (if_tsresol) split into two u32 words,
 * converted to seconds (mod 2^32, as a pcap record holds them) and nanoseconds, exactly.
 */

export interface TsResolution {
  /** Units per second: 10^exp or 2^exp. */
  readonly decimal: boolean;
  readonly exp: number;
  /** Seconds added to every timestamp (if_tsoffset), mod 2^32. */
  readonly offset: number;
}

const TWO32 = 4294967296;
export const MICROSECONDS: TsResolution = { decimal: true, exp: 6, offset: 0 };

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** Below this `hi`, hi * 2^32 + lo and seconds * units stay under 2^53: exact in a double. */
const EXACT_HI = 0x1fffff;

/**
 * Writes seconds and nanoseconds for the timestamp (hi, lo) into out[0], out[1]. The usual case
 * (a decimal resolution up to ns, and µs since 1970: hi ≈ 400 000) stays small enough to be
 * inlined into the readers' per-packet loops; the rest is in convertRare.
 */
export function convertTimestamp(hi: number, lo: number, r: TsResolution, out: Uint32Array): void {
  if (hi < EXACT_HI && r.decimal && r.exp <= 9) {
    // One division, corrected by at most one unit should rounding have carried the quotient
    // across an integer.
    const units = POW10[r.exp]!;
    const t = hi * TWO32 + lo;
    let sec = Math.floor(t / units), rem = t - sec * units;
    if (rem < 0) { sec--; rem += units; } else if (rem >= units) { sec++; rem -= units; }
    out[0] = ((sec >>> 0) + r.offset) >>> 0;   // ToUint32 of an integer below 2^53 is exactly its value mod 2^32
    out[1] = rem * POW10[9 - r.exp]!;
    return;
  }
  convertRare(hi, lo, r, out);
}

function convertRare(hi: number, lo: number, r: TsResolution, out: Uint32Array): void {
  if (r.decimal && r.exp <= 9) {
    // units <= 1e9 < 2^32: long division in 16-bit steps keeps every intermediate below 2^53.
    const units = POW10[r.exp]!;
    const rHi = hi % units;   // hi / units only adds multiples of 2^32 seconds
    const n1 = rHi * 65536 + (lo >>> 16);
    const q1 = Math.floor(n1 / units), r1 = n1 % units;
    const n2 = r1 * 65536 + (lo & 0xffff);
    const q2 = Math.floor(n2 / units), r2 = n2 % units;
    // seconds mod 2^32 = (q1 * 2^16 + q2) mod 2^32.
    const sec = ((q1 % 65536) * 65536 + q2) % TWO32;
    out[0] = (sec + r.offset) % TWO32;
    out[1] = r2 * POW10[9 - r.exp]!;
    return;
  }
  // Finer than ns, or binary: exact BigInt arithmetic.
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const units = r.decimal ? 10n ** BigInt(r.exp) : 1n << BigInt(r.exp);
  const sec = t / units, rem = t % units;
  out[0] = Number((sec + BigInt(r.offset)) % 4294967296n);
  out[1] = Number((rem * 1000000000n) / units);
}
