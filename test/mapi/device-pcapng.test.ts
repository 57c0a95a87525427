/**
 * A device reads little-endian pcapng files in place, as it reads pcap files (vm/mapi/device.ts,
 * vm/feed.ts): its results on a pcapng file are those on the same
 * packets as pcap, across several batches, with the general reader taking over at a block the
 * direct path leaves.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../drivers/pcapng-writer.js';
import { DirectPcapngFile } from '../../drivers/pcapng-direct.js';
import type { CaptureFeed } from '../../vm/feed.js';
import { Device } from '../../vm/mapi/index.js';
import { PcapngBuilder } from '../drivers/build.js';
import { projectRoot } from '../support/env.js';
import { readRecords, tempDir, writePcap, type Rec } from './helpers.js';

const sample = (f: string) => join(projectRoot, 'samples', f);

type Fn = [string, ...unknown[]];
/** Flows of several kinds: filters and counters, a string search, and 50 dispatched flows. */
const FLOWS: Fn[][] = [
  [['BPF_FILTER', 'tcp'], ['PKT_COUNTER']],
  [['BPF_FILTER', 'tcp dst port 80'], ['BYTE_COUNTER']],
  [['STR_SEARCH', 'GET', 0, 1500], ['PKT_COUNTER']],
  ...Array.from({ length: 50 }, (_, i): Fn[] => [['BPF_FILTER', `tcp dst port ${i + 60}`], ['PKT_COUNTER']]),
];

/** The flows' counts, the packets, the reader the device opened and whether it went on with the general reader. */
async function results(path: string): Promise<{ counts: unknown[]; packets: bigint; direct: string; fellBack: boolean }> {
  const dev = await Device.offline(path);
  const trace = (dev.core as unknown as { trace: CaptureFeed }).trace;
  const direct = trace.reader;
  const made = FLOWS.map((fns) => { const flow = dev.flow(); return { flow, fids: fns.map(([name, ...args]) => flow.apply(name, ...args)) }; });
  for (const m of made) await m.flow.connect();
  await dev.start();
  await dev.finished();
  const out = { counts: made.map((m) => m.flow.read(m.fids[m.fids.length - 1]!)), packets: dev.packets, direct, fellBack: trace.reader === 'general' };
  dev.delete();
  return out;
}

/** web.pcap and worm.pcap, over and over: ~1.6 MB, more than one of a device's 1 MiB batches. */
function manyRecords(): Rec[] {
  const base = [...readRecords(sample('web.pcap')).records, ...readRecords(sample('worm.pcap')).records];
  return Array.from({ length: 20 }, () => base).flat();
}

function writePcapng(path: string, records: readonly Rec[]): string {
  const w = new PcapngWriter(path, { linkType: 1 });
  for (const r of records) w.writePacket(r.sec, r.frac, r.bytes, r.wlen);
  w.close();
  return path;
}

describe('a device on a pcapng file', () => {
  it('reads it in place, with the results it has on the same packets as pcap', async () => {
    const dir = tempDir();
    const records = manyRecords();
    const pcap = writePcap(join(dir, 'many.pcap'), records.map((r) => ({ sec: r.sec, usec: r.frac, bytes: r.bytes, wlen: r.wlen })));
    const ng = writePcapng(join(dir, 'many.pcapng'), records);
    expect(DirectPcapngFile.open(ng)).toBeDefined();
    const want = await results(pcap);
    const got = await results(ng);
    expect(got).toMatchObject({ direct: 'pcapng in place', fellBack: false, packets: BigInt(records.length) });
    expect(got.counts).toEqual(want.counts);
    expect((want.counts as bigint[]).filter((c) => c > 0n).length).toBeGreaterThan(3);
  }, 60_000);

  it('hands over to the general reader at a block it leaves, and keeps counting', async () => {
    const dir = tempDir();
    const records = manyRecords();
    const b = new PcapngBuilder();
    b.shb();
    b.idb(1, 65535);
    const half = records.length >> 1;
    records.forEach((r, i) => {
      if (i === half) b.spb(r.wlen, r.bytes);   // a Simple Packet Block: the general reader's (no timestamp)
      else {
        const us = BigInt(r.sec) * 1_000_000n + BigInt(r.frac);
        b.epb(0, Number(us >> 32n), Number(us & 0xffffffffn), r.bytes, { wirelen: r.wlen });
      }
    });
    const ng = join(dir, 'with-spb.pcapng');
    writeFileSync(ng, b.bytes());
    const pcap = writePcap(join(dir, 'same.pcap'), records.map((r, i) => ({ sec: i === half ? 0 : r.sec, usec: i === half ? 0 : r.frac, bytes: r.bytes, wlen: r.wlen })));
    const want = await results(pcap);
    const got = await results(ng);
    expect(got).toMatchObject({ direct: 'pcapng in place', fellBack: true, packets: BigInt(records.length) });
    expect(got.counts).toEqual(want.counts);
  }, 60_000);
});
