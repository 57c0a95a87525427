/**
 * PKTINFO(int info) — the last packet's timestamp (PKT_TS = 0, MAPI 32.32 fixed point) or wire
 * length (PKT_SIZE = 1); result: u64. The module stores the raw record values; the exact
 * conversion to 32.32 happens when the result is read.
 */
import { seq } from '../lang/ir/ir.js';
import { isInt, ntpTimestamp, setS, type MapiFunctionDef } from './lib/types.js';

export const PKT_TS = 0;
export const PKT_SIZE = 1;

export const PKTINFO: MapiFunctionDef<{ info: number }> = {
  name: 'PKTINFO',
  argdescr: 'i',
  filters: false,
  summary: 'timestamp (0, 32.32) or wire length (1) of the last packet (u64)',
  instance: (args) => {
    const info = args[0];
    if (!isInt(info) || (info !== PKT_TS && info !== PKT_SIZE)) {
      // The MAPI library reports PKTINFO's bad selector as 7002 (spec §2.1).
      return { ok: false, code: 7002, message: `PKTINFO: argument 1 (info) must be PKT_TS (0) or PKT_SIZE (1), not ${String(info)}` };
    }
    return { ok: true, config: { info } };
  },
  stateWords: () => 2,
  lower: ({ info }, at) => info === PKT_TS
    ? seq(setS(at.stateBase, { k: 'meta', m: 'tssec' }), setS(at.stateBase + 1, { k: 'meta', m: 'tsfrac' }))
    : setS(at.stateBase, { k: 'meta', m: 'wirelen' }),
  result: ({ info }, state, ctx) => ({
    res: info === PKT_TS ? (state[0] || state[1] ? ntpTimestamp(state[0]!, state[1]!, ctx.nanoseconds) : 0n) : BigInt(state[0]!),
    size: 8,
  }),
};

/** The name some MAPI documents use; the same function. */
export const PKT_INFO: MapiFunctionDef<{ info: number }> = { ...PKTINFO, name: 'PKT_INFO' };
