/**
 * The ABI between compiled modules, the runtime and the drivers: memory layout, the batch
 * record format, the exported entry point and the metadata custom section. Pure data and
 * tiny helpers; it imports nothing but the link-type table (lang/ir/linktypes.ts, a leaf), so
 * vm/, codegen/, hostfns/ and drivers/ all import it without importing each other.
 *
 * Memory (imported by every module as env.memory, so state survives recompiles):
 *
 *   0        CTRL block (64 bytes, u32 words, see CTRL_*)
 *   64       R[0..256)            registers, u32 each
 *   1088     (reserved up to 4096)
 *   4096     M[0..memoryCells)    u32 each
 *   stateOff host-function state (stateBytes), 64-byte aligned
 *   batchOff packet batch (batchBytes), 64 KiB aligned: pcap records back to back
 *   resultsOff one u32 result per record of the batch
 *   indexOff  one u32 record offset per record of the batch (run_index's descriptors)
 *   tablesOff hash tables of large sets (tablesBytes), page aligned, written by the module's
 *             data segments when it is instantiated; read-only to the module and the runtime
 *
 * A batch record is a pcap record in little-endian byte order: u32 ts_sec, u32 ts_frac
 * (µs or ns, as the capture says), u32 caplen, u32 wirelen, then caplen bytes. Drivers
 * validate every record before it reaches a module (caplen <= snaplen bound, record inside
 * the batch), so modules trust the headers.
 *
 * Entry point: `run(start, end, out) -> count` processes the records in [start, end), writes
 * one u32 per record at out, out+4, … and returns how many it processed. It stops early, before
 * a record that does not lie whole inside [start, end) or whose caplen exceeds
 * CTRL_RECORD_LIMIT, and leaves the offset where it stopped in CTRL_BATCH_STOP: a pcap file
 * read straight into the batch area is filtered in place, and the runtime carries the partial
 * record at the end of a chunk over to the next one.
 *
 * Second entry point: `run_index(start, end, index, count, out) -> n` runs the records whose
 * offsets are the u32 entries index[0..count) (each the offset of a 16-byte record header; any
 * order, repeats allowed), one `filter` call per entry, result i stored at out + 4i. The records
 * are independent of each other, so the CPU overlaps them (`run` must load a record's caplen
 * before it knows where the next one starts). The index is the runtime's own and is validated
 * where it is built, so run_index trusts it, as libpcap's loop trusts its packet descriptors:
 * every entry must name a record that lies whole inside [start, end) with a caplen of at most
 * MAX_CAPLEN (stageIndex in vm/filter.ts keeps the entries before the first that does not; the
 * pcapng driver lists only such records). An entry that breaks this makes its packet's verdict
 * meaningless, or the call traps on a read past the memory's end; it cannot reach outside the
 * module's memory. run_index does check, once per call, that entries and result slots lie
 * inside the memory: it stops before the first that does not, stores the address of the first
 * entry it did not run (index + 4n) in CTRL_BATCH_STOP and returns n. The runtime keeps a
 * staged index in the index area (indexOff, room for one entry per result).
 *
 * Third entry point: `tally(out, n) -> matched` counts the non-zero u32 results at out[0..n)
 * and leaves the first one in CTRL_TALLY_CODE and whether another differs from it in
 * CTRL_TALLY_MIXED, so that a runtime counting verdicts per code need not loop over a batch's
 * results in JavaScript (cold JavaScript takes ~4 ns per result, tally ~0.3). Optional: modules
 * compiled before it existed lack it.
 */
export { LINK_TYPES, linkTypeInfo, linkTypeName, resolveLinkType, DLT_EN10MB } from '../lang/ir/linktypes.js';
export { MAX_CAPLEN, RECORD_HEADER_BYTES, recordCaplen, recordCaplenAt } from './records.js';

export const PAGE_BYTES = 65536;

/** u32 word offsets (bytes) in the CTRL block. */
export const CTRL_FUEL_EXHAUSTED = 0;   // packets that ran out of loop fuel (the module increments it)
export const CTRL_FUEL_LIMIT = 4;       // loop iterations allowed per packet (the runtime sets it)
export const CTRL_PACKETS = 8;          // packets processed since reset (the module increments it)
export const CTRL_BATCH_STOP = 12;      // where the last `run` stopped: a record offset; for run_index an entry address (the module writes it)
export const CTRL_RECORD_LIMIT = 16;    // largest caplen `run` accepts (the runtime sets it)
export const CTRL_TALLY_CODE = 20;      // `tally`: the first non-zero result it counted, 0 if none (the module writes it)
export const CTRL_TALLY_MIXED = 24;     // `tally`: 1 if a non-zero result differs from that first one, else 0 (the module writes it)
export const CTRL_BYTES = 64;

export const REGS_OFF = 64;
export const MAX_REGISTERS = 256;
export const MEM_OFF = 4096;

export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;

export const CUSTOM_SECTION = 'fplc';
export const ABI_VERSION = 1;

export interface ExternMeta { name: string; config: (string | number)[]; inCell?: number; outCell?: number }

/** Contents of the `fplc` custom section (JSON, UTF-8). */
export interface ModuleMeta {
  abi: number;
  linkType: number;
  registers: number;
  memoryCells: number;
  fuel: number;
  memOff: number;
  stateOff: number;
  stateBytes: number;
  batchOff: number;
  batchBytes: number;
  resultsOff: number;
  /** The index area (batchBytes/4 bytes) for run_index; absent in modules without run_index. */
  indexOff?: number;
  /** Hash tables of large sets (codegen/wasm/memtable.ts), filled by the module's data segments; absent without. */
  tablesOff?: number;
  tablesBytes?: number;
  /** Initial (and maximum) memory size in 64 KiB pages. */
  pages: number;
  externs: ExternMeta[];
  language?: string;
  /** The value pcap-expression filters return when they accept (informational). */
  snaplen?: number;
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Computes the memory layout for a module's needs. */
export function layout(opts: { linkType: number; registers: number; memoryCells: number; fuel: number;
  stateBytes?: number; batchBytes?: number; externs?: ExternMeta[]; language?: string; snaplen?: number }): ModuleMeta {
  const stateOff = align(MEM_OFF + opts.memoryCells * 4, 64);
  const stateBytes = opts.stateBytes ?? 0;
  const batchOff = align(stateOff + stateBytes, PAGE_BYTES);
  const batchBytes = opts.batchBytes ?? DEFAULT_BATCH_BYTES;
  const resultsOff = batchOff + batchBytes;
  // At most one record per RECORD_HEADER_BYTES of batch, so results need batchBytes/4 bytes;
  // the index holds one u32 per record too.
  const indexOff = resultsOff + batchBytes / 4;
  const end = indexOff + batchBytes / 4;
  return {
    abi: ABI_VERSION, linkType: opts.linkType, registers: opts.registers, memoryCells: opts.memoryCells,
    fuel: opts.fuel, memOff: MEM_OFF, stateOff, stateBytes, batchOff, batchBytes, resultsOff, indexOff,
    pages: Math.ceil(end / PAGE_BYTES), externs: opts.externs ?? [],
    ...(opts.language ? { language: opts.language } : {}),
    ...(opts.snaplen !== undefined ? { snaplen: opts.snaplen } : {}),
  };
}

/** Externs named `mapi:NAME` in a module's metadata are MAPI functions called from FPL (vm/mapi/externs.ts). */
export const MAPI_EXTERN_PREFIX = 'mapi:';

/** Name of the JS import a module calls for extern number `id`: env.extern_<id>(recordOff, args…) -> i32. */
export const externImportName = (id: number) => `extern_${id}`;

/** What an extern implemented in JavaScript sees when a packet reaches it. */
export interface ExternCallContext {
  /** The captured bytes of the current packet: a view into module memory made on first use; do not keep it. */
  readonly packet: Uint8Array;
  /** Allocation-free access to the same bytes: bytes[offset .. offset + caplen) of the module's memory. */
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly caplen: number;
  readonly wirelen: number;
  /** Record timestamp: seconds and sub-second units (µs or ns, as the capture says). */
  readonly tsSec: number;
  readonly tsFrac: number;
  /** Live views of R[] and M[]. */
  registers: Uint32Array;
  memory: Uint32Array;
}

/**
 * An extern a program may call: built-ins shipped in hostfns/, MAPI functions, or functions an
 * application registers. `config` holds the call's constant arguments (validated by `validate`
 * at compile time); `args` the values of its runtime arguments.
 */
export interface ExternImpl {
  name: string;
  summary: string;
  /** FFPF form EXTERN(name, in, out): cells read from M[in…] and written to M[out…]. */
  inCells?: number;
  outCells?: number;
  /** Returns an error message when the constant arguments are unacceptable. */
  validate?(config: readonly (string | number)[]): string | undefined;
  call(ctx: ExternCallContext, config: readonly (string | number)[], args: readonly number[]): number;
}
