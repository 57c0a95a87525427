/**
 * REGEXP(char* re) — passes the packets whose captured bytes (from the start of the link frame)
 * match a regular expression. MAPI used PCRE with default options; fplc runs the pattern as an
 * automaton (hostfns/lib/regex.ts), so a search takes time linear in the packet whatever the
 * pattern. The syntax is the common part of PCRE and JavaScript's RegExp (`.` matches neither
 * "\n" nor "\r"; `^`/`$` anchor at the whole packet) plus PCRE's (?i). What an automaton cannot
 * do (backreferences, lookaround, atomic groups, possessive quantifiers) → 7001 with the reason,
 * as do an empty pattern and a syntax error. Runs in JavaScript, for the packets that reach it only.
 */
import { compileRegex, type RegexMatcher } from './lib/regex.js';
import type { MapiFunctionDef } from './lib/types.js';

export interface RegexpConfig { matcher: RegexMatcher }

export const REGEXP: MapiFunctionDef<RegexpConfig> = {
  name: 'REGEXP',
  argdescr: 's',
  filters: true,
  library: 'extraflib',
  summary: 'passes packets whose bytes match a regular expression (an automaton: linear time)',
  instance: (args) => {
    const src = args[0] as string;
    if (src === '') return { ok: false, code: 7001, message: 'REGEXP: argument 1 (re) must not be empty' };
    const compiled = compileRegex(src);
    if (!compiled.ok) return { ok: false, code: 7001, message: `REGEXP: argument 1 (re) is refused: ${compiled.message}` };
    return { ok: true, config: { matcher: compiled.matcher } };
  },
  stateWords: () => 0,
  lower: (config, at) => ({
    k: 'if',
    cond: { k: 'lnot', a: at.externCall('REGEXP', (ctx) => (config.matcher.test(ctx.bytes, ctx.offset, ctx.offset + ctx.caplen) ? 1 : 0), []) },
    then: at.exitFlow,
  }),
};
