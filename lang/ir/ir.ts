/**
 * The IR every front end lowers to and every backend consumes (see DESIGN.md, "The IR").
 *
 * Semantics, in one place:
 * - Every value is an unsigned 32-bit integer; arithmetic wraps modulo 2^32; comparisons,
 *   division, modulo and right shift are unsigned. Comparisons and `land`/`lor`/`lnot` yield 0 or 1.
 * - State: registers R[0..registers), memory cells M[0..memoryCells) and host-function state
 *   words S[0..stateWords) (u32, persistent across packets, zero at load). `mem` indices are masked with memoryCells-1 (a power of two).
 * - Locals L[0..locals) are per-packet scratch (zero at the start of every packet); front ends
 *   use them for "evaluate once" temporaries and for cBPF's A, X and scratch M[].
 * - Faults never trap. Each of these ends the program for this packet with result 0 at once,
 *   keeping side effects made before it:
 *     - a load (or a field, or a hash byte) past the captured length,
 *     - division or modulo by zero,
 *     - running out of loop fuel (also counted in the module's fuel-exhausted counter).
 *   A shift by 32 or more gives 0 (not a fault).
 * - Evaluation is left to right, operands before operators; `land`/`lor` short-circuit.
 * - `inset` (set membership, added for long host/port/net lists) is 0 or 1 and faults only as
 *   its operand does.
 * - Falling off the end of the program returns 0.
 */

export type BinOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'mod'
  | 'and' | 'or' | 'xor' | 'shl' | 'shr'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

export type RelOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

export const REL_OPS: ReadonlySet<BinOp> = new Set<BinOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** Per-packet values the runtime knows without reading packet bytes. */
export type MetaName =
  | 'caplen'    // captured length (bytes present)
  | 'wirelen'   // length on the wire
  | 'tssec'     // timestamp: seconds (from the capture record)
  | 'tsfrac';   // timestamp: sub-second part, in the capture's unit (µs or ns)

export type Expr =
  | { k: 'const'; v: number }                       // v is an integer in [0, 2^32)
  | { k: 'reg'; n: number }                         // R[n]
  | { k: 'mem'; index: Expr }                       // M[index & (memoryCells-1)]
  | { k: 'local'; n: number }                       // L[n]
  /**
   * Word i of the host-function state area (S[0..stateWords)): counters, tables, previous
   * timestamps. With `at`, word i + at (computed modulo 2^32; a word outside S[] is a fault):
   * how flows that share one copy of their code each reach their own state (passes/dispatch.ts).
   */
  | { k: 'state'; i: number; at?: Expr }
  | { k: 'meta'; m: MetaName }
  /** Big-endian load of `size` bytes at frame offset `off` (from the first captured byte). */
  | { k: 'load'; off: Expr; size: 1 | 2 | 4 }
  /**
   * A named header field (see fields.ts). It reads bytes like a load at a link-type dependent
   * offset (+ `shift` extra bytes, for encapsulations such as VLAN tags); it does NOT test the
   * protocol — guards are explicit in the surrounding formula. Lowered per link type by
   * `lowerField` (fields.ts), which backends and the interpreter share.
   */
  | { k: 'field'; name: FieldName; shift?: number }
  | { k: 'bin'; op: BinOp; a: Expr; b: Expr }
  | { k: 'neg'; a: Expr }                           // two's complement negation (0 - a)
  | { k: 'bnot'; a: Expr }                          // bitwise not
  | { k: 'lnot'; a: Expr }                          // a == 0 ? 1 : 0
  | { k: 'land'; a: Expr; b: Expr }                 // short-circuit, 0/1
  | { k: 'lor'; a: Expr; b: Expr }                  // short-circuit, 0/1
  | { k: 'cond'; c: Expr; a: Expr; b: Expr }        // c != 0 ? a : b, only the taken arm runs
  /** FNV-1a 32-bit over frame bytes [off, off+len), then % range (range 0 gives 0). */
  | { k: 'hash'; off: Expr; len: Expr; range: Expr }
  /**
   * String search: 1 if any of `patterns` (non-empty byte strings, at least one) occurs whole
   * inside the packet bytes [from, min(to, caplen)), else 0. `from` is evaluated before `to`.
   * Never a fault: a region that is empty or starts past the captured bytes simply gives 0, and
   * a pattern that runs past `to` or the captured end does not count. (STR_SEARCH lowers here.)
   */
  | { k: 'search'; from: Expr; to: Expr; patterns: Uint8Array[] }
  /**
   * Set membership: 1 if the value of `e` is one of `set`, else 0. `set` holds distinct u32
   * constants in ascending order (possibly none). Faults only as `e` does. The membership-set
   * pass (passes/sets.ts) turns long `x == c1 || x == c2 || …` disjunctions into it; backends may
   * lower it to a hashed lookup, so its cost does not grow with the set.
   */
  | { k: 'inset'; e: Expr; set: readonly number[] }
  /**
   * Table lookup: values[j] when the value of `e` is keys[j], else 0xffffffff. `keys` holds
   * distinct u32 constants in ascending order, `values` as many u32 constants. Faults only as `e`
   * does; backends lower it like `inset`, so its cost does not grow with the table.
   */
  | { k: 'lookup'; e: Expr; keys: readonly number[]; values: readonly number[] }
  /** Call of a registered extern (see Extern below); `args` are evaluated left to right first. */
  | { k: 'extern'; id: number; args: Expr[] };

export type Stmt =
  | { k: 'seq'; body: Stmt[] }
  | { k: 'if'; cond: Expr; then: Stmt; else?: Stmt }
  /**
   * for (R[reg] = init, lim = limit; R[reg] cmp lim; R[reg] += step) body
   * `limit` is evaluated once, after `init`. Each iteration (each time the body is about to
   * run) consumes one unit of the packet's fuel; when none is left the program ends with 0.
   * The body may not write R[reg] (front ends check it). `step` is a u32 added modulo 2^32.
   */
  | { k: 'for'; reg: number; init: Expr; cmp: RelOp; limit: Expr; step: number; body: Stmt }
  | { k: 'break' }                                  // leaves the innermost `for`
  /**
   * A labelled block; `exit` with the same label jumps to just after it (forward only).
   * With `catchFaults`, a fault inside the body (a short load, a division by zero) just leaves
   * the block instead of ending the packet: how one MAPI flow's failed step drops the packet
   * for that flow only. Running out of fuel is not caught: it still ends the packet.
   */
  | { k: 'block'; label: number; body: Stmt; catchFaults?: boolean }
  | { k: 'exit'; label: number }
  | { k: 'return'; value: Expr }
  | { k: 'setreg'; n: number; value: Expr }
  | { k: 'setmem'; index: Expr; value: Expr }       // index evaluated before value
  | { k: 'setlocal'; n: number; value: Expr }
  | { k: 'setstate'; i: number; value: Expr; at?: Expr }   // S[i (+ at)] = value; `at` is evaluated first
  /**
   * One scan for many patterns (the pass passes/searchmerge.ts makes it from `search` nodes sharing a
   * region): for each j, bit (j % 32) of L[into + floor(j / 32)] is set iff patterns[j] occurs
   * whole inside the packet bytes [from, min(to, caplen)) — the region rule of `search` — and
   * every other bit of those ceil(n / 32) locals is cleared. `from` is evaluated before `to`;
   * faults only as they do. `patterns`: non-empty byte strings, at least one.
   */
  | { k: 'searchall'; from: Expr; to: Expr; patterns: Uint8Array[]; into: number }
  | { k: 'eval'; e: Expr };

/**
 * An extern the program calls. `name` is resolved by the runtime against the externs it
 * knows (built-ins shipped with fplc, MAPI functions, functions the application registers).
 * `config` carries the constant arguments that instantiate it (e.g. STR_SEARCH's pattern),
 * `inCell`/`outCell` the FFPF form's M[] spans. The call passes its evaluated `args`.
 */
export interface Extern {
  name: string;
  config: (string | number)[];
  inCell?: number;
  outCell?: number;
}

export interface Program {
  body: Stmt;
  /** DLT number the fields and offsets are meant for. */
  linkType: number;
  registers: number;          // number of R cells used (<= 256)
  memoryCells: number;        // power of two, >= 1
  locals: number;
  /**
   * Size of the host-function state area S[] in u32 words (default 0): persistent like M[] but
   * private to the functions that allocated it (MAPI functions compiled into the program), not
   * indexed by the program. Zero at load.
   */
  stateWords?: number;
  externs: Extern[];
  /** Default fuel (loop iterations per packet). */
  fuel: number;
  /** Where it came from, for metadata and messages. */
  source?: { language: 'fpl' | 'pcap' | 'cbpf' | 'chain'; text?: string; file?: string };
}

/** What `lookup` gives for a value that is not one of its keys. */
export const LOOKUP_MISS = 0xffffffff;

export const DEFAULT_FUEL = 65536;
export const DEFAULT_MEMORY_CELLS = 1024;

// Field names are declared in fields.ts (the single table of named fields).
import type { FieldName } from './fields.js';
export type { FieldName };

// Small constructors, so front ends read like the formulas they build.
export const c = (v: number): Expr => ({ k: 'const', v: v >>> 0 });
export const bin = (op: BinOp, a: Expr, b: Expr): Expr => ({ k: 'bin', op, a, b });
export const load = (off: Expr | number, size: 1 | 2 | 4): Expr =>
  ({ k: 'load', off: typeof off === 'number' ? c(off) : off, size });
export const field = (name: FieldName, shift?: number): Expr =>
  shift ? { k: 'field', name, shift } : { k: 'field', name };
export const land = (a: Expr, b: Expr): Expr => ({ k: 'land', a, b });
export const lor = (a: Expr, b: Expr): Expr => ({ k: 'lor', a, b });
export const lnot = (a: Expr): Expr => ({ k: 'lnot', a });
export const seq = (...body: Stmt[]): Stmt => ({ k: 'seq', body });
export const ret = (v: Expr | number): Stmt => ({ k: 'return', value: typeof v === 'number' ? c(v) : v });
export const search = (from: Expr, to: Expr, patterns: Uint8Array[]): Expr => ({ k: 'search', from, to, patterns });
/** A search pattern as a string key (hex), for telling patterns and pattern sets apart. */
export const patternKey = (p: Uint8Array): string => Array.from(p, (x) => x.toString(16).padStart(2, '0')).join('');
