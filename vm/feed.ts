/**
 * The capture feed: puts a capture's records into a compiled module's batch area, batch by
 * batch, and runs them there (one WebAssembly call per batch, no per-packet work in
 * JavaScript). It picks the best reader for the input and falls back between readers:
 *
 * - a little-endian pcap file is read chunk by chunk straight into the batch area: its records
 *   already have the ABI's layout (abi/records.ts), the module walks them and reports where the
 *   whole records end; the partial last record is carried to the start of the area;
 * - a pcapng file is read the same way and indexed in place (drivers/pcapng-direct.ts rewrites
 *   each packet block's fixed fields into a record header, `run_index` runs the listed records);
 *   the partial last block is carried;
 * - anything else — other byte order, damaged files, captures held in memory — goes through
 *   the general reader (drivers/capture.ts), a CaptureSource that writes whole records into
 *   the batch area. Where a direct path cannot go on (a record longer than the snaplen, a block
 *   it leaves, a malformed or truncated record) the general reader takes the file over at that
 *   record, skipping the packets already run, so results and errors are exactly its own.
 *
 * A live source is one more CaptureSource (it writes records into the region nextBatch gives
 * it) and so one more input: `sourceFeed(live)`.
 */
import { openCapture, openCaptureFile } from '../drivers/capture.js';
import { DirectPcapFile } from '../drivers/pcap-direct.js';
import { DirectPcapngFile } from '../drivers/pcapng-direct.js';
import { CaptureError, type CaptureInfo, type CaptureSource } from '../drivers/types.js';
import { MAX_CAPLEN, RECORD_HEADER_BYTES, recordCaplenAt, type ModuleMeta } from '../abi/index.js';

/**
 * What a feed needs of a compiled module (CompiledFilter): its memory, its layout, and runs of
 * the records put in its batch area. Successive steps of one feed may use different modules
 * that share one memory (a MAPI device recompiling mid-trace): carried bytes live in it.
 */
export interface FeedTarget {
  readonly meta: ModuleMeta;
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  readonly wasmMemory: WebAssembly.Memory;
  readonly indexOff: number | undefined;
  readonly batchStop: number;
  takeBatchArea(): void;
  runAt(start: number, end: number, recordLimit: number): number;
  runIndexAt(start: number, end: number, count: number): number;
  results(n: number): Uint32Array;
  checkLinkType(linkType: number): void;
}

/**
 * Called after each batch: its records, their results (a view, valid during the call), and their
 * count. Return false to stop. The records lie back to back from records[0] unless `offsets` is
 * given (pcapng read in place): then `records` is the whole memory and record i's header is at
 * records[offsets[i]].
 */
export type BatchCallback = (records: Uint8Array, results: Uint32Array, count: number, offsets?: Uint32Array) => boolean | void;

/** What one step did: the packets it ran; the `end` of the input (with the malformed record that stopped it, if any), or `stopped` by the callback. */
export interface FeedStep { packets: number; end?: boolean; stopped?: boolean; error?: CaptureError }

/** The reader feeding now: a file read in place as pcap or as pcapng, or the general reader (any CaptureSource). */
export type FeedReader = 'pcap in place' | 'pcapng in place' | 'general';

/** An input of a compiled module: each step fills the target's batch area once, runs it and hands the batch to onBatch. */
export interface CaptureFeed {
  readonly info: CaptureInfo;
  readonly reader: FeedReader;
  step(target: FeedTarget, onBatch: BatchCallback): FeedStep;
  close(): void;
}

/** A malformed capture stopped runCapture: `results` holds the verdicts of the packets before it. */
export class CaptureRunError extends CaptureError {
  constructor(cause: CaptureError, readonly results: Uint32Array) {
    super(cause.message, cause.recordIndex, cause.offset);
  }
}

/**
 * Runs a feed to its end, a malformed record (returned as `error`; the packets before it were
 * processed) or a callback returning false. Throws LinkTypeMismatchError before processing a
 * batch of another link type.
 */
export function runFeed(target: FeedTarget, feed: CaptureFeed, onBatch: BatchCallback): { packets: number; error?: CaptureError } {
  let packets = 0;
  for (;;) {
    const s = feed.step(target, onBatch);
    packets += s.packets;
    if (s.end || s.stopped) return s.error ? { packets, error: s.error } : { packets };
  }
}

/**
 * Runs a whole pcap or pcapng capture held in memory: one result per packet, in order.
 * A malformed capture throws CaptureRunError, which carries the results before the bad record.
 */
export function runCapture(target: FeedTarget, capture: Uint8Array): Uint32Array {
  const feed = sourceFeed(openCapture(capture));
  let out = new Uint32Array(1024);
  let n = 0;
  try {
    const { error } = runFeed(target, feed, (_records, results, count) => {
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
    feed.close();
  }
}

/** A feed of a CaptureSource (the general reader, a live source): the first `skip` records are read but not run. */
export function sourceFeed(source: CaptureSource, skip = 0): CaptureFeed {
  return new SourceFeed(source, skip);
}

/**
 * A feed of a capture file: read in place when it is a little-endian pcap or a pcapng file
 * (unless `direct` is false), through the general reader otherwise. `linkType`, the module's,
 * lets the pcapng path take the interfaces of that link type in place. Throws when the file
 * is not a capture the general reader knows.
 */
export function fileFeed(path: string, opts: { direct?: boolean; linkType?: number } = {}): CaptureFeed {
  if (opts.direct === false) return sourceFeed(openCaptureFile(path));
  return readerFeed(path, DirectPcapFile.open(path) ?? DirectPcapngFile.open(path, opts.linkType) ?? openCaptureFile(path));
}

/** A feed of a file already opened, in place or by the general reader (which takes over at `path` if the direct path cannot go on). */
export function readerFeed(path: string, reader: DirectPcapFile | DirectPcapngFile | CaptureSource): CaptureFeed {
  return reader instanceof DirectPcapFile || reader instanceof DirectPcapngFile ? new FileFeed(path, reader) : sourceFeed(reader);
}

class SourceFeed implements CaptureFeed {
  constructor(private readonly source: CaptureSource, private skip: number) {}

  get info(): CaptureInfo { return this.source.info; }
  get reader(): FeedReader { return 'general'; }

  step(target: FeedTarget, onBatch: BatchCallback): FeedStep {
    const { batchOff, batchBytes } = target.meta;
    const bytes = target.bytes;
    target.takeBatchArea();
    for (;;) {
      const batch = this.source.nextBatch(bytes, batchOff, batchBytes);
      if (batch.records === 0) return this.source.error ? { packets: 0, end: true, error: this.source.error } : { packets: 0, end: true };
      target.checkLinkType(batch.linkType);
      let start = batchOff;
      for (let left = batch.records; this.skip > 0 && left > 0; this.skip--, left--) {
        start += RECORD_HEADER_BYTES + recordCaplenAt(bytes, start);
      }
      const end = batchOff + batch.bytes;
      if (start === end) continue;
      // The reader has validated every record.
      const n = target.runAt(start, end, MAX_CAPLEN);
      return onBatch(bytes.subarray(start, end), target.results(n), n) === false ? { packets: n, stopped: true } : { packets: n };
    }
  }

  close(): void { this.source.close(); }
}

/**
 * What one batch of a direct path did: the packets it ran, the bytes of a partial record or
 * block it carried to the start of the batch area; `end` of the file, `stopped` by the
 * callback, or `fallback`: the general reader must go on from here.
 */
interface DirectBatch { packets: number; carry: number; end?: boolean; stopped?: boolean; fallback?: boolean }

/** A file read in place (pcapBatch, pcapngBatch) until the direct path cannot go on; then by the general reader. */
class FileFeed implements CaptureFeed {
  readonly info: CaptureInfo;
  private direct: DirectPcapFile | DirectPcapngFile | undefined;
  private carry = 0;
  private directPackets = 0;
  private general: CaptureFeed | undefined;

  constructor(private readonly path: string, file: DirectPcapFile | DirectPcapngFile) {
    this.direct = file;
    this.info = file.info;
  }

  step(target: FeedTarget, onBatch: BatchCallback): FeedStep {
    if (this.direct) {
      target.checkLinkType(this.info.linkType);
      const b = this.direct instanceof DirectPcapFile
        ? pcapBatch(target, this.direct, this.carry, onBatch)
        : pcapngBatch(target, this.direct, this.carry, onBatch);
      this.directPackets += b.packets;
      if (b.stopped) return { packets: b.packets, stopped: true };
      if (!b.fallback) {
        this.carry = b.carry;
        return b.end ? { packets: b.packets, end: true } : { packets: b.packets };
      }
      // From the record the direct path cannot take on, the general reader gives exact results and errors.
      this.direct.close();
      this.direct = undefined;
      this.general = sourceFeed(openCaptureFile(this.path), this.directPackets);
      if (b.packets > 0) return { packets: b.packets };
    }
    return this.general!.step(target, onBatch);
  }

  get reader(): FeedReader {
    return this.direct === undefined ? 'general' : this.direct instanceof DirectPcapFile ? 'pcap in place' : 'pcapng in place';
  }

  close(): void {
    this.direct?.close();
    this.general?.close();
  }
}

/**
 * One batch of the pcap direct path: reads the next chunk of `file` behind the `carry` bytes
 * the previous batch left at the start of the batch area, runs the whole records (the module
 * stops at the first partial or oversized one) and moves the partial last record to the start
 * (the new carry).
 */
function pcapBatch(target: FeedTarget, file: DirectPcapFile, carry: number, onBatch: BatchCallback): DirectBatch {
  const { batchOff, batchBytes } = target.meta;
  const bytes = target.bytes;
  target.takeBatchArea();
  const got = file.read(bytes, batchOff + carry, batchBytes - carry);
  const avail = carry + got;
  if (avail === 0) return { packets: 0, carry: 0, end: true };
  const n = target.runAt(batchOff, batchOff + avail, file.info.snaplen);
  const stop = target.batchStop;
  if (n > 0 && onBatch(bytes.subarray(batchOff, stop), target.results(n), n) === false) return { packets: n, carry: 0, stopped: true };
  const rest = batchOff + avail - stop;
  if (rest === 0) return { packets: n, carry: 0 };
  const oversized = rest >= RECORD_HEADER_BYTES && recordCaplenAt(bytes, stop) > file.info.snaplen;
  if (got === 0 || oversized || (n === 0 && avail === batchBytes)) return { packets: n, carry: 0, fallback: true };
  bytes.copyWithin(batchOff, stop, stop + rest);
  return { packets: n, carry: rest };
}

/**
 * One batch of the pcapng direct path, as pcapBatch is of the pcap one: the driver rewrites
 * each packet block's fixed fields into a record header in place and lists the records in the
 * index area, one `run_index` call runs them, and the partial last block moves to the start.
 * Falls back at a block the driver leaves, a record the module refused, the file ending inside
 * a block, a block larger than the batch area, or a module without run_index.
 */
function pcapngBatch(target: FeedTarget, file: DirectPcapngFile, carry: number, onBatch: BatchCallback): DirectBatch {
  const { batchOff, batchBytes } = target.meta;
  const indexOff = target.indexOff;
  if (indexOff === undefined) return { packets: 0, carry: 0, fallback: true };
  const bytes = target.bytes;
  target.takeBatchArea();
  const got = file.read(bytes, batchOff + carry, batchBytes - carry);
  const avail = carry + got;
  if (avail === 0) return { packets: 0, carry: 0, end: true };
  // Index entries fill at most the first eighth of batchBytes of the index area (an EPB has
  // >= 32 bytes, an entry 4); the rest of the area (batchBytes / 4) is the driver's scratch.
  const scratch = Math.ceil(batchBytes / 8 / 16) * 16;
  const count = file.index(target.wasmMemory, bytes, target.words, batchOff, avail, indexOff / 4, indexOff + scratch, batchBytes / 4 - scratch);
  let n = 0;
  if (count > 0) {
    // The driver lists only whole records with caplen <= their interface's snaplen <= MAX_CAPLEN, which run_index trusts.
    n = target.runIndexAt(batchOff, batchOff + file.consumed, count);
    if (onBatch(bytes, target.results(n), n, target.words.subarray(indexOff / 4, indexOff / 4 + n)) === false) {
      return { packets: n, carry: 0, stopped: true };
    }
    if (n < count) return { packets: n, carry: 0, fallback: true };   // not expected (entries and slots lie in the memory): the general reader goes on
  }
  const rest = avail - file.consumed;
  if (file.handover || (rest > 0 && (got === 0 || rest === batchBytes))) return { packets: n, carry: 0, fallback: true };
  bytes.copyWithin(batchOff, batchOff + file.consumed, batchOff + avail);
  return { packets: n, carry: rest };
}
