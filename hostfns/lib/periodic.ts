/**
 * The periodic mode shared by STATS, BUCKET and RES2FILE (spec §2.1, BUCKET): the first packet
 * sets `last` to its time; a later packet whose time is more than one interval after `last`
 * fires: `last` advances by one interval per whole interval that has passed (the function sees
 * how many, to emit empty records for the skipped ones).
 */
import { bin, c, seq, type Stmt } from '../../lang/ir/ir.js';
import { add64, const64, L, locals64, lt64, ntpFromRecord, setL, state64, store64, sub64 } from './u64.js';
import { s, setS } from './types.js';

/** State words: last (u64), started. */
export const PERIODIC_WORDS = 3;

/**
 * IR that sets local `fired` to the number of whole intervals that ended (0 when none, and on
 * the first packet); `lastBase` are the PERIODIC_WORDS state words. Uses register `reg` as a
 * loop counter (bounded: at most 2^20 skipped intervals per packet are counted).
 */
export function periodicTick(interval: bigint, lastBase: number, fired: number, reg: number, nanoseconds: boolean, local: () => number): Stmt {
  const tlo = local(), thi = local(), dlo = local(), dhi = local(), nlo = local(), nhi = local();
  const iv = const64(interval);
  return seq(
    setL(fired, c(0)),
    ntpFromRecord({ k: 'meta', m: 'tssec' }, { k: 'meta', m: 'tsfrac' }, nanoseconds, tlo, thi, local),
    {
      k: 'if', cond: bin('eq', s(lastBase + 2), c(0)),
      then: seq(setS(lastBase + 2, c(1)), store64(lastBase, locals64(tlo, thi))),
      else: {
        k: 'for', reg, init: c(0), cmp: 'lt', limit: c(1 << 20), step: 1, body: seq(
          sub64(locals64(tlo, thi), state64(lastBase), dlo, dhi),
          // a packet earlier than `last` (time went backwards) fires nothing
          { k: 'if', cond: { k: 'lor', a: lt64(locals64(tlo, thi), state64(lastBase)), b: { k: 'lnot', a: lt64(iv, locals64(dlo, dhi)) } }, then: { k: 'break' } },
          add64(state64(lastBase), iv, nlo, nhi),
          store64(lastBase, locals64(nlo, nhi)),
          setL(fired, bin('add', L(fired), c(1))),
        ),
      },
    },
  );
}
