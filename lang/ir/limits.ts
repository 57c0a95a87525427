/**
 * The sizes fplc accepts, in one place (documented in docs/limits.md). Up to these, compile
 * time and memory grow linearly with the input; past one, the error names the constant and the
 * position instead of running out of stack or memory.
 */

/** REGEXP: groups nested inside each other in one pattern. */
export const REGEX_MAX_NESTING = 200;
/** REGEXP: automaton instructions after counted repetition is expanded (`a{1000}` is ~1,000). */
export const REGEX_MAX_INSTRUCTIONS = 20_000;

/** libpcap expressions: primitives joined by `and`/`or` (≈ `and`/`or` operators + 1). */
export const PCAP_MAX_TERMS = 100_000;
/** libpcap expressions: parentheses nested inside each other (the parser recurses on each). */
export const PCAP_MAX_PAREN_DEPTH = 40;
/**
 * libpcap expressions: operators in one chain that nests — arithmetic operators between two
 * comparisons or parentheses (`ether[0] + 1 + 1 …`), or `not`s in a row.
 */
export const PCAP_MAX_OPERATOR_CHAIN = 256;

/**
 * The largest WebAssembly function body V8 compiles (its kV8MaxWasmFunctionSize): a program
 * whose filter function is larger is refused with this name instead of the engine's error.
 */
export const WASM_MAX_FUNCTION_BYTES = 7_654_321;

/**
 * MAPI: functions applied to one flow. A flow's chain compiles into one WebAssembly function
 * whose size and locals grow with it; past this, apply fails with 7006 (MFUNCT_COULD_NOT_APPLY).
 */
export const MAPI_MAX_FUNCTIONS_PER_FLOW = 10_000;
/**
 * Locals of a filter function above which binaryen's local coalescing (quadratic in them) is
 * skipped: 8,000 PKT_COUNTERs on one flow have 8,000 locals.
 */
export const WASM_COALESCE_MAX_LOCALS = 2_000;

/** FPL: characters of one program. */
export const FPL_MAX_SOURCE_LENGTH = 256 * 1024;
/** FPL: brackets and parentheses nested inside each other (the parser recurses on each). */
export const FPL_MAX_NESTING = 60;
/** FPL: operators on one path of an expression (`1 + 1 + …`, `!!!x`), across its brackets. */
export const FPL_MAX_OPERATOR_CHAIN = 1_000;
/** FPL: unary operators in a row (`!!!!x`, `- - x`): each one nests. */
export const FPL_MAX_UNARY_RUN = 200;
/** FPL: IF and FOR blocks nested inside each other. */
export const FPL_MAX_BLOCK_DEPTH = 100;
