/**
 * GAP() — the time between the last two packets that reached it, in MAPI 32.32 units; 0 until
 * the second packet. The module keeps the raw timestamps of the last two packets; the exact
 * conversion and the subtraction happen when the result is read.
 */
import { bin, c, seq } from '../lang/ir/ir.js';
import { ntpTimestamp, s, setS, type MapiFunctionDef } from './lib/types.js';

// State: [prev sec, prev frac, last sec, last frac, packets seen (saturating at 2)].
export const GAP: MapiFunctionDef<null> = {
  name: 'GAP',
  argdescr: '',
  filters: false,
  summary: 'gap between the last two packets, 32.32 (u64)',
  instance: () => ({ ok: true, config: null }),
  stateWords: () => 5,
  lower: (_config, at) => {
    const b = at.stateBase;
    return seq(
      setS(b, s(b + 2)), setS(b + 1, s(b + 3)),
      setS(b + 2, { k: 'meta', m: 'tssec' }), setS(b + 3, { k: 'meta', m: 'tsfrac' }),
      { k: 'if', cond: bin('lt', s(b + 4), c(2)), then: setS(b + 4, bin('add', s(b + 4), c(1))) },
    );
  },
  result: (_config, st, ctx) => {
    if (st[4]! < 2) return { res: 0n, size: 8 };
    const gap = ntpTimestamp(st[2]!, st[3]!, ctx.nanoseconds) - ntpTimestamp(st[0]!, st[1]!, ctx.nanoseconds);
    return { res: BigInt.asUintN(64, gap), size: 8 };
  },
};
