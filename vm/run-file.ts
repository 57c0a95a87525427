/**
 * Runs a compiled filter over a capture file the way the CLI does: streamed through the
 * module's memory in batches, counting results per code, optionally writing the matched
 * packets to a pcap file. One WebAssembly call per batch; JavaScript only walks a batch's
 * records when it has to write them.
 */
import { PcapWriter } from '../drivers/pcap-writer.js';
import type { CaptureError } from '../drivers/types.js';
import { RECORD_HEADER_BYTES, recordCaplenAt } from '../abi/index.js';
import type { CompiledFilter } from './filter.js';
import { fileFeed, runFeed } from './feed.js';

export interface RunFileOptions {
  /** Stop after this many matched packets (tcpdump's -c), at least 1. */
  count?: number;
  /** Write matched packets to this pcap file. */
  writeTo?: string;
  /** Read little-endian pcap and pcapng files straight into the module (default true); false forces the general reader. */
  direct?: boolean;
  /** Called after each batch with the running totals. */
  onProgress?(packets: number, matched: number): void;
}

export interface RunFileResult {
  packets: number;
  matched: number;
  /** Matched packets per non-zero result code. */
  codes: Map<number, number>;
  /** Packets that ran out of loop fuel (they count as result 0). */
  fuelExhausted: number;
  /** Set when a malformed record stopped reading; the counts cover the packets before it. */
  error?: CaptureError;
}

export function runFile(filter: CompiledFilter, capturePath: string, opts: RunFileOptions = {}): RunFileResult {
  if (opts.count !== undefined && !(Number.isSafeInteger(opts.count) && opts.count >= 1)) {
    throw new RangeError(`count must be a positive integer, got ${opts.count}`);
  }
  // Little-endian pcap 2.4 and pcapng files are filtered in place; everything else through the general reader.
  const feed = fileFeed(capturePath, { direct: opts.direct, linkType: filter.linkType });
  const codes = new Map<number, number>();
  let packets = 0;
  let matched = 0;
  let done = false;
  let writer: PcapWriter | undefined;
  const fuelBefore = filter.fuelExhausted;
  try {
    // Refuse a capture of another link type before creating the output file, not after.
    filter.checkLinkType(feed.info.linkType);
    if (opts.writeTo) {
      writer = new PcapWriter(opts.writeTo, {
        linkType: feed.info.linkType, snaplen: feed.info.snaplen, nanoseconds: feed.info.nanoseconds,
      });
    }
    const limit = opts.count ?? Infinity;
    const onBatch = (batch: Uint8Array, results: Uint32Array, n: number, offsets?: Uint32Array) => {
      if (done) return;
      // Locals in the loops (not the closure's variables), so that they stay tight scans for non-zero results.
      let i = 0, hits = matched;
      // Counted in WebAssembly when the verdicts share one code and the count limit is not
      // reached in this batch (every pcap filter's case); otherwise result by result.
      const tally = writer ? undefined : filter.tallyResults(n);
      if (tally && tally.code !== undefined && hits + tally.matched < limit) {
        if (tally.matched > 0) codes.set(tally.code, (codes.get(tally.code) ?? 0) + tally.matched);
        hits += tally.matched;
        i = n;
      } else if (!writer) {
        for (; i < n; i++) {
          if (results[i] === 0) continue;
          const r = results[i]!;
          hits++;
          codes.set(r, (codes.get(r) ?? 0) + 1);
          if (hits >= limit) { done = true; i++; break; }
        }
      } else {
        for (let off = 0; i < n; i++) {
          const r = results[i]!;
          if (r !== 0) {
            hits++;
            codes.set(r, (codes.get(r) ?? 0) + 1);
            writer.writeRecord(batch, offsets ? offsets[i]! : off);
            if (hits >= limit) { done = true; i++; break; }
          }
          if (!offsets) off += RECORD_HEADER_BYTES + recordCaplenAt(batch, off);
        }
      }
      packets += i;
      matched = hits;
      opts.onProgress?.(packets, matched);
      return done ? false : undefined;
    };
    const result = runFeed(filter, feed, onBatch);
    return { packets, matched, codes, fuelExhausted: filter.fuelExhausted - fuelBefore,
      ...(result.error && !done ? { error: result.error } : {}) };
  } finally {
    writer?.close();
    feed.close();
  }
}

