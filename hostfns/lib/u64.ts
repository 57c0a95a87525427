/**
 * 64-bit (and wider) arithmetic as IR over u32 values, for the MAPI functions whose results are
 * u64 (BINOP, STATS, DIST, BUCKET, THRESHOLD, …). A u64 is a pair of expressions or locals
 * (low word, high word). Every helper here is fault-free: no loads, no division by a value that
 * can be zero.
 *
 * Also the u64 values of the functions that predate `value64` (PKT_COUNTER, BYTE_COUNTER,
 * PKTINFO, GAP, HASH): their per-packet value in IR, equal to what their `result` returns.
 */
import { bin, c, seq, type Expr, type Stmt } from '../../lang/ir/ir.js';
import { BYTE_COUNTER } from '../mapi-byte-counter.js';
import { GAP } from '../mapi-gap.js';
import { HASH } from '../mapi-hash.js';
import { PKT_COUNTER } from '../mapi-pkt-counter.js';
import { PKT_INFO, PKT_TS, PKTINFO } from '../mapi-pktinfo.js';
import { s, setS, type MapiApplyContext, type MapiFunctionDef, type MapiU64Source, type MapiValueContext } from './types.js';

export type U64 = readonly [lo: Expr, hi: Expr];

export const L = (n: number): Expr => ({ k: 'local', n });
export const setL = (n: number, value: Expr): Stmt => ({ k: 'setlocal', n, value });
export const locals64 = (lo: number, hi: number): U64 => [L(lo), L(hi)];
export const state64 = (i: number): U64 => [s(i), s(i + 1)];
export const const64 = (v: bigint): U64 => [c(Number(v & 0xffffffffn)), c(Number((v >> 32n) & 0xffffffffn))];
export const store64 = (i: number, v: U64): Stmt => seq(setS(i, v[0]), setS(i + 1, v[1]));

/** a < b, unsigned 64-bit. */
export const lt64 = (a: U64, b: U64): Expr =>
  ({ k: 'lor', a: bin('lt', a[1], b[1]), b: { k: 'land', a: bin('eq', a[1], b[1]), b: bin('lt', a[0], b[0]) } });
export const eq64 = (a: U64, b: U64): Expr => ({ k: 'land', a: bin('eq', a[0], b[0]), b: bin('eq', a[1], b[1]) });
export const isZero64 = (a: U64): Expr => bin('eq', bin('or', a[0], a[1]), c(0));

/** (lo, hi) = a + b mod 2^64; `lo`/`hi` may not appear in a or b. */
export const add64 = (a: U64, b: U64, lo: number, hi: number): Stmt => seq(
  setL(lo, bin('add', a[0], b[0])),
  setL(hi, bin('add', bin('add', a[1], b[1]), bin('lt', L(lo), b[0]))),
);

/** (lo, hi) = a − b mod 2^64; `lo`/`hi` may not appear in a or b. */
export const sub64 = (a: U64, b: U64, lo: number, hi: number): Stmt => seq(
  setL(hi, bin('sub', bin('sub', a[1], b[1]), bin('lt', a[0], b[0]))),
  setL(lo, bin('sub', a[0], b[0])),
);

/** S[base + word …] += x, carrying into the words above up to S[base + words − 1]. */
export function addWordAt(base: number, words: number, word: number, x: Expr, tmp: number, carry: number): Stmt {
  const body: Stmt[] = [setL(tmp, bin('add', s(base + word), x)), setL(carry, bin('lt', L(tmp), s(base + word))), setS(base + word, L(tmp))];
  for (let w = word + 1; w < words; w++) {
    body.push(setS(base + w, bin('add', s(base + w), L(carry))), setL(carry, { k: 'land', a: L(carry), b: bin('eq', s(base + w), c(0)) }));
  }
  return seq(...body);
}

/** S[base … base+words) += v (an unsigned multi-word sum, low word first). */
export function addU64ToWide(base: number, words: number, v: U64, tmp: number, carry: number): Stmt {
  return seq(addWordAt(base, words, 0, v[0], tmp, carry), addWordAt(base, words, 1, v[1], tmp, carry));
}

/** S[base … base+words) += v², with 16-bit limbs so that every partial product fits in 32 bits. */
export function addSquareToWide(base: number, words: number, v: U64, local: () => number): Stmt {
  const limbs = [0, 1, 2, 3].map(() => local());
  const p = local(), tmp = local(), carry = local();
  const body: Stmt[] = [
    setL(limbs[0]!, bin('and', v[0], c(0xffff))), setL(limbs[1]!, bin('shr', v[0], c(16))),
    setL(limbs[2]!, bin('and', v[1], c(0xffff))), setL(limbs[3]!, bin('shr', v[1], c(16))),
  ];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const k = i + j;   // the product weighs 2^(16k)
      body.push(setL(p, bin('mul', L(limbs[i]!), L(limbs[j]!))));
      if (k % 2 === 0) body.push(addWordAt(base, words, k / 2, L(p), tmp, carry));
      else {
        body.push(addWordAt(base, words, (k - 1) / 2, bin('shl', L(p), c(16)), tmp, carry));
        if ((k + 1) / 2 < words) body.push(addWordAt(base, words, (k + 1) / 2, bin('shr', L(p), c(16)), tmp, carry));
      }
    }
  }
  return seq(...body);
}

/** The multi-word unsigned value of a state area, as a bigint (low word first). */
export function readWide(state: Uint32Array, at: number, words: number): bigint {
  let v = 0n;
  for (let w = words - 1; w >= 0; w--) v = (v << 32n) | BigInt(state[at + w]!);
  return v;
}

/**
 * (qlo, qhi) = n / d and `rem` = n mod d, for a u64 n and a constant odd-or-even 32-bit d,
 * by long division in chunks of `w` bits (d · 2^w < 2^32, so every partial step fits).
 */
function divConst(n: U64, d: number, qlo: number, qhi: number, rem: number, cur: number): Stmt {
  let w = 16;
  while (w > 1 && d * 2 ** w >= 2 ** 32) w /= 2;
  const mask = 2 ** w - 1;
  const body: Stmt[] = [setL(rem, c(0)), setL(qlo, c(0)), setL(qhi, c(0))];
  for (let top = 64 - w; top >= 0; top -= w) {
    const chunk = top >= 32 ? bin('and', bin('shr', n[1], c(top - 32)), c(mask)) : bin('and', bin('shr', n[0], c(top)), c(mask));
    body.push(
      setL(cur, bin('or', bin('shl', L(rem), c(w)), chunk)),
      setL(qhi, bin('or', bin('shl', L(qhi), c(w)), bin('shr', L(qlo), c(32 - w)))),
      setL(qlo, bin('or', bin('shl', L(qlo), c(w)), bin('div', L(cur), c(d)))),
      setL(rem, bin('mod', L(cur), c(d))),
    );
  }
  return seq(...body);
}

/**
 * (lo, hi) = a record timestamp (seconds, sub-second units) as MAPI's 32.32 fixed point, rounded
 * to nearest: exactly `ntpTimestamp` of mapi-types.ts. unit = 2^e · d (d odd), so
 * frac · 2^32 / unit = frac · 2^(32−e) / d, and adding (d−1)/2 rounds (d odd: no ties).
 */
export function ntpFromRecord(sec: Expr, frac: Expr, nanoseconds: boolean, lo: number, hi: number, local: () => number): Stmt {
  const e = nanoseconds ? 9 : 6;
  const d = nanoseconds ? 1953125 : 15625;
  const shift = 32 - e;
  const nlo = local(), nhi = local(), qlo = local(), qhi = local(), rem = local(), cur = local();
  const half = (d - 1) / 2;
  return seq(
    setL(nlo, bin('add', bin('shl', frac, c(shift)), c(half))),
    setL(nhi, bin('add', bin('shr', frac, c(32 - shift)), bin('lt', L(nlo), c(half)))),
    divConst(locals64(nlo, nhi), d, qlo, qhi, rem, cur),
    setL(lo, L(qlo)),
    setL(hi, bin('add', sec, L(qhi))),
  );
}

/**
 * (qlo, qhi) = n / d for u64 n and d (restoring division, 64 steps of a bounded loop on `reg`);
 * d = 0 gives 0. `n` and `d` must not use the output locals.
 */
export function divU64(n: U64, d: U64, qlo: number, qhi: number, reg: number, local: () => number): Stmt {
  const nlo = local(), nhi = local(), rlo = local(), rhi = local(), tlo = local(), thi = local(), dlo = local(), dhi = local();
  const shl1 = (lo: number, hi: number, inBit: Expr): Stmt[] => [
    setL(hi, bin('or', bin('shl', L(hi), c(1)), bin('shr', L(lo), c(31)))),
    setL(lo, bin('or', bin('shl', L(lo), c(1)), inBit)),
  ];
  return seq(
    setL(nlo, n[0]), setL(nhi, n[1]), setL(dlo, d[0]), setL(dhi, d[1]),
    setL(rlo, c(0)), setL(rhi, c(0)), setL(qlo, c(0)), setL(qhi, c(0)),
    { k: 'if', cond: isZero64(locals64(dlo, dhi)), then: { k: 'eval', e: c(0) }, else: {
      k: 'for', reg, init: c(0), cmp: 'lt', limit: c(64), step: 1, body: seq(
        setL(tlo, bin('shr', L(nhi), c(31))),   // the next bit of n
        ...shl1(nlo, nhi, c(0)),
        ...shl1(rlo, rhi, L(tlo)),
        ...shl1(qlo, qhi, c(0)),
        { k: 'if', cond: lt64(locals64(rlo, rhi), locals64(dlo, dhi)), then: { k: 'eval', e: c(0) }, else: seq(
          sub64(locals64(rlo, rhi), locals64(dlo, dhi), tlo, thi),
          setL(rlo, L(tlo)), setL(rhi, L(thi)),
          setL(qlo, bin('or', L(qlo), c(1))),
        ) },
      ),
    } },
  );
}

// ---- u64 values of the functions that predate value64 ----

type Value64 = (config: any, at: MapiValueContext, lo: number, hi: number) => Stmt;
type Reset64 = (config: any, at: MapiValueContext) => Stmt;

const counterValue: Value64 = (_c, at, lo, hi) => seq(setL(lo, s(at.stateBase)), setL(hi, s(at.stateBase + 1)));
const counterReset: Reset64 = (_c, at) => seq(setS(at.stateBase, c(0)), setS(at.stateBase + 1, c(0)));

const pktinfoValue: Value64 = (config: { info: number }, at, lo, hi) => {
  const b = at.stateBase;
  if (config.info !== PKT_TS) return seq(setL(lo, s(b)), setL(hi, c(0)));
  return {
    k: 'if', cond: bin('eq', bin('or', s(b), s(b + 1)), c(0)), then: seq(setL(lo, c(0)), setL(hi, c(0))),
    else: ntpFromRecord(s(b), s(b + 1), at.nanoseconds, lo, hi, at.local),
  };
};

const gapValue: Value64 = (_c, at, lo, hi) => {
  const b = at.stateBase;
  const plo = at.local(), phi = at.local(), qlo = at.local(), qhi = at.local();
  return {
    k: 'if', cond: bin('lt', s(b + 4), c(2)), then: seq(setL(lo, c(0)), setL(hi, c(0))),
    else: seq(
      ntpFromRecord(s(b), s(b + 1), at.nanoseconds, plo, phi, at.local),
      ntpFromRecord(s(b + 2), s(b + 3), at.nanoseconds, qlo, qhi, at.local),
      sub64(locals64(qlo, qhi), locals64(plo, phi), lo, hi),
    ),
  };
};

const hashValue: Value64 = (_c, at, lo, hi) => seq(setL(lo, s(at.stateBase)), setL(hi, c(0)));

const LEGACY = new Map<MapiFunctionDef<any>, { value: Value64; reset?: Reset64 }>([
  [PKT_COUNTER, { value: counterValue, reset: counterReset }],
  [BYTE_COUNTER, { value: counterValue, reset: counterReset }],
  [PKTINFO, { value: pktinfoValue }],
  [PKT_INFO, { value: pktinfoValue }],
  [GAP, { value: gapValue }],
  [HASH, { value: hashValue }],
]);

/** How to read (and reset) a function's u64 result per packet; undefined when it has none. */
export function u64Access(def: MapiFunctionDef<any>): { value: Value64; reset?: Reset64 } | undefined {
  if (def.value64) return { value: def.value64.bind(def), reset: def.reset64?.bind(def) };
  return LEGACY.get(def);
}

/** The u64 source named by a (fd, fid) argument pair, or the error (with `code`) naming the argument. */
export function referenceArg(ctx: MapiApplyContext, fd: unknown, fid: unknown, code: number, fn: string, what: string):
  { ok: true; source: MapiU64Source } | { ok: false; code: number; message: string } {
  const src = ctx.u64Source ? ctx.u64Source(fd as number, fid as number) : 'this device cannot resolve function references';
  if (typeof src === 'string') return { ok: false, code, message: `${fn}: ${what} (fid ${String(fid)} of flow ${String(fd)}): ${src}` };
  return { ok: true, source: src };
}
