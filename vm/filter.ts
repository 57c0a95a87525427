/**
 * A compiled filter, instantiated: the module, its memory, and batch execution.
 *
 * Packets reach the module as pcap records copied into the batch area of its memory; one call
 * of `run` processes a whole batch and leaves one u32 per packet in the results area. R[] and
 * M[] are views of the same memory, so the host reads and writes them between batches. The
 * memory is fixed-size (initial = maximum pages), so the views never detach.
 *
 * Loading needs only the WebAssembly API and the module's `fplc` custom section: no binaryen.
 * Where records come from (files, captures in memory, a live source) is the capture feed's
 * business (vm/feed.ts); this file imports no driver.
 */
import type { Diagnostic } from '../lang/diagnostics.js';
import { externTable } from '../hostfns/registry.js';
import {
  ABI_VERSION, CTRL_BATCH_STOP, CTRL_FUEL_EXHAUSTED, CTRL_FUEL_LIMIT, CTRL_PACKETS, CTRL_RECORD_LIMIT, CTRL_TALLY_CODE, CTRL_TALLY_MIXED, CUSTOM_SECTION,
  MAX_CAPLEN, MAX_REGISTERS, PAGE_BYTES,
  RECORD_HEADER_BYTES, REGS_OFF, externImportName, linkTypeName, recordCaplenAt, type ExternCallContext, type ExternImpl, type ModuleMeta,
} from '../abi/index.js';

/** Thrown when a capture's link type differs from the one the filter was compiled for. */
export class LinkTypeMismatchError extends Error {
  constructor(readonly filterLinkType: number, readonly captureLinkType: number) {
    super(`the filter was compiled for link type ${linkTypeName(filterLinkType)} (${filterLinkType}) but the capture is ` +
      `${linkTypeName(captureLinkType)} (${captureLinkType}); compile it for the capture's link type (linkType option, fpl -y)`);
    this.name = 'LinkTypeMismatchError';
  }
}

export interface LoadOptions {
  /** Externs the application provides (by name), in addition to the shipped ones. */
  externs?: readonly ExternImpl[];
  warnings?: Diagnostic[];
  /**
   * Memory to run in instead of a fresh one: a device recompiling its module when flows come
   * and go keeps R[], M[] and the state area this way. It must match the module's layout.
   */
  memory?: WebAssembly.Memory;
  /**
   * More externs, chosen from the extern names the module's metadata lists (load.ts: the MAPI
   * functions' JavaScript parts, loaded only for modules that call them); `externs` override them.
   */
  externsFor?: (names: readonly string[]) => Promise<readonly ExternImpl[]>;
  /** Wraps the module's exports before they are used (vm/guard.ts: trap locations, time limits). */
  entries?: (exports: WebAssembly.Exports, memory: WebAssembly.Memory) => WebAssembly.Exports;
  /** The module, compiled and checked by the caller (vm/module-check.ts), instead of compiling `wasm` here. */
  module?: WebAssembly.Module;
}

export function readModuleMeta(module: WebAssembly.Module): ModuleMeta {
  const sections = WebAssembly.Module.customSections(module, CUSTOM_SECTION);
  if (sections.length !== 1) throw new Error(`not an fplc module: it has no "${CUSTOM_SECTION}" custom section`);
  let meta: ModuleMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(sections[0])) as ModuleMeta;
  } catch {
    throw new Error(`the module's "${CUSTOM_SECTION}" section is not valid metadata`);
  }
  if (meta.abi !== ABI_VERSION) throw new Error(`the module was compiled for ABI ${meta.abi}; this runtime speaks ABI ${ABI_VERSION}`);
  const ints = ['linkType', 'registers', 'memoryCells', 'fuel', 'memOff', 'batchOff', 'batchBytes', 'resultsOff', 'pages'] as const;
  for (const k of ints) {
    if (!Number.isSafeInteger(meta[k]) || meta[k] < 0) throw new Error(`the module's metadata has a bad ${k}`);
  }
  if ((meta.memoryCells & (meta.memoryCells - 1)) !== 0 || meta.memoryCells === 0) {
    throw new Error(`the module's metadata has a bad memoryCells (${meta.memoryCells}): not a power of two`);
  }
  if (meta.registers > MAX_REGISTERS || meta.memOff + meta.memoryCells * 4 > meta.batchOff || meta.batchBytes % 4 !== 0 ||
      meta.batchOff + meta.batchBytes > meta.resultsOff || meta.resultsOff + meta.batchBytes / 4 > meta.pages * PAGE_BYTES ||
      meta.pages > 65536 || !Array.isArray(meta.externs) ||
      (meta.indexOff !== undefined && (!Number.isSafeInteger(meta.indexOff) || meta.indexOff % 4 !== 0 ||
        meta.indexOff < meta.resultsOff + meta.batchBytes / 4 || meta.indexOff + meta.batchBytes / 4 > meta.pages * PAGE_BYTES)) ||
      ((meta.tablesOff !== undefined || meta.tablesBytes !== undefined) && (!Number.isSafeInteger(meta.tablesOff) ||
        !Number.isSafeInteger(meta.tablesBytes) || meta.tablesOff! < (meta.indexOff ?? meta.resultsOff) + meta.batchBytes / 4 ||
        meta.tablesOff! + meta.tablesBytes! > meta.pages * PAGE_BYTES))) {
    throw new Error('the module\'s metadata describes an inconsistent memory layout');
  }
  return meta;
}

export class CompiledFilter {
  readonly registers: Uint32Array;
  readonly memory: Uint32Array;
  /** Live view of the host-function state area S[] (MAPI function results live here). */
  readonly state: Uint32Array;
  readonly warnings: readonly Diagnostic[];
  /** The module's whole memory as bytes and as words (a capture feed reads records into the batch area through them). */
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  readonly wasmMemory: WebAssembly.Memory;
  private readonly run: (start: number, end: number, out: number) => number;
  private readonly runIndex: ((start: number, end: number, index: number, count: number, out: number) => number) | undefined;
  private readonly tally: ((out: number, n: number) => number) | undefined;
  private staged = 0;
  private stagedEntries = 0;

  private constructor(readonly wasm: Uint8Array, readonly meta: ModuleMeta, instance: WebAssembly.Instance,
    mem: WebAssembly.Memory, warnings: readonly Diagnostic[]) {
    this.wasmMemory = mem;
    this.bytes = new Uint8Array(mem.buffer);
    this.words = new Uint32Array(mem.buffer);
    this.registers = new Uint32Array(mem.buffer, REGS_OFF, MAX_REGISTERS);
    this.memory = new Uint32Array(mem.buffer, meta.memOff, meta.memoryCells);
    this.state = new Uint32Array(mem.buffer, meta.stateOff, meta.stateBytes / 4);
    this.run = instance.exports.run as (start: number, end: number, out: number) => number;
    // Modules compiled before the index entry existed have neither run_index nor an index area.
    this.runIndex = meta.indexOff !== undefined && typeof instance.exports.run_index === 'function'
      ? instance.exports.run_index as (start: number, end: number, index: number, count: number, out: number) => number
      : undefined;
    this.tally = typeof instance.exports.tally === 'function' ? instance.exports.tally as (out: number, n: number) => number : undefined;
    this.warnings = warnings;
    this.fuel = meta.fuel;
    this.words[CTRL_RECORD_LIMIT / 4] = MAX_CAPLEN;
  }

  /** Instantiates a module produced by compileWasm (or read from a `.wasm` file). */
  static async load(wasm: Uint8Array, opts: LoadOptions = {}): Promise<CompiledFilter> {
    // Compiled synchronously: the async compile waits in V8's compile queue, behind the tier-up
    // of binaryen's own code right after a compile (~400 ms on 2 cores); ours takes under 1 ms.
    const module = opts.module ?? new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
    const meta = readModuleMeta(module);
    const memory = opts.memory ?? new WebAssembly.Memory({ initial: meta.pages, maximum: meta.pages });
    if (memory.buffer.byteLength !== meta.pages * PAGE_BYTES) {
      throw new RangeError(`the memory given has ${memory.buffer.byteLength / PAGE_BYTES} pages; the module needs ${meta.pages}`);
    }
    const env: Record<string, unknown> = { memory };
    const more = opts.externsFor ? await opts.externsFor(meta.externs.map((x) => x.name)) : [];
    const table = externTable(more.length ? [...more, ...opts.externs ?? []] : opts.externs);
    meta.externs.forEach((x, id) => {
      const impl = table.get(x.name);
      if (!impl) {
        throw new Error(`the module calls extern ${JSON.stringify(x.name)}, which is not available; known: ${[...table.keys()].join(', ') || 'none'}`);
      }
      env[externImportName(id)] = bindExtern(impl, x.config, memory, meta);
    });
    const instance = new WebAssembly.Instance(module, { env: env as WebAssembly.ModuleImports });
    const entries = opts.entries ? { exports: opts.entries(instance.exports, memory) } as WebAssembly.Instance : instance;
    return new CompiledFilter(wasm, meta, entries, memory, opts.warnings ?? []);
  }

  get linkType(): number { return this.meta.linkType; }

  /** Loop iterations allowed per packet. */
  get fuel(): number { return this.words[CTRL_FUEL_LIMIT / 4]!; }
  set fuel(n: number) {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`fuel must be an integer in [0, 2^32), not ${n}`);
    this.words[CTRL_FUEL_LIMIT / 4] = n;
  }

  /** Packets that ran out of loop fuel since load or reset. */
  get fuelExhausted(): number { return this.words[CTRL_FUEL_EXHAUSTED / 4]!; }
  /** Packets processed since load or reset. */
  get packetsProcessed(): number { return this.words[CTRL_PACKETS / 4]!; }

  /** Zeroes R[], M[], host-function state and the counters. */
  reset(): void {
    this.registers.fill(0);
    this.memory.fill(0);
    this.bytes.fill(0, this.meta.stateOff, this.meta.stateOff + this.meta.stateBytes);
    this.words[CTRL_FUEL_EXHAUSTED / 4] = 0;
    this.words[CTRL_PACKETS / 4] = 0;
  }

  /**
   * Runs the records already in the batch area ([batchOff, batchOff+bytes)) and returns a view
   * of their results (valid until the next batch).
   */
  private runBatchArea(bytes: number): Uint32Array {
    const { batchOff, resultsOff } = this.meta;
    this.words[CTRL_RECORD_LIMIT / 4] = MAX_CAPLEN;
    const n = this.run(batchOff, batchOff + bytes, resultsOff);
    return this.words.subarray(resultsOff / 4, resultsOff / 4 + n);
  }

  /**
   * The batch area is about to receive records (a capture feed, vm/feed.ts): records staged
   * for runStaged and their index are gone.
   */
  takeBatchArea(): void {
    this.staged = 0;
    this.stagedEntries = 0;
  }

  /**
   * Runs the records in [start, end) of memory (one WebAssembly call), trusting caplens up to
   * recordLimit, and returns how many it ran; `batchStop` tells where the whole records ended,
   * `results` their verdicts.
   */
  runAt(start: number, end: number, recordLimit: number): number {
    this.words[CTRL_RECORD_LIMIT / 4] = recordLimit;
    return this.run(start, end, this.meta.resultsOff);
  }

  /** Where the last `runAt` stopped: the end of its last whole record. */
  get batchStop(): number { return this.words[CTRL_BATCH_STOP / 4]!; }

  /** The index area (pcapng read in place), or undefined for a module compiled before run_index existed. */
  get indexOff(): number | undefined {
    return this.runIndex === undefined ? undefined : this.meta.indexOff;
  }

  /**
   * Runs the `count` records the index area lists, inside [start, end) (one WebAssembly call):
   * the entries must name whole records with caplen <= MAX_CAPLEN, which run_index trusts.
   */
  runIndexAt(start: number, end: number, count: number): number {
    return this.runIndex!(start, end, this.indexArea(), count, this.meta.resultsOff);
  }

  /**
   * Counts the non-zero results of the batch just run (the `count` results a BatchCallback got)
   * in WebAssembly: how many, and their common code, or code undefined when they differ.
   * Undefined for modules compiled before `tally` existed. Call it during the callback.
   */
  tallyResults(count: number): { matched: number; code: number | undefined } | undefined {
    if (this.tally === undefined || !(count >= 0 && count <= this.meta.batchBytes / 4)) return undefined;
    const matched = this.tally(this.meta.resultsOff, count);
    const mixed = this.words[CTRL_TALLY_MIXED / 4] !== 0;
    return { matched, code: mixed ? undefined : this.words[CTRL_TALLY_CODE / 4]! };
  }

  /** The verdicts of the batch just run: a view valid until the next batch. */
  results(n: number): Uint32Array {
    const at = this.meta.resultsOff / 4;
    return this.words.subarray(at, at + n);
  }

  /** Throws LinkTypeMismatchError unless records of linkType are what the module reads. */
  checkLinkType(linkType: number): void {
    if (linkTypeName(linkType) !== linkTypeName(this.meta.linkType)) throw new LinkTypeMismatchError(this.meta.linkType, linkType);
  }

  /**
   * Copies ABI records into the module's batch area once, so that `runStaged` can run them
   * again without copying (benchmarks; drivers that write records in place). Returns the bytes staged.
   */
  stageRecords(records: Uint8Array): number {
    if (records.length > this.meta.batchBytes) throw new RangeError(`stageRecords: ${records.length} bytes do not fit the ${this.meta.batchBytes}-byte batch area`);
    this.bytes.set(records, this.meta.batchOff);
    this.staged = records.length;
    this.stagedEntries = 0;   // an index staged before named other records
    return this.staged;
  }

  /**
   * The staged records where the module reads them: a view of its memory, valid until the batch
   * area holds other records. A peer measured on this view (fpl bench's libpcap) reads the same
   * bytes at the same addresses, so neither pays for a second copy in the caches.
   */
  stagedRecords(): Uint8Array {
    return this.bytes.subarray(this.meta.batchOff, this.meta.batchOff + this.staged);
  }

  /** Runs the staged records (one WebAssembly call); the results view is valid until the next run. */
  runStaged(): Uint32Array {
    return this.runBatchArea(this.staged);
  }

  /**
   * Stages records like stageRecords and, once, an index of their offsets in the index area, so
   * that `runStagedIndex` runs them the way libpcap's loop gets packets: from a precomputed
   * descriptor per packet rather than by walking the records (see run_index in abi/index.ts).
   * Returns the number of records. The records must be well formed.
   */
  stageIndexedRecords(records: Uint8Array): number {
    this.stageRecords(records);
    const offsets: number[] = [];
    for (let off = 0; off < records.length;) {
      if (off + RECORD_HEADER_BYTES > records.length) throw new RangeError(`stageIndexedRecords: the record at byte ${off} has no whole header`);
      const next = off + RECORD_HEADER_BYTES + recordCaplenAt(records, off);
      if (next > records.length) throw new RangeError(`stageIndexedRecords: the record at byte ${off} overruns the buffer`);
      offsets.push(off);
      off = next;
    }
    return this.stageIndex(offsets);
  }

  /**
   * Replaces the staged index: the offsets, relative to the staged records, of the records
   * `runStagedIndex` runs, in that order (any order, repeats allowed). The run stops at the first
   * entry that names no whole staged record (a header and caplen <= MAX_CAPLEN bytes inside the
   * staged bytes): the entries are checked here, once, because run_index trusts them (abi/index.ts).
   * Returns the number of entries.
   */
  stageIndex(offsets: ArrayLike<number>): number {
    const { batchOff, batchBytes } = this.meta;
    const indexOff = this.indexArea();
    const capacity = batchBytes / RECORD_HEADER_BYTES;   // the index area is batchBytes/4 bytes
    if (offsets.length > capacity) throw new RangeError(`stageIndex: ${offsets.length} entries do not fit the index area (${capacity})`);
    // Every entry is checked before any is written: a refused index leaves the staged one whole.
    for (let i = 0; i < offsets.length; i++) {
      const off = offsets[i]!;
      if (!Number.isInteger(off) || off < 0 || off > 0xffffffff) throw new RangeError(`stageIndex: entry ${i} (${off}) is not a u32 offset`);
    }
    // Only the entries before the first that names no whole staged record are ever run.
    let valid = 0;
    for (; valid < offsets.length; valid++) {
      const off = offsets[valid]!;
      if (off + RECORD_HEADER_BYTES > this.staged) break;
      const caplen = recordCaplenAt(this.bytes, batchOff + off);
      if (caplen > MAX_CAPLEN || off + RECORD_HEADER_BYTES + caplen > this.staged) break;
      this.words[indexOff / 4 + valid] = batchOff + off;
    }
    this.stagedEntries = valid;
    return offsets.length;
  }

  /** Runs the staged index over the staged records (one WebAssembly call); the results view is valid until the next run. */
  runStagedIndex(): Uint32Array {
    const { batchOff, resultsOff } = this.meta;
    const indexOff = this.indexArea();
    const n = this.runIndex!(batchOff, batchOff + this.staged, indexOff, this.stagedEntries, resultsOff);
    return this.words.subarray(resultsOff / 4, resultsOff / 4 + n);
  }

  private indexArea(): number {
    if (this.runIndex === undefined || this.meta.indexOff === undefined) {
      throw new Error('this module has no run_index entry (it was compiled by an older fplc): compile it again');
    }
    return this.meta.indexOff;
  }

  /**
   * Runs packets given as ABI records (16-byte little-endian pcap record headers, bytes back to
   * back), e.g. from a live driver. Records must be well formed; returns a fresh result array.
   */
  runRecords(records: Uint8Array): Uint32Array {
    const { batchOff, batchBytes } = this.meta;
    this.takeBatchArea();
    const out: Uint32Array[] = [];
    let off = 0;
    while (off < records.length) {
      // Take as many whole records as fit the batch area.
      let end = off;
      for (;;) {
        if (end + RECORD_HEADER_BYTES > records.length) break;
        const caplen = recordCaplenAt(records, end);
        const next = end + RECORD_HEADER_BYTES + caplen;
        if (next > records.length) throw new RangeError(`runRecords: the record at byte ${end} overruns the buffer`);
        if (next - off > batchBytes) break;
        end = next;
      }
      if (end === off) throw new RangeError(`runRecords: the record at byte ${off} is malformed or larger than the batch area`);
      this.bytes.set(records.subarray(off, end), batchOff);
      out.push(this.runBatchArea(end - off).slice());
      off = end;
    }
    const all = new Uint32Array(out.reduce((s, r) => s + r.length, 0));
    let i = 0;
    for (const r of out) { all.set(r, i); i += r.length; }
    return all;
  }
}


/** The JS side of env.extern_<id>: builds the call context from the record the module passes. */
/** One context object per extern, refilled per call: the packet view is made only if the extern asks for it. */
class CallContext implements ExternCallContext {
  offset = 0;
  caplen = 0;
  wirelen = 0;
  tsSec = 0;
  tsFrac = 0;
  private view: Uint8Array | undefined;
  constructor(readonly bytes: Uint8Array, readonly registers: Uint32Array, readonly memory: Uint32Array) {}

  get packet(): Uint8Array {
    this.view ??= this.bytes.subarray(this.offset, this.offset + this.caplen);
    return this.view;
  }

  /** Reads the record header at recordOff (not 4-byte aligned in general, so bytewise). */
  enter(recordOff: number): void {
    const b = this.bytes;
    const u32 = (i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
    this.tsSec = u32(recordOff);
    this.tsFrac = u32(recordOff + 4);
    this.caplen = recordCaplenAt(b, recordOff);
    this.wirelen = u32(recordOff + 12);
    this.offset = recordOff + RECORD_HEADER_BYTES;
    this.view = undefined;
  }
}

/** The JS side of env.extern_<id>(recordOff, args…). Arguments arrive as i32 and are passed as u32. */
function bindExtern(impl: ExternImpl, config: readonly (string | number)[], memory: WebAssembly.Memory, meta: ModuleMeta) {
  const buffer = memory.buffer;
  const ctx = new CallContext(new Uint8Array(buffer), new Uint32Array(buffer, REGS_OFF, MAX_REGISTERS),
    new Uint32Array(buffer, meta.memOff, meta.memoryCells));
  const none: number[] = [];
  return (recordOff: number, ...args: number[]): number => {
    ctx.enter(recordOff);
    for (let i = 0; i < args.length; i++) args[i] = args[i]! >>> 0;
    return impl.call(ctx, config, args.length ? args : none) >>> 0;
  };
}
