/**
 * The sizes fplc accepts, in one place (documented in docs/limits.md). Up to these, compile
 * time and memory grow linearly with the input; past one, the error names the constant and the
 * position instead of running out of stack or memory.
 */

/** REGEXP: groups nested inside each other in one pattern. */
export const REGEX_MAX_NESTING = 200;
/** REGEXP: automaton instructions after counted repetition is expanded (`a{1000}` is ~1,000). */
export const REGEX_MAX_INSTRUCTIONS = 20_000;
