/**
 * A device reads little-endian pcap files in place (straight into its batch area) and hands
 * the rest of a file to the general reader at the first record the direct path cannot take
 * (records cut to the snaplen longer than it, truncated tails): packet and byte counts, and
 * the error, are what the general reader gives — also when the device's module is rebuilt
 * between batches (a flow connected mid-trace), which keeps the carried partial record.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Device } from '../../vm/mapi/index.js';
import { buildPcap, recordSizes } from '../drivers/build.js';
import { corpusDir, haveCorpus, need } from '../support/env.js';
import { readRecords, tempDir } from './helpers.js';
import { openCaptureFile } from '../../drivers/capture.js';

const tmp = tempDir();

/** The general reader's packets, bytes (wire lengths) and error message. */
function expected(path: string): { packets: bigint; bytes: bigint; error: string | undefined } {
  const { records } = readRecords(path);
  const src = openCaptureFile(path);
  const buf = new Uint8Array(1 << 20);
  while (src.nextBatch(buf, 0, buf.length).records > 0) { /* to the end or the error */ }
  src.close();
  return { packets: BigInt(records.length), bytes: records.reduce((n, r) => n + BigInt(r.wlen), 0n), error: src.error?.message };
}

async function device(path: string) {
  const dev = await Device.offline(path);
  const flow = dev.flow();
  const pkts = flow.apply('PKT_COUNTER');
  const bytes = flow.apply('BYTE_COUNTER');
  await flow.connect();
  await dev.start();
  await dev.finished();
  const out = { packets: flow.read(pkts) as bigint, bytes: flow.read(bytes) as bigint, error: dev.error?.message };
  dev.delete();
  return out;
}

describe('device trace reading', () => {
  it('reads in place across batches, and from records the direct path cannot take, through the general reader', async () => {
    const packets = recordSizes(600, 5).map((len, i) => ({ sec: i, frac: 0, data: new Uint8Array(len).fill(i & 0xff) }));
    for (const snaplen of [262144, 8000]) {
      const { bytes, offsets } = buildPcap({ linkType: 1, snaplen }, packets);
      const whole = join(tmp, `s${snaplen}.pcap`);
      writeFileSync(whole, bytes);
      expect(await device(whole)).toEqual(expected(whole));
      const cut = join(tmp, `s${snaplen}-cut.pcap`);
      writeFileSync(cut, bytes.subarray(0, offsets[500]! + 10));   // inside record 500's header
      const got = await device(cut);
      expect(got).toEqual(expected(cut));
      expect(got.error).toMatch(/packet 500/);
    }
  }, 60_000);

  it('keeps the carried partial record when a flow connects mid-trace', async () => {
    const packets = recordSizes(3000, 11).map((len, i) => ({ sec: i, frac: 0, data: new Uint8Array(len).fill(1) }));
    const path = join(tmp, 'mid.pcap');
    writeFileSync(path, buildPcap({ linkType: 1, snaplen: 262144 }, packets).bytes);
    const dev = await Device.offline(path);
    const all = dev.flow();
    const n = all.apply('PKT_COUNTER');
    await all.connect();
    await dev.start();
    const late = dev.flow();
    const m = late.apply('BYTE_COUNTER');
    await late.connect();
    await dev.finished();
    expect(all.read(n)).toBe(3000n);
    expect(dev.packets).toBe(3000n);
    expect(dev.error).toBeUndefined();
    expect(late.read(m) as bigint).toBeGreaterThan(0n);
    dev.delete();
  }, 60_000);

  it('agrees with the general reader on Ethernet captures of the corpus', async (ctx) => {
    need(ctx, 'the tcpdump capture corpus', haveCorpus);
    let compared = 0;
    for (const name of readdirSync(corpusDir).filter((f) => f.endsWith('.pcap')).sort()) {
      const path = join(corpusDir, name);
      const head = readFileSync(path).subarray(0, 24);
      if (head.length < 24 || head.readUInt32LE(0) !== 0xa1b2c3d4 || head.readUInt32LE(20) !== 1) continue;
      if (compared++ % 4) continue;   // every fourth file keeps the test short
      expect(await device(path), name).toEqual(expected(path));
    }
    expect(compared).toBeGreaterThan(100);
  }, 120_000);
});
