/**
 * STARTSTOP, HASHSAMP, BUCKET and THRESHOLD against plain JavaScript models over the same records
 * (read by the drivers): exact 32.32 times, an independent jhash, the periodic rule written out,
 * `date` for local times; argument errors and a property that no argument list throws.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Device, EQUAL_BOUND, GT_BOUND, GT_D_BOUND, LT_BOUND, TYPE_CHAR, TYPE_UNSIGNED_LONG_LONG, mapi_apply_function, mapi_create_flow,
  mapi_create_offline_device, mapi_delete_offline_device, mapi_read_error, type BucketRecord, type HashSample, type ThresholdResult,
} from '../../vm/mapi/index.js';
import { corpusDir, haveCorpus, haveTcpdump, projectRoot, requires, need } from '../support/env.js';
import { readRecords, tcpdumpCount, tempDir, writePcap, ipv4Frame, type Rec } from './helpers.js';

const WEB = resolve(projectRoot, 'samples/web.pcap');
const ntp = (r: { sec: number; frac: number }): bigint => (BigInt(r.sec) << 32n) + (BigInt(r.frac) * (1n << 32n) + 500000n) / 1000000n;
const SEC = 1n << 32n;

type Fn = [string, ...unknown[]];
/** One device, several flows; `mk` gets the flow's fd (for references). Returns every result. */
async function run(path: string, flows: ((fd: number) => Fn[])[]) {
  const dev = await Device.offline(path);
  const made = flows.map((mk) => {
    const flow = dev.flow();
    return { flow, fids: mk(flow.fd).map(([name, ...args]) => flow.apply(name, ...args)) };
  });
  for (const m of made) await m.flow.connect();
  await dev.start();
  await dev.finished();
  const results = made.map((m) => m.fids.map((fid) => m.flow.read(fid)));
  dev.delete();
  return results;
}

function expectError(name: string, args: unknown[], code: number): void {
  const dev = mapi_create_offline_device(WEB)!;
  expect(mapi_apply_function(mapi_create_flow(dev), name, ...args), `${name}(${args.map(String).join(', ')})`).toBe(-1);
  expect(mapi_read_error().code, `${name}(${args.map(String).join(', ')})`).toBe(code);
  mapi_delete_offline_device(dev);
}

describe('STARTSTOP', () => {
  const savedTZ = process.env.TZ;
  afterAll(() => { process.env.TZ = savedTZ; });

  it('relative windows [first + start, first + start + stop] on samples/web.pcap', async () => {
    const { records } = readRecords(WEB);
    const first = ntp(records[0]!);
    const windows: [string, string][] = [['+0s', '1s'], ['+1s', '+2s'], ['+500ms', '250ms'], ['+0.25s', '0'], ['+100s', '1s']];
    const results = await run(WEB, windows.map(([a, b]) => () => [['STARTSTOP', a, b], ['PKT_COUNTER']]));
    const ticks = (s: string) => (BigInt(Math.round(parseFloat(s.replace('+', '')) * 1000)) * (s.includes('ms') ? 4294967n : SEC)) / (s.includes('ms') ? 1000n : 1000n);
    windows.forEach(([a, b], i) => {
      const lo = first + ticks(a), hi = lo + ticks(b);
      const inside = records.filter((r) => ntp(r) >= lo && ntp(r) <= hi);
      expect(results[i]![1], `${a} ${b}`).toBe(BigInt(inside.length));
      const res = results[i]![0] as { first: bigint; first_processed: bigint; last: bigint };
      expect(res.first).toBe(first);
      expect(res.first_processed).toBe(inside.length ? ntp(inside[0]!) : 0n);
      expect(res.last).toBe(inside.length ? ntp(inside[inside.length - 1]!) : 0n);
    });
    expect(results.some((r) => (r[1] as bigint) > 0n)).toBe(true);
  });

  it('absolute local times, read in the process time zone (checked with date(1))', async () => {
    const path = writePcap(join(tempDir(), 'spread.pcap'), Array.from({ length: 24 }, (_, i) => ({ sec: 1700000000 + (i >> 1), usec: (i & 1) * 500000, bytes: ipv4Frame(6, new Uint8Array(1)) })));
    const { records } = readRecords(path);
    const s0 = records[0]!.sec;
    for (const tz of ['Europe/Oslo', 'America/New_York', 'UTC']) {
      process.env.TZ = tz;
      const local = (sec: number) => execFileSync('date', ['-d', `@${sec}`, '+%Y-%m-%d %H:%M:%S'], { env: { TZ: tz } }).toString().trim();
      const results = await run(path, [
        () => [['STARTSTOP', local(s0 + 1), local(s0 + 3)], ['PKT_COUNTER']],
        () => [['STARTSTOP', local(s0 + 1), '+1.5s'], ['PKT_COUNTER']],
      ]);
      const count = (lo: bigint, hi: bigint) => BigInt(records.filter((r) => ntp(r) >= lo && ntp(r) <= hi).length);
      expect(results[0]![1], tz).toBe(count(BigInt(s0 + 1) * SEC, BigInt(s0 + 3) * SEC));
      expect(results[1]![1], tz).toBe(count(BigInt(s0 + 1) * SEC, BigInt(s0 + 1) * SEC + 3n * SEC / 2n));
      expect(results[0]![1]).toBeGreaterThan(0n);
    }
  });

  it('argument errors: relative start with absolute stop → 7000, bad start → 7001, bad stop → 7002', () => {
    expectError('STARTSTOP', ['+1s', '2024-01-01 00:00:00'], 7000);
    expectError('STARTSTOP', ['1s', '2s'], 7001);
    expectError('STARTSTOP', ['2024-13-01 00:00:00', '+1s'], 7001);
    expectError('STARTSTOP', ['+1s', 'soon'], 7002);
    expectError('STARTSTOP', ['2024-01-02 00:00:00', '2024-01-01 00:00:00'], 7002);
  });
});

/** Linux's lookup2 jhash_3words with C `int` arithmetic, written from the macro. */
function referenceJhash(a: number, b: number, c: number, init: number): number {
  const v = Int32Array.from([a + 0x9e3779b9, b + 0x9e3779b9, c + init]);
  const steps: [number, number, number, number][] = [   // [target, minus1, minus2, shift (+ right, − left)] over indexes a=0 b=1 c=2
    [0, 1, 2, 13], [1, 2, 0, -8], [2, 0, 1, 13], [0, 1, 2, 12], [1, 2, 0, -16], [2, 0, 1, 5], [0, 1, 2, 3], [1, 2, 0, -10], [2, 0, 1, 15],
  ];
  for (const [t, m1, m2, sh] of steps) {
    v[t] = v[t]! - v[m1]! - v[m2]!;
    v[t] = v[t]! ^ (sh > 0 ? v[m2]! >> sh : v[m2]! << -sh);
  }
  return v[2]! >>> 0;
}

/** HASHSAMP's decision for a record, from its bytes (undefined: not IPv4 TCP/UDP on Ethernet). */
function modelBucket(r: Rec): number | undefined {
  const b = r.bytes;
  if (r.caplen < 34 || b[12] !== 8 || b[13] !== 0 || b[14]! >> 4 !== 4 || (b[23] !== 6 && b[23] !== 17)) return undefined;
  const l4 = 14 + (b[14]! & 15) * 4;
  if (r.caplen < l4 + 4) return undefined;
  const le = (o: number, n: number) => { let x = 0; for (let i = n - 1; i >= 0; i--) x = x * 256 + b[o + i]!; return x; };
  return referenceJhash(le(26, 4) | 0, (le(30, 4) ^ b[23]!) | 0, (le(l4, 2) | (le(l4 + 2, 2) << 16)) | 0, 6564987) % 1024;
}

describe('HASHSAMP', () => {
  it('passes the flows whose jhash mod 1024 is below range, as an independent jhash says (corpus and web.pcap)', async () => {
    const files = [WEB];
    if (requires('the capture corpus', haveCorpus)) files.push(...['afs.pcap', 'mptcp-v0.pcap', 'dns_tcp.pcap', 'of10_s4810.pcap'].map((f) => join(corpusDir, f)));
    const ranges = [1, 100, 512, 1000, 1024];
    let nonTrivial = 0;
    for (const path of files) {
      const { records, linkType } = readRecords(path);
      if (linkType !== 1) continue;
      const results = await run(path, ranges.map((range) => () => [['HASHSAMP', range, 0], ['PKT_COUNTER']]));
      const buckets = records.map(modelBucket);
      ranges.forEach((range, i) => {
        const want = buckets.filter((h) => h !== undefined && h < range).length;
        expect(results[i]![1], `${path} range ${range}`).toBe(BigInt(want));
        if (want > 0 && want < buckets.filter((h) => h !== undefined).length) nonTrivial++;
      });
    }
    expect(nonTrivial).toBeGreaterThan(3);
  }, 60_000);

  it('keep ≠ 0 keeps the last 40 passed packets\' 5-tuples, flags and times', async () => {
    const { records } = readRecords(WEB);
    const [[res]] = await run(WEB, [() => [['HASHSAMP', 1024, 1]]]) as [[{ total: number; samples: HashSample[] }]];
    const passed = records.filter((r) => modelBucket(r) !== undefined);
    expect(res.total).toBe(passed.length);
    const last = passed.slice(-40);
    expect(res.samples.length).toBe(last.length);
    res.samples.forEach((s, i) => {
      const b = last[i]!.bytes, l4 = 14 + (b[14]! & 15) * 4;
      expect(s.src_ip).toBe(Array.from(b.slice(26, 30)).join('.'));
      expect(s.dport).toBe(b[l4 + 2]! * 256 + b[l4 + 3]!);
      expect(s.proto).toBe(b[23]);
      expect(s.ts).toBe(ntp(last[i]!));
      if (b[23] === 6) {
        const f = b[l4 + 13]!;
        expect(s.flags).toBe((f & 2 ? 1 : 0) | (f & 0x10 ? 2 : 0) | (f & 4 ? 4 : 0) | (f & 1 ? 8 : 0) | (f & 8 ? 16 : 0));
        expect(s.seq).toBe(new DataView(b.buffer, b.byteOffset).getUint32(l4 + 4));
      }
    });
  });

  it('range 1024 passes IPv4 TCP/UDP packets (fragments too) whose 4 port bytes are captured, as tcpdump counts them (web.pcap and corpus captures)', async (ctx) => {
    need(ctx, 'tcpdump', haveTcpdump);
    const files = [WEB, ...(haveCorpus ? ['afs.pcap', 'dns_tcp.pcap', 'mptcp-v0.pcap'].map((f) => join(corpusDir, f)) : [])];
    for (const path of files) {
      const [[, n]] = await run(path, [() => [['HASHSAMP', 1024, 0], ['PKT_COUNTER']]]);
      expect(n, path).toBe(BigInt(tcpdumpCount(path, 'ether proto 0x0800 and ip[0] & 0xf0 = 0x40 and (ip proto 6 or ip proto 17) and ip[(ip[0] & 0xf) * 4 + 3] >= 0')!));
    }
  });

  it('range outside 1..1024 → 7001', () => {
    for (const r of [0, -1, 1025, 2 ** 31]) expectError('HASHSAMP', [r, 0], 7001);
  });
});

describe('BUCKET', () => {
  it('"0" records every packet; "-1" one record at the end (PKT_COUNTER, BYTE_COUNTER)', async () => {
    const { records } = readRecords(WEB);
    const [[, every, , end]] = await run(WEB, [(fd) => [['PKT_COUNTER'], ['BUCKET', fd, 1, '0', 0], ['BYTE_COUNTER'], ['BUCKET', fd, 3, '-1', 0]]]) as
      [[unknown, { total: number; records: BucketRecord[] }, unknown, { total: number; records: BucketRecord[] }]];
    expect(every.total).toBe(records.length);
    const want = records.map((r, i) => ({ timestamp: ntp(r), data: BigInt(i + 1) })).slice(-1000);
    expect(every.records).toEqual(want);
    expect(end).toEqual({ total: 1, records: [{ timestamp: ntp(records[records.length - 1]!), data: BigInt(records.reduce((s, r) => s + r.wlen, 0)) }] });
  });

  it('periodic: runs before its source, writes empty records for the silent intervals, resets with reset = 1', async () => {
    const dir = tempDir();
    // gaps of several intervals, and packets exactly on boundaries
    const times = [0, 0.2, 0.5, 0.9, 1.0, 1.05, 3.7, 3.71, 4.0, 9.2, 9.3, 9.9, 10.4];
    const path = writePcap(join(dir, 'b.pcap'), times.map((t) => ({ sec: 1000 + Math.floor(t), usec: Math.round((t % 1) * 1e6), bytes: ipv4Frame(17, new Uint8Array(3)) })));
    const { records } = readRecords(path);
    for (const [iv, reset] of [['1s', 1], ['500ms', 0], ['2s', 1]] as const) {
      const ticks = iv === '1s' ? SEC : iv === '2s' ? 2n * SEC : 500n * 4294967n;
      const [[, res]] = await run(path, [(fd) => [['PKT_COUNTER'], ['BUCKET', fd, 1, iv, reset]]]) as [[unknown, { total: number; records: BucketRecord[] }]];
      // the model: the counter before the packet that ends intervals (BUCKET runs first)
      const want: BucketRecord[] = [];
      let last = ntp(records[0]!), count = 0n;
      for (const r of records) {
        const t = ntp(r);
        let k = 0n;
        while (t > last && t - last > ticks) { last += ticks; k++; }
        if (k > 0n) {
          for (let j = 1n; j < k; j++) want.push({ timestamp: last - (k - j) * ticks, data: 0n });
          want.push({ timestamp: last, data: count });
          if (reset) count = 0n;
        }
        count++;
      }
      expect(res.records, `${iv} reset ${reset}`).toEqual(want);
      expect(want.some((w) => w.data === 0n)).toBe(true);
    }
  });

  it('argument errors: reset ∉ {0,1} → 7000, missing function → 7001, bad interval → 7003', async () => {
    const dev = await Device.offline(WEB);
    const flow = dev.flow();
    const c = flow.apply('PKT_COUNTER');
    expect(() => flow.apply('BUCKET', flow.fd, c, '1s', 2)).toThrow(/7000|argument 4/);
    expect(() => flow.apply('BUCKET', flow.fd, c + 5, '1s', 0)).toThrow(/argument|function/);
    expect(() => flow.apply('BUCKET', flow.fd, c, 'often', 0)).toThrow(/argument 3/);
    for (const [args, code] of [[[1, 1, '1s', 2], 7001], [[99999, 1, '1s', 0], 7001]] as const) expectError('BUCKET', [...args], code);
    dev.delete();
  });
});

describe('THRESHOLD', () => {
  it('events when the value crosses the bound, up to count; next() waits for them and ends with null', async () => {
    const { records } = readRecords(WEB);
    const dev = await Device.offline(WEB);
    const flow = dev.flow();
    const pk = flow.apply('PKT_COUNTER');
    const bytes = flow.apply('BYTE_COUNTER');
    const t1 = flow.apply('THRESHOLD', TYPE_UNSIGNED_LONG_LONG, flow.fd, pk, GT_BOUND, 5, 0, 1, 3);
    const t2 = flow.apply('THRESHOLD', TYPE_UNSIGNED_LONG_LONG, flow.fd, bytes, GT_D_BOUND, 100, 0, 1, 0);
    const t3 = flow.apply('THRESHOLD', TYPE_UNSIGNED_LONG_LONG, flow.fd, bytes, GT_BOUND, 10, 0, 1000, 1);   // kB, once
    const t4 = flow.apply('THRESHOLD', TYPE_CHAR, flow.fd, pk, EQUAL_BOUND, 3, 0, 1, 0);                     // low 8 bits
    const t5 = flow.apply('THRESHOLD', TYPE_UNSIGNED_LONG_LONG, flow.fd, pk, LT_BOUND, 1000, 100, 1, 0);     // 100 ms pause
    await flow.connect();
    const first = (flow.read(t1) as ThresholdResult).next();   // waits: nothing has run yet
    await dev.start();
    const e1 = await first;
    expect(e1).toEqual({ timestamp: ntp(records[5]!), value: 6n });
    await dev.finished();
    const r1 = flow.read(t1) as ThresholdResult;
    expect(r1.events).toBe(3);
    expect(await r1.next()).toEqual({ timestamp: ntp(records[6]!), value: 7n });
    expect(await r1.next()).toEqual({ timestamp: ntp(records[7]!), value: 8n });
    expect(await r1.next()).toBeNull();
    // the model of the others
    let sum = 0;
    const d: number[] = [], kb: number[] = [], eq3: number[] = [], lt: number[] = [];
    let pauseEnd = -1n;
    records.forEach((r, i) => {
      sum += r.wlen;
      if (i > 0 && r.wlen > 100) d.push(i);
      if (Math.floor(sum / 1000) > 10 && kb.length < 1) kb.push(i);
      if (((i + 1) & 255) === 3) eq3.push(i);
      if (i + 1 < 1000 && ntp(r) >= pauseEnd) { lt.push(i); pauseEnd = ntp(r) + (100n << 32n) / 1000n; }
    });
    expect((flow.read(t2) as ThresholdResult).events).toBe(d.length);
    expect(d.length).toBeGreaterThan(0);
    expect((flow.read(t2) as ThresholdResult).last?.timestamp).toBe(ntp(records[d[d.length - 1]!]!));
    expect((flow.read(t3) as ThresholdResult).last?.timestamp).toBe(ntp(records[kb[0]!]!));
    expect((flow.read(t4) as ThresholdResult).events).toBe(eq3.length);
    expect((flow.read(t5) as ThresholdResult).events).toBe(lt.length);
    expect(lt.length).toBeGreaterThan(1);
    dev.delete();
  });

  it('argument errors name the argument', () => {
    expectError('THRESHOLD', [3, 1, 1, GT_BOUND, 5, 0, 1, 0], 7001);
    expectError('THRESHOLD', [64 | 2, 1, 1, GT_BOUND, 5, 0, 1, 0], 7001);
    expectError('THRESHOLD', [2, 99999, 1, GT_BOUND, 5, 0, 1, 0], 7002);
  });
});

describe('argument validation never throws', () => {
  it('STARTSTOP, HASHSAMP, BUCKET, THRESHOLD: bad arguments give -1 and a 7000–7011 code', () => {
    const arg = fc.oneof(fc.integer({ min: -3, max: 1100 }), fc.constantFrom('+1s', '0', '-1', '2024-02-03 04:05:06', '1s', 'x', ''), fc.constant(null), fc.double(), fc.constant(2n ** 70n));
    fc.assert(fc.property(fc.constantFrom('STARTSTOP', 'HASHSAMP', 'BUCKET', 'THRESHOLD'), fc.array(arg, { maxLength: 9 }), (name, args) => {
      const dev = mapi_create_offline_device(WEB)!;
      const fd = mapi_create_flow(dev);
      mapi_apply_function(fd, 'PKT_COUNTER');
      const r = mapi_apply_function(fd, name, ...args);
      const code = r === -1 ? mapi_read_error().code : 0;
      mapi_delete_offline_device(dev);
      return r > 0 || (code >= 7000 && code <= 7011);
    }), { numRuns: 400 });
  });
});
