/**
 * RES2FILE: the rows it writes, against rows built from the records in plain JavaScript (exact
 * decimal expansion of 32.32 times, the periodic rule written out); errors; no argument list throws.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Device, PKT_TS, R2F_RAW, R2F_STATS, R2F_ULLSEC, R2F_ULLSTR, mapi_apply_function, mapi_create_flow, mapi_create_offline_device,
  mapi_delete_offline_device, mapi_read_error,
} from '../../vm/mapi/index.js';
import { projectRoot } from '../support/env.js';
import { ipv4Frame, readRecords, tempDir, writePcap, type Rec } from './helpers.js';

const WEB = resolve(projectRoot, 'samples/web.pcap');
const ntp = (r: Rec): bigint => (BigInt(r.sec) << 32n) + (BigInt(r.frac) * (1n << 32n) + 500000n) / 1000000n;
const SEC = 1n << 32n;

/** v / 2^32 with 12 decimals: v·5^32 / 10^32 is exact; round the digits half to even. */
function seconds12(v: bigint): string {
  const exact = (v * 5n ** 32n).toString().padStart(33, '0');
  const whole = exact.slice(0, -32), frac = exact.slice(-32);
  let kept = BigInt(whole + frac.slice(0, 12));
  const rest = frac.slice(12);
  const half = '5'.padEnd(20, '0');
  if (rest > half || (rest === half && kept % 2n === 1n)) kept++;
  const s = kept.toString().padStart(13, '0');
  return `${s.slice(0, -12)}.${s.slice(-12)}`;
}

async function runFlow(path: string, build: (fd: number, apply: (name: string, ...args: unknown[]) => number) => void): Promise<void> {
  const dev = await Device.offline(path);
  const flow = dev.flow();
  build(flow.fd, (name, ...args) => flow.apply(name, ...args));
  await flow.connect();
  await dev.start();
  await dev.finished();
  await flow.close();
  dev.delete();
}

describe('RES2FILE', () => {
  it('"0": a row per packet; ULLSTR and ULLSEC fields each followed by a space; the header first', async () => {
    const { records } = readRecords(WEB);
    const out = join(tempDir(), 'rows.txt');
    await runFlow(WEB, (fd, mapiApply) => {
      mapiApply('PKT_COUNTER');
      mapiApply('PKTINFO', PKT_TS);
      mapiApply('RES2FILE', `${R2F_ULLSTR},${R2F_ULLSEC}`, `1@${fd},2@${fd}`, 'count time', out, '0', 0);
    });
    const want = ['count time', ...records.map((r, i) => `${i + 1} ${seconds12(ntp(r))} `)].join('\n') + '\n';
    expect(readFileSync(out, 'utf8')).toBe(want);
  });

  it('periodic: "0 " rows for silent intervals, the values before the packet that ends the interval, reset = 1', async () => {
    const times = [0, 0.2, 0.5, 0.9, 1.0, 1.05, 3.7, 3.71, 4.0, 9.2, 9.3, 9.9, 10.4];
    const path = writePcap(join(tempDir(), 'p.pcap'), times.map((t, i) => ({ sec: 500 + Math.floor(t), usec: Math.round((t % 1) * 1e6), bytes: ipv4Frame(17, new Uint8Array(i)) })));
    const { records } = readRecords(path);
    const out = join(tempDir(), 'periodic.txt');
    await runFlow(path, (fd, mapiApply) => {
      mapiApply('PKT_COUNTER');                        // fid 1
      mapiApply('BYTE_COUNTER');                       // fid 2
      mapiApply('GAP');                                // fid 3
      mapiApply('STATS', fd, 3, '0');                  // fid 4, not reset (STATS has no reset)
      mapiApply('RES2FILE', '1,1,3', `1@${fd},2@${fd},4@${fd}`, '# packets bytes gaps', out, '1s', 1);
    });
    const rows: string[] = ['# packets bytes gaps'];
    let last = ntp(records[0]!), pk = 0n, by = 0n, prev: bigint | undefined;
    const gaps: bigint[] = [];
    const stats = () => {
      const n = BigInt(gaps.length), sum = gaps.reduce((a, b) => a + b, 0n), sum2 = gaps.reduce((a, b) => a + b * b, 0n);
      const max = gaps.reduce((a, b) => (b > a ? b : a), 0n), min = gaps.length ? gaps.reduce((a, b) => (b < a ? b : a)) : 0n;
      const dbl = (v: bigint) => `${BigInt(Number(v))}.000000`;
      return `${n}  ${sum}.000000 ${sum2}.000000 ${dbl(max)} ${dbl(min)}`;
    };
    for (const r of records) {
      const t = ntp(r);
      let k = 0;
      while (t > last && t - last > SEC) { last += SEC; k++; }
      if (k > 0) {
        for (let j = 1; j < k; j++) rows.push('0 0 0 ');
        rows.push(`${pk} ${by} ${stats()} `);
        pk = 0n; by = 0n;
      }
      pk++; by += BigInt(r.wlen);
      gaps.push(prev === undefined ? 0n : t - prev);
      prev = t;
    }
    expect(readFileSync(out, 'utf8')).toBe(rows.join('\n') + '\n');
    expect(rows.filter((x) => x === '0 0 0 ').length).toBeGreaterThan(2);
  });

  it('"-1": one row when the trace ends; R2F_RAW writes the size and the bytes', async () => {
    const { records } = readRecords(WEB);
    const out = join(tempDir(), 'end.bin');
    await runFlow(WEB, (fd, mapiApply) => {
      mapiApply('BYTE_COUNTER');
      mapiApply('RES2FILE', `${R2F_ULLSTR},${R2F_RAW}`, `1@${fd},1@${fd}`, 'H', out, '-1', 0);
    });
    const got = readFileSync(out);
    const total = BigInt(records.reduce((s, r) => s + r.wlen, 0));
    const head = Buffer.from(`H\n${total} `);
    expect(got.subarray(0, head.length).equals(head)).toBe(true);
    const raw = got.subarray(head.length);
    expect(raw.length).toBe(8 + 8 + 2);
    expect(raw.readBigUInt64LE(0)).toBe(8n);
    expect(raw.readBigUInt64LE(8)).toBe(total);
    expect(raw.subarray(16).toString()).toBe(' \n');
  });

  it('errors: types/references → 7002, interval → 7005, reset → 7011, unwritable file → 6155', async () => {
    const dir = tempDir();
    const dev = await Device.offline(WEB);
    const flow = dev.flow();
    const pk = flow.apply('PKT_COUNTER');
    const st = flow.apply('STATS', flow.fd, pk, '0');
    const cases: [unknown[], number][] = [
      [['9', `${pk}@${flow.fd}`, '', join(dir, 'a'), '0', 0], 7002],
      [['1', `${pk}`, '', join(dir, 'a'), '0', 0], 7002],
      [['1,1', `${pk}@${flow.fd}`, '', join(dir, 'a'), '0', 0], 7002],
      [['1', `77@${flow.fd}`, '', join(dir, 'a'), '0', 0], 7002],
      [[String(R2F_ULLSTR), `${st}@${flow.fd}`, '', join(dir, 'a'), '0', 0], 7002],
      [[String(R2F_STATS), `${pk}@${flow.fd}`, '', join(dir, 'a'), '0', 0], 7002],
      [['1', `${pk}@${flow.fd}`, '', join(dir, 'a'), 'hourly', 0], 7005],
      [['1', `${pk}@${flow.fd}`, '', join(dir, 'a'), '1s', 2], 7011],
      [['1', `${pk}@${flow.fd}`, '', join(dir, 'no/such/dir/a'), '1s', 0], 6155],
    ];
    for (const [args, code] of cases) {
      expect(() => flow.apply('RES2FILE', ...args), JSON.stringify(args)).toThrow(expect.objectContaining({ code }));
    }
    expect(flow.apply('RES2FILE', `${R2F_STATS}`, `${st}@${flow.fd}`, '', join(dir, 'ok'), '0', 0)).toBeGreaterThan(0);
    dev.delete();
  });

  it('no argument list throws; a bad one returns -1 with its code', () => {
    const dir = tempDir();
    const arg = fc.oneof(fc.constantFrom('1', '1,2', '0,3', '1@1', 'x@y', '0', '-1', '1s', join(dir, 'f'), ''), fc.integer({ min: -2, max: 3 }), fc.constant(null));
    fc.assert(fc.property(fc.array(arg, { maxLength: 7 }), (args) => {
      const dev = mapi_create_offline_device(WEB)!;
      const fd = mapi_create_flow(dev);
      mapi_apply_function(fd, 'PKT_COUNTER');
      const r = mapi_apply_function(fd, 'RES2FILE', ...args);
      const code = r === -1 ? mapi_read_error().code : 0;
      mapi_delete_offline_device(dev);
      return r > 0 || [6155, 7000, 7001, 7002, 7003, 7004, 7005, 7011].includes(code);
    }), { numRuns: 300 });
  });
});
