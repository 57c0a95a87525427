/**
 * MAPI time strings (spec §1.2): a decimal number with an optional leading `+`, then an optional
 * unit, as 32.32 fixed-point ticks. Units are matched exactly (spec §7), not by prefix:
 *   `ms` ×4294967, `us` ×4294, `s` ×2^32, `m` minutes (60 × 2^32; MAPI's ×25769803760 was a bug),
 *   no unit: the value is already in ticks.
 * The multipliers of `ms` and `us` are MAPI's (truncated 2^32/1000 and 2^32/10^6), so intervals
 * mean what they meant in MAPI programs. The product is truncated toward zero.
 */
const UNIT_TICKS: Record<string, number> = { ms: 4294967, us: 4294, s: 2 ** 32, m: 60 * 2 ** 32, '': 1 };

export interface TimeValue { ticks: bigint; relative: boolean }

/** Parses a time string; undefined when it is not one (or is negative, or exceeds 64 bits). */
export function parseTimeString(text: string): TimeValue | undefined {
  const m = /^\s*(\+?)(\d+(?:\.\d*)?|\.\d+)(ms|us|s|m|)\s*$/.exec(text);
  if (!m) return undefined;
  const ticks = scaleDecimal(m[2]!, UNIT_TICKS[m[3]!]!);
  if (ticks >= 1n << 64n) return undefined;
  return { ticks, relative: m[1] === '+' };
}

/** floor(decimal × multiplier), exactly (no binary floating point). */
function scaleDecimal(decimal: string, multiplier: number): bigint {
  const [whole = '', fraction = ''] = decimal.split('.');
  const scale = 10n ** BigInt(fraction.length);
  return (BigInt(`${whole || '0'}${fraction}`) * BigInt(multiplier)) / scale;
}

/** A human reading of a tick count, for messages. */
export const ticksToSeconds = (ticks: bigint): number => Number(ticks) / 2 ** 32;
