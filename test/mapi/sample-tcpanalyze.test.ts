/** samples/mapi-tcpanalyze.mjs on samples/web.pcap, against the same figures computed from the records in JS. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as mapi from '../../vm/mapi/index.js';
import { projectRoot } from '../support/env.js';
import { readRecords } from './helpers.js';
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
    expect(report(r)).toMatch(/^# tcpanalyze\npackets \d+\n/);
  });
});
