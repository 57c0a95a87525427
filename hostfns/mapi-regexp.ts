/**
 * REGEXP(char* re) — passes the packets whose captured bytes (from the start of the link frame)
 * match a regular expression. MAPI used PCRE with default options; fplc uses JavaScript's
 * RegExp without flags over the bytes read as Latin-1 (one character per byte). The two agree
 * for the common subset (literals, classes, quantifiers, alternation, groups, anchors; `.` does
 * not match "\n"; `^`/`$` anchor at the whole packet). They differ on PCRE-only syntax
 * (possessive quantifiers, atomic groups, \A \Z, inline options other than none, recursion),
 * which JavaScript rejects → 7001, and on lookbehind/\d details that JavaScript defines itself.
 * A compile error → 7001. Runs in JavaScript, for the packets that reach it only.
 */
import type { MapiFunctionDef } from './lib/types.js';

export interface RegexpConfig { re: RegExp }


export const REGEXP: MapiFunctionDef<RegexpConfig> = {
  name: 'REGEXP',
  argdescr: 's',
  filters: true,
  library: 'extraflib',
  summary: 'passes packets whose bytes match a regular expression (JavaScript RegExp over Latin-1)',
  instance: (args) => {
    const src = args[0] as string;
    if (src === '') return { ok: false, code: 7001, message: 'REGEXP: argument 1 (re) must not be empty' };
    try {
      return { ok: true, config: { re: new RegExp(src) } };
    } catch (e) {
      return { ok: false, code: 7001, message: `REGEXP: argument 1 (re) does not compile: ${(e as Error).message}` };
    }
  },
  stateWords: () => 0,
  lower: (config, at) => ({
    k: 'if',
    cond: { k: 'lnot', a: at.externCall('REGEXP', (ctx) => (config.re.test(Buffer.from(ctx.bytes.buffer, ctx.bytes.byteOffset + ctx.offset, ctx.caplen).toString('latin1')) ? 1 : 0), []) },
    then: at.exitFlow,
  }),
};
