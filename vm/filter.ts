/**
 * A compiled filter, instantiated: the module, its memory, and batch execution.
 *
 * Packets reach the module as pcap records copied into the batch area of its memory; one call
 * of `run` processes a whole batch and leaves one u32 per packet in the results area. R[] and
 * M[] are views of the same memory, so the host reads and writes them between batches. The
 * memory is fixed-size (initial = maximum pages), so the views never detach.
 *
 * Loading needs only the WebAssembly API and the module's `fplc` custom section: no binaryen.
 */
import type { Diagnostic } from '../lang/diagnostics.js';
import { openCapture, openCaptureFile } from '../drivers/capture.js';
import { DirectPcapFile } from '../drivers/pcap-direct.js';
import type { DirectPcapngFile } from '../drivers/pcapng-direct.js';
import { CaptureError, type CaptureSource } from '../drivers/types.js';
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

/** A malformed capture stopped runCapture: `results` holds the verdicts of the packets before it. */
export class CaptureRunError extends CaptureError {
  constructor(cause: CaptureError, readonly results: Uint32Array) {
    super(cause.message, cause.recordIndex, cause.offset);
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

/**
 * Called after each batch: its records, their results (a view, valid during the call), and their
 * count. Return false to stop. The records lie back to back from records[0] unless `offsets` is
 * given (pcapng read in place): then `records` is the whole memory and record i's header is at
 * records[offsets[i]].
 */
export type BatchCallback = (records: Uint8Array, results: Uint32Array, count: number, offsets?: Uint32Array) => boolean | void;

/**
 * What one batch of the direct path did: the packets it ran, the bytes of a partial record or
 * block it carried to the start of the batch area; `end` of the file, `stopped` by the
 * callback, or `fallback`: the general reader must go on from here.
 */
export interface DirectBatch { packets: number; carry: number; end?: boolean; stopped?: boolean; fallback?: boolean }

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
  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private readonly wasmMemory: WebAssembly.Memory;
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
   * Streams a capture source through the module batch by batch. Stops at the end, at a
   * malformed record (returned as `error`; the packets before it were processed) or when the
   * callback returns false. Throws LinkTypeMismatchError before processing a batch of another
   * link type. The first `skip` records are read but not run (see runDirect).
   */
  runSource(source: CaptureSource, onBatch: BatchCallback, skip = 0): { packets: number; error?: CaptureError } {
    const { batchOff, batchBytes } = this.meta;
    this.words[CTRL_RECORD_LIMIT / 4] = MAX_CAPLEN;   // the driver has validated every record
    this.forgetStaged();
    let packets = 0;
    for (;;) {
      const batch = source.nextBatch(this.bytes, batchOff, batchBytes);
      if (batch.records === 0) break;
      this.checkLinkType(batch.linkType);
      let start = batchOff;
      for (let left = batch.records; skip > 0 && left > 0; skip--, left--) {
        start += RECORD_HEADER_BYTES + recordCaplenAt(this.bytes, start);
      }
      const end = batchOff + batch.bytes;
      if (start === end) continue;
      const n = this.run(start, end, this.meta.resultsOff);
      packets += n;
      if (onBatch(this.bytes.subarray(start, end), this.results(n), n) === false) return { packets };
    }
    return source.error ? { packets, error: source.error } : { packets };
  }

  /**
   * Filters a pcap or pcapng file read chunk by chunk straight into the batch area
   * (directBatch). Where the direct path cannot go on — a record longer than the snaplen, a
   * block it leaves, a malformed or truncated record — the general reader takes over at that
   * record, so results and errors are exactly those of runSource.
   */
  runDirect(file: DirectPcapFile | DirectPcapngFile, onBatch: BatchCallback): { packets: number; error?: CaptureError } {
    this.checkLinkType(file.info.linkType);
    let carry = 0;
    let packets = 0;
    for (;;) {
      const b = this.directBatch(file, carry, onBatch);
      packets += b.packets;
      if (b.stopped || b.end) return { packets };
      if (b.fallback) return this.generalReaderFrom(file.path, onBatch, packets);
      carry = b.carry;
    }
  }

  /** One batch of the direct path for the file's format (runDirectBatch, runDirectPcapngBatch). */
  directBatch(file: DirectPcapFile | DirectPcapngFile, carry: number, onBatch: BatchCallback): DirectBatch {
    return file instanceof DirectPcapFile ? this.runDirectBatch(file, carry, onBatch) : this.runDirectPcapngBatch(file, carry, onBatch);
  }

  /**
   * One batch of the direct path: reads the next chunk of `file` behind the `carry` bytes the
   * previous call left at the start of the batch area, runs the whole records and moves the
   * partial last record to the start (the new carry). `fallback`: the direct path cannot go on
   * (see runDirect); the caller continues with the general reader, skipping the packets run so
   * far. Successive calls may use different filters that share one memory (a MAPI device
   * recompiling mid-trace): the carried bytes live in that memory.
   */
  runDirectBatch(file: DirectPcapFile, carry: number, onBatch: BatchCallback): DirectBatch {
    const { batchOff, batchBytes, resultsOff } = this.meta;
    this.words[CTRL_RECORD_LIMIT / 4] = file.info.snaplen;
    this.forgetStaged();
    const got = file.read(this.bytes, batchOff + carry, batchBytes - carry);
    const avail = carry + got;
    if (avail === 0) return { packets: 0, carry: 0, end: true };
    const n = this.run(batchOff, batchOff + avail, resultsOff);
    const stop = this.words[CTRL_BATCH_STOP / 4]!;
    if (n > 0 && onBatch(this.bytes.subarray(batchOff, stop), this.results(n), n) === false) return { packets: n, carry: 0, stopped: true };
    const rest = batchOff + avail - stop;
    if (rest === 0) return { packets: n, carry: 0 };
    const oversized = rest >= RECORD_HEADER_BYTES && recordCaplenAt(this.bytes, stop) > file.info.snaplen;
    if (got === 0 || oversized || (n === 0 && avail === batchBytes)) return { packets: n, carry: 0, fallback: true };
    this.bytes.copyWithin(batchOff, stop, stop + rest);
    return { packets: n, carry: rest };
  }

  /**
   * One batch of the pcapng direct path, as runDirectBatch is of the pcap one: reads the next
   * chunk behind the `carry` bytes the previous call left; the driver rewrites each packet
   * block's fixed fields into a record header in place and lists the records in the index area
   * (drivers/pcapng-direct.ts), and one `run_index` call runs them; the partial last block moves
   * to the start (the new carry). `fallback`: the direct path
   * cannot go on — a block it leaves, a record the module refused, the file ending inside a
   * block, a block larger than the batch area, a module without run_index — and the caller
   * continues with the general reader, skipping the packets run so far.
   */
  runDirectPcapngBatch(file: DirectPcapngFile, carry: number, onBatch: BatchCallback): DirectBatch {
    const { batchOff, batchBytes, resultsOff, indexOff } = this.meta;
    if (this.runIndex === undefined || indexOff === undefined) return { packets: 0, carry: 0, fallback: true };
    this.forgetStaged();
    const got = file.read(this.bytes, batchOff + carry, batchBytes - carry);
    const avail = carry + got;
    if (avail === 0) return { packets: 0, carry: 0, end: true };
    // Index entries fill at most the first eighth of batchBytes of the index area (an EPB has
    // >= 32 bytes, an entry 4); the rest of the area (batchBytes / 4) is the driver's scratch.
    const scratch = Math.ceil(batchBytes / 8 / 16) * 16;
    const count = file.index(this.wasmMemory, this.bytes, this.words, batchOff, avail, indexOff / 4, indexOff + scratch, batchBytes / 4 - scratch);
    let n = 0;
    if (count > 0) {
      // The driver lists only whole records with caplen <= their interface's snaplen <= MAX_CAPLEN, which run_index trusts.
      n = this.runIndex(batchOff, batchOff + file.consumed, indexOff, count, resultsOff);
      if (onBatch(this.bytes, this.results(n), n, this.words.subarray(indexOff / 4, indexOff / 4 + n)) === false) {
        return { packets: n, carry: 0, stopped: true };
      }
      if (n < count) return { packets: n, carry: 0, fallback: true };   // not expected (entries and slots lie in the memory): the general reader goes on
    }
    const rest = avail - file.consumed;
    if (file.handover || (rest > 0 && (got === 0 || rest === batchBytes))) return { packets: n, carry: 0, fallback: true };
    this.bytes.copyWithin(batchOff, batchOff + file.consumed, batchOff + avail);
    return { packets: n, carry: rest };
  }

  /** The general reader takes over a file after the `done` packets a direct path ran: exact results and errors from there on. */
  private generalReaderFrom(path: string, onBatch: BatchCallback, done: number): { packets: number; error?: CaptureError } {
    const source = openCaptureFile(path);
    try {
      const rest = this.runSource(source, onBatch, done);
      return { ...rest, packets: done + rest.packets };
    } finally {
      source.close();
    }
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

  private results(n: number): Uint32Array {
    const at = this.meta.resultsOff / 4;
    return this.words.subarray(at, at + n);
  }

  private checkLinkType(linkType: number): void {
    if (linkTypeName(linkType) !== linkTypeName(this.meta.linkType)) throw new LinkTypeMismatchError(this.meta.linkType, linkType);
  }

  /**
   * Runs a whole pcap or pcapng capture held in memory: one result per packet, in order.
   * A malformed capture throws CaptureRunError, which carries the results before the bad record.
   */
  runCapture(capture: Uint8Array): Uint32Array {
    const source = openCapture(capture);
    let out = new Uint32Array(1024);
    let n = 0;
    try {
      const { error } = this.runSource(source, (_records, results, count) => {
        if (n + count > out.length) {
          const grown = new Uint32Array(Math.max(out.length * 2, n + count));
          grown.set(out.subarray(0, n));
          out = grown;
        }
        out.set(results, n);
        n += count;
      });
      const results = out.slice(0, n);
      if (error) throw new CaptureRunError(error, results);
      return results;
    } finally {
      source.close();
    }
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

  /** The batch area is about to hold other records: staged ones and their index are gone. */
  private forgetStaged(): void {
    this.staged = 0;
    this.stagedEntries = 0;
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
    this.forgetStaged();
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
    this.caplen = u32(recordOff + 8);
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
