/**
 * The capture feed (vm/feed.ts) stepped the way its users step it: one batch per step, a
 * source that writes records into the region it is given (as a live source will), and a file
 * read in place that hands over to the general reader. Each gives the verdicts runCapture
 * gives on the same packets.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, c, load, ret, type Program } from '../../lang/ir/ir.js';
import { RECORD_HEADER_BYTES } from '../../abi/index.js';
import { compileProgram } from '../../vm/compile.js';
import { fileFeed, runCapture, runFeed, sourceFeed, type CaptureFeed, type FeedReader } from '../../vm/feed.js';
import type { CompiledFilter } from '../../vm/filter.js';
import type { Batch, CaptureInfo, CaptureSource } from '../../drivers/types.js';
import { buildPcap, recordSizes } from '../drivers/build.js';

const tmp = mkdtempSync(join(tmpdir(), 'fplc-feed-'));
const BATCH = 262144 + 16 + 1024;

// Result: 1 + (byte 0 ^ caplen) % 7, never 0, so every verdict is seen.
const program: Program = {
  body: ret(bin('add', bin('mod', bin('xor', load(0, 1), { k: 'meta', m: 'caplen' }), c(7)), c(1))),
  linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 1,
};

const packetsOf = (n: number, seed: number) =>
  recordSizes(n, seed).map((len, i) => ({ sec: i, frac: 0, data: Uint8Array.from({ length: len }, (_, j) => (i * seed + j) & 0xff) }));

/** A source that writes a fixed list of ABI records into the region nextBatch gives it, a few at a time. */
class ListSource implements CaptureSource {
  readonly info: CaptureInfo = { format: 'pcap', linkType: 1, snaplen: 262144, nanoseconds: false, bigEndian: false };
  readonly error = undefined;
  recordsRead = 0;
  private next = 0;
  constructor(private readonly records: Uint8Array[], private readonly perBatch: number) {}
  nextBatch(dst: Uint8Array, dstOff: number, maxBytes: number): Batch {
    let bytes = 0, records = 0;
    while (this.next < this.records.length && records < this.perBatch && bytes + this.records[this.next]!.length <= maxBytes) {
      dst.set(this.records[this.next]!, dstOff + bytes);
      bytes += this.records[this.next++]!.length;
      records++;
    }
    this.recordsRead += records;
    return { records, bytes, linkType: 1 };
  }
  close(): void {}
}

/** Steps a feed to its end, one batch per step, collecting the verdicts and the readers seen. */
function stepAll(f: CompiledFilter, feed: CaptureFeed): { verdicts: number[]; readers: FeedReader[]; steps: number } {
  const verdicts: number[] = [];
  const readers: FeedReader[] = [feed.reader];
  let steps = 0;
  for (;;) {
    const s = feed.step(f, (_records, results, n) => { verdicts.push(...results.subarray(0, n)); });
    steps++;
    if (readers.at(-1) !== feed.reader) readers.push(feed.reader);
    if (s.end) { expect(s.packets).toBe(0); break; }
    expect(s.packets).toBeGreaterThan(0);
  }
  return { verdicts, readers, steps };
}

describe('capture feed', () => {
  it('runs the records a source writes into the batch area, batch by batch, as runCapture does', async () => {
    const f = await compileProgram(program, { batchBytes: BATCH });
    const { bytes, offsets } = buildPcap({ linkType: 1, snaplen: 262144 }, packetsOf(200, 5));
    const records = offsets.map((off, i) => bytes.slice(off, offsets[i + 1] ?? bytes.length));
    expect(records.every((r) => r.length >= RECORD_HEADER_BYTES)).toBe(true);
    const want = [...runCapture(f, bytes)];
    expect(new Set(want).size).toBeGreaterThan(3);
    const got = stepAll(f, sourceFeed(new ListSource(records, 9)));
    expect(got.verdicts).toEqual(want);
    expect(got.readers).toEqual(['general']);
    expect(got.steps).toBeGreaterThanOrEqual(Math.ceil(200 / 9) + 1);   // at most 9 records a batch, fewer where they fill it
    // Stopped by the callback after the first batch: that batch's packets only.
    expect(runFeed(f, sourceFeed(new ListSource(records, 9)), () => false)).toEqual({ packets: 9 });
  });

  it('reads a pcap file in place and hands over to the general reader at a record past the snaplen', async () => {
    const f = await compileProgram(program, { batchBytes: BATCH });
    const packets = packetsOf(300, 3);
    const { bytes } = buildPcap({ linkType: 1, snaplen: 8000 }, packets);
    const path = join(tmp, 'snap.pcap');
    writeFileSync(path, bytes);
    const want = [...runCapture(f, bytes)];
    const got = stepAll(f, fileFeed(path, { linkType: 1 }));
    expect(got.verdicts).toEqual(want);
    expect(packets.some((p) => p.data.length > 8000)).toBe(true);
    expect(got.readers).toEqual(['pcap in place', 'general']);
    // Within the snaplen, the file is read in place to its end.
    const within = buildPcap({ linkType: 1, snaplen: 262144 }, packets).bytes;
    writeFileSync(join(tmp, 'whole.pcap'), within);
    const whole = stepAll(f, fileFeed(join(tmp, 'whole.pcap'), { linkType: 1 }));
    expect(whole.verdicts).toEqual([...runCapture(f, within)]);
    expect(whole.readers).toEqual(['pcap in place']);
    expect(whole.steps).toBeGreaterThan(2);
  });
});
