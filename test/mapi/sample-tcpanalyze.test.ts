/** samples/mapi-tcpanalyze.mjs on samples/web.pcap, against the same figures computed from the records in JS. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as mapi from '../../vm/mapi/index.js';
import { projectRoot } from '../support/env.js';
import { readRecords, tempDir } from './helpers.js';
// @ts-expect-error: a plain-JavaScript sample without type declarations
import { analyze, report } from '../../samples/mapi-tcpanalyze.mjs';

const WEB = resolve(projectRoot, 'samples/web.pcap');

describe('samples/mapi-tcpanalyze.mjs', () => {
  it('packets/s, bits/s and gap jitter agree with the records', async () => {
    const { records } = readRecords(WEB);
    const r = await analyze(mapi, WEB, 80);
    const t = records.map((x) => x.sec + x.frac / 1e6);
    const seconds = Math.max(...t) - Math.min(...t);
    expect(r.packets).toBe(records.length);
    expect(r.seconds).toBeCloseTo(seconds, 5);
    expect(r.bitsPerSecond).toBeCloseTo(records.reduce((s, x) => s + x.wlen * 8, 0) / seconds, 0);
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / gaps.length);
    expect(r.gaps).toBe(gaps.length);
    expect(r.meanGapSeconds).toBeCloseTo(mean, 6);
    expect(r.jitterSeconds).toBeCloseTo(sd, 4);
    expect(r.inflightSamples).toBeGreaterThan(0);
    // A byte count in TCP's window range, or none when a sample was negative; never a wrapped negative.
    expect(r.inflightMaxBytes === null || (r.inflightMaxBytes >= 0 && r.inflightMaxBytes < 2 ** 31)).toBe(true);
    expect(report(r)).toMatch(/^# tcpanalyze\npackets \d+\n/);
  });

  it('writes its time series with RES2FILE: per-interval packets and bytes, gap statistics so far', async () => {
    const { records } = readRecords(WEB);
    const series = join(tempDir(), 'series.txt');
    await analyze(mapi, WEB, 80, { series, interval: '100ms' });
    const [header, ...rows] = readFileSync(series, 'utf8').split('\n');
    expect(header).toMatch(/^# tcpanalyze .* every 100ms: packets bytes/);
    expect(rows.pop()).toBe('');
    // the model: the periodic rule over exact 32.32 times, values as they stood before the packet that ends an interval
    const ntp = (x: { sec: number; frac: number }) => (BigInt(x.sec) << 32n) + (BigInt(x.frac) * (1n << 32n) + 500000n) / 1000000n;
    const iv = 100n * 4294967n;
    const want: string[] = [];
    let last = ntp(records[0]!), pk = 0, by = 0, gaps = 0, gapSum = 0n, prev: bigint | undefined;
    for (const x of records) {
      const t = ntp(x);
      let k = 0;
      while (t > last && t - last > iv) { last += iv; k++; }
      if (k > 0) {
        for (let j = 1; j < k; j++) want.push('0 0 0 0');
        want.push(`${pk} ${by} ${gaps} ${gapSum}`);
        pk = 0; by = 0;
      }
      pk++; by += x.wlen;
      if (prev !== undefined) { gaps++; gapSum += t - prev; }
      prev = t;
    }
    expect(want.length).toBeGreaterThan(3);
    const got = rows.map((row) => {
      const f = row.trim().split(/\s+/);
      expect(f.length === 4 || f.length === 8, row).toBe(true);
      if (f.length === 8) expect(f[7]).toMatch(/^\d+$/);   // bytes in flight (u64)
      return f.length === 4 ? f.join(' ') : `${f[0]} ${f[1]} ${f[2]} ${f[3]!.replace(/\.000000$/, '')}`;
    });
    expect(got).toEqual(want);
  });
});
