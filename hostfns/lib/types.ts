/**
 * The contract between the MAPI runtime (vm/mapi/) and the MAPI function library (one file per
 * function in hostfns/mapi-*.ts). A function validates its arguments at apply time, asks for
 * words of the device's state area S[], lowers to IR for one packet (run inside the device's
 * WebAssembly module), and turns its state words into the value `mapi_read_results` returns.
 *
 * A function knows its own state and nothing of flows: the runtime gives it where its words
 * are (`stateBase`) and the statement that makes the packet leave the flow (`exitFlow`).
 */
import { bin, c, type Expr, type Program, type Stmt } from '../../lang/ir/ir.js';
import type { ExternCallContext } from '../../abi/index.js';

/** What a function sees when it is applied. */
export interface MapiApplyContext {
  linkType: number;
  /** The device's snapshot length. */
  snaplen: number;
  /** Record timestamps' sub-second unit is nanoseconds (else microseconds). */
  nanoseconds: boolean;
  /** libpcap expression → IR for this device (throws CompileError). */
  compilePcap(expr: string): Program;
  /** FPL program → IR for this device (throws CompileError). */
  compileFpl(source: string): Program;
  /** The flow the function is applied to (its fd). */
  fd?: number;
  /**
   * The u64 result of function `fid` of flow `fd` on this device, to be read per packet
   * (BINOP, STATS, DIST, …); a string says why there is none.
   */
  u64Source?(fd: number, fid: number): MapiU64Source | string;
  /**
   * A JavaScript reader of the current result of function `fid` of flow `fd` (RES2FILE writes
   * any result type); a string says why there is none. The reference keeps the function alive.
   */
  resultOf?(fd: number, fid: number): MapiResultSource | string;
}

/** Another function's result, read in JavaScript (by an extern, when a row is due). */
export interface MapiResultSource {
  /** "NAME (fid N of flow F)", for messages. */
  label: string;
  /** The function's name (RES2FILE checks that R2F_STATS reads a STATS). */
  name: string;
  read(): MapiValue;
}

/** Where IR that reads or resets an instance's u64 result runs. */
export interface MapiValueContext {
  stateBase: number;
  /** A fresh per-packet local. */
  local(): number;
  /** Record timestamps' sub-second unit is nanoseconds (else microseconds). */
  nanoseconds: boolean;
}

/** A function's u64 result as other functions read it per packet. */
export interface MapiU64Source {
  /** "NAME (fid N of flow F)", for messages. */
  label: string;
  /** IR that leaves the u64 value in locals `lo` and `hi`. */
  read(lo: number, hi: number, local: () => number): Stmt;
  /** IR that resets the value (the function's reset), if it has one. */
  reset?(local: () => number): Stmt;
}

/** Where a function instance lowers into the device program. */
export interface MapiLowerContext {
  linkType: number;
  /** First of the instance's state words (S[stateBase …]). */
  stateBase: number;
  /** Makes the packet leave the flow (the rest of the flow's functions do not run). */
  exitFlow: Stmt;
  /** A fresh per-packet local for the instance (zero at the start of each packet). */
  local(): number;
  /** First of the registers the instance asked for (`registers`); stable across recompiles. */
  regBase: number;
  /** Inlines a compiled filter program as a step: a result of 0 leaves the flow. Its registers
   * and M[] cells map to the instance's own (`registers`, `memoryCells`). */
  inline(program: Program): Stmt;
  /** An expression calling `call` in JavaScript for the packets that reach it. */
  externCall(name: string, call: (ctx: ExternCallContext, args: readonly number[]) => number, args: Expr[]): Expr;
  /** Record timestamps' sub-second unit is nanoseconds (else microseconds). */
  nanoseconds?: boolean;
  /** First of the M[] cells the instance asked for (`memoryCells`); M[memBase + i] is its cell i. */
  memBase?: number;
}

/** Per-instance JavaScript object shared by lowering, externs and results (e.g. TO_BUFFER's queue). */
export interface MapiResultContext {
  /** Record timestamps' sub-second unit is nanoseconds (else microseconds). */
  nanoseconds: boolean;
  /** The instance's M[] cells (`memoryCells`), a live view (TOP's table, BUCKET's ring). */
  memory?: Uint32Array;
}

/** Units a function emits for the rest of its flow, as ABI records (16-byte pcap record header, then the bytes). */
export interface MapiCookedOutput {
  /** The records emitted since the last call (a view, valid until the next call), or undefined when there are none. */
  take(): Uint8Array | undefined;
  /** Emits what is still held (end of the trace). */
  flush(): void;
}

export type MapiInstanceResult<C> = { ok: true; config: C } | { ok: false; code: number; message: string };

/** What `mapi_read_results` returns for a function: its value and its size in bytes. */
export interface MapiValue { res: unknown; size: number }

export interface MapiFunctionDef<C = unknown> {
  name: string;
  /** MAPI argument letters: s string, i int, l u64, c char, r flow fd, f fid, S fid list, w file name. */
  argdescr: string;
  /** May drop packets. */
  filters: boolean;
  summary: string;
  /** Checks the arguments (already typed by argdescr); an error names the argument. */
  instance(args: readonly unknown[], ctx: MapiApplyContext): MapiInstanceResult<C>;
  /** Words of S[] the instance needs. */
  stateWords(config: C): number;
  /** Registers R[] the instance needs (loop counters, an inlined program's registers). */
  registers?(config: C): number;
  /** M[] cells the instance needs (a power of two: an inlined program's memory). */
  memoryCells?(config: C): number;
  /** Sets the instance's state words once, when it is applied (they are zero before). */
  init?(config: C, state: Uint32Array, ctx: { seed: number }): void;
  /** IR run for each packet that reaches the function. */
  lower(config: C, at: MapiLowerContext): Stmt;
  /** The value of the instance, from its state words (a view, valid during the call). */
  result?(config: C, state: Uint32Array, ctx: MapiResultContext): MapiValue;
  /** IR leaving the u64 result in locals lo, hi (functions whose result others read per packet). */
  value64?(config: C, at: MapiValueContext, lo: number, hi: number): Stmt;
  /** IR resetting the result (MAPI's reset hook). */
  reset64?(config: C, at: MapiValueContext): Stmt;
  /** Runs once when the trace ends or the flow is closed (final writes, e.g. RES2FILE "-1"). */
  finish?(config: C, state: Uint32Array, ctx: MapiResultContext): void;
  /** Releases what the instance holds outside the device (open files); after `finish`. */
  cleanup?(config: C): void;
  /**
   * A function whose packets leave the flow and come back as other units (COOKING): the
   * flow's steps after it run on the units `take` returns, after each batch (spec of COOKING).
   */
  cooked?(config: C): MapiCookedOutput;
  /** The device type OID the definition is for (spec §4.2); default "1", software. */
  devtype?: string;
  /** The function library it belongs to (`lib:` in `[lib:]NAME[!oid]`); default "stdflib". */
  library?: string;
  /**
   * A function that must run before another function of its flow (RES2FILE, periodic BUCKET:
   * they write a value before the packet that ends an interval is counted). The instance is
   * moved to just before the function with this id, when it is in the same flow (spec §7: by id).
   */
  moveBefore?(config: C): number | undefined;
}

// ---- helpers shared by the function files ----

export const s = (i: number): Expr => ({ k: 'state', i });
export const setS = (i: number, value: Expr): Stmt => ({ k: 'setstate', i, value });

/**
 * S[lo], S[lo+1] += x as a 64-bit counter (low word first; carry when the low word wraps: the
 * sum is below the constant added, or below the old low word).
 */
export function add64(lo: number, x: Expr, tmp: number): Stmt {
  return {
    k: 'seq', body: [
      { k: 'setlocal', n: tmp, value: bin('add', s(lo), x) },
      { k: 'if', cond: bin('lt', { k: 'local', n: tmp }, x.k === 'const' ? x : s(lo)), then: setS(lo + 1, bin('add', s(lo + 1), c(1))) },
      setS(lo, { k: 'local', n: tmp }),
    ],
  };
}

/** The u64 held in two state words (low, high). */
export const read64 = (state: Uint32Array, lo: number): bigint =>
  (BigInt(state[lo + 1]!) << 32n) | BigInt(state[lo]!);

/**
 * A capture timestamp as MAPI's 32.32 fixed point: seconds in the high word, the binary
 * fraction of a second in the low word, rounded to nearest (µs or ns → 2^-32 s exactly).
 */
export function ntpTimestamp(sec: number, frac: number, nanoseconds: boolean): bigint {
  const unit = nanoseconds ? 1_000_000_000n : 1_000_000n;
  const f = (BigInt(frac) * (1n << 32n) + unit / 2n) / unit;
  return (BigInt(sec) << 32n) + f;   // a fraction of a full second (bad record) carries into the seconds
}

/** Integer argument check shared by the functions: a safe integer within 32 bits. */
export const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff;

/** The MAPI argument-error code for argument n (1-based): 7001–7005, then 7011. */
export function argErrorCode(n: number): number {
  return n <= 5 ? 7000 + n : n === 6 ? 7011 : 7000;
}

export function argError(n: number, fn: string, message: string): { ok: false; code: number; message: string } {
  return { ok: false, code: argErrorCode(n), message: `${fn}: argument ${n} ${message}` };
}
