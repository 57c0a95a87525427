/**
 * A device's large sets (BPF_FILTER `host` lists) take the hash tables in the area its memory
 * keeps for them (vm/mapi/device.ts DEVICE_TABLES_BYTES, compileWasm's tablesReserve), and count
 * what the same expressions compiled on their own count.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../vm/compile.js';
import { runFile } from '../../vm/run-file.js';
import { Device } from '../../vm/mapi/index.js';
import { ipv4Frame, tempDir, writePcap } from './helpers.js';

const host = (i: number) => [10, (i >> 8) & 255, i & 255, 1 + (i % 200)];

describe('large sets on a device', () => {
  it('count as the expression alone does, with the tables in the device\'s memory', async () => {
    // 4,000 packets between addresses of 10/8, a quarter of them of the list.
    let seed = 7;
    const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
    const packets = Array.from({ length: 4000 }, (_, i) => ({
      sec: 1_700_000_000 + i, usec: 0,
      bytes: ipv4Frame(6, new Uint8Array(10), { src: host(rand(4000)), dst: host(rand(4000)), dport: 80 }),
    }));
    const path = writePcap(join(tempDir(), 'ten.pcap'), packets);
    const lists = [1000, 300].map((n, k) => Array.from({ length: n }, (_, i) => `host ${host(i * 2 + k).join('.')}`).join(' or '));
    const want = await Promise.all(lists.map(async (e) => runFile(await compileFilter(e, { language: 'pcap', linkType: 1 }), path).matched));
    expect(want[0]).toBeGreaterThan(100);

    const dev = await Device.offline(path);
    const flows = lists.map((e) => {
      const flow = dev.flow();
      flow.apply('BPF_FILTER', e);
      return { flow, fid: flow.apply('PKT_COUNTER') };
    });
    await Promise.all(flows.map((f) => f.flow.connect()));
    await dev.start();
    await dev.finished();
    expect(flows.map((f) => Number(f.flow.read(f.fid)))).toEqual(want);
    const meta = (dev.core as unknown as { filter: { meta: { tablesOff?: number; tablesBytes?: number } } }).filter.meta;
    expect(meta.tablesOff).toBeGreaterThan(0);
    expect(meta.tablesBytes).toBeGreaterThan(1000 * 4);
    dev.delete();
  });
});
