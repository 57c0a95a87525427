/**
 * REGEXP's engine: a pattern compiles to an automaton that searches bytes in time linear in
 * their number (see regex-parse.ts for the syntax, regex-match.ts for the search).
 */
import { compileProgram, RegexTooLargeError } from './regex-compile.js';
import { RegexMatcher } from './regex-match.js';
import { parseRegex, RegexSyntaxError } from './regex-parse.js';

export { RegexMatcher } from './regex-match.js';

export type CompiledRegex = { ok: true; matcher: RegexMatcher } | { ok: false; message: string };

export function compileRegex(pattern: string): CompiledRegex {
  try {
    return { ok: true, matcher: new RegexMatcher(compileProgram(parseRegex(pattern))) };
  } catch (e) {
    if (e instanceof RegexSyntaxError || e instanceof RegexTooLargeError) return { ok: false, message: e.message };
    throw e;
  }
}
