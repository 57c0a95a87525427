/**
 * BINOP, STATS, DIST, PROTINFO, REGEXP, TO_FILE, time strings, function selection by devOID and
 * the info calls, against independent computations over the drivers' records (floating-point
 * 32.32 timestamps, plain JS sums and parses), tcpdump counts and tcpdump reading written files.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BINOP_ADD, BINOP_SUB, Device, MapiError, MFF_PCAPNG, PKT_SIZE, PKT_TS, TOPX_TCP, parseTimeString,
  registerMapiFunction, unregisterMapiFunction, mapi_create_offline_device, mapi_create_flow, mapi_apply_function,
  mapi_connect, mapi_start_offline_device, mapi_get_function_info, mapi_get_next_function_info, mapi_read_error,
  mapi_get_device_info, mapi_stats, mapi_get_flow_info, mapi_get_next_flow_info, mapi_delete_offline_device,
  type StatsResult, type MapiFunctionDef,
} from '../../vm/mapi/index.js';
import { PKT_COUNTER } from '../../hostfns/mapi-pkt-counter.js';
import { haveTcpdump, projectRoot, need } from '../support/env.js';
import { readRecords, tcpdumpCount, tempDir, writePcap, type Rec } from './helpers.js';

const WEB = resolve(projectRoot, 'samples/web.pcap');
const ntp = (sec: number, usec: number): bigint => (BigInt(sec) << 32n) + BigInt(Math.round((usec * 2 ** 32) / 1e6));
const ntpOf = (r: Rec): bigint => ntp(r.sec, r.frac);

type Fn = [string, ...unknown[]];
/** Runs flows on one device; each flow's arguments may refer to earlier flows' fds through a callback. */
async function run(path: string, flows: ((fds: number[]) => Fn[])[], opts: { devOID?: string } = {}) {
  const dev = await Device.offline(path, opts);
  const fds: number[] = [];
  const made = flows.map((mk) => {
    const flow = dev.flow();
    fds.push(flow.fd);
    return { flow, fids: mk(fds).map(([name, ...args]) => flow.apply(name, ...args)) };
  });
  for (const m of made) await m.flow.connect();
  await dev.start();
  await dev.finished();
  return { results: made.map((m) => m.fids.map((fid) => m.flow.read(fid))), made, dev };
}

describe('time strings (spec §1.2, §7)', () => {
  it('units are exact suffixes; m means minutes', () => {
    expect(parseTimeString('10ms')!.ticks).toBe(42949670n);
    expect(parseTimeString('3us')!.ticks).toBe(3n * 4294n);
    expect(parseTimeString('1.5s')!.ticks).toBe(3n << 31n);
    expect(parseTimeString('2m')!.ticks).toBe(120n << 32n);
    expect(parseTimeString('77')!.ticks).toBe(77n);
    expect(parseTimeString('+3s')).toEqual({ ticks: 3n << 32n, relative: true });
    for (const bad of ['', 's', '1msec', '1 sec', '-1s', '1h', '1e3', 'ms1']) expect(parseTimeString(bad)).toBeUndefined();
  });
  it('n s is n·2^32 and n ms is n·4294967, for any n', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e9 }), (n) =>
      parseTimeString(`${n}s`)!.ticks === BigInt(n) << 32n && parseTimeString(`${n}ms`)!.ticks === BigInt(n) * 4294967n));
  });
});

describe('u64 results read per packet', () => {
  it('BINOP of PKTINFO(PKT_TS) and PKT_COUNTER: the 32.32 conversion in WebAssembly equals a float oracle on random µs', async () => {
    const dir = tempDir();
    await fc.assert(fc.asyncProperty(fc.array(fc.record({ sec: fc.integer({ min: 0, max: 0x7fffffff }), usec: fc.integer({ min: 0, max: 999999 }) }), { minLength: 1, maxLength: 6 }), async (ts) => {
      const path = writePcap(join(dir, 't.pcap'), ts.map((t) => ({ ...t, bytes: new Uint8Array(20) })));
      const { results } = await run(path, [(fds) => [['PKTINFO', PKT_TS], ['PKT_COUNTER'], ['BINOP', BINOP_ADD, fds[0], 1, fds[0], 2], ['GAP'], ['BINOP', BINOP_SUB, fds[0], 1, fds[0], 4]]]);
      const last = ts[ts.length - 1]!;
      const gap = ts.length < 2 ? 0n : BigInt.asUintN(64, ntp(last.sec, last.usec) - ntp(ts[ts.length - 2]!.sec, ts[ts.length - 2]!.usec));
      expect(results[0]![2]).toBe(ntp(last.sec, last.usec) + BigInt(ts.length));
      expect(results[0]![4]).toBe(BigInt.asUintN(64, ntp(last.sec, last.usec) - gap));
    }), { numRuns: 12 });
  });

  it('BINOP across flows adds tcp and udp counts (tcpdump) and reports missing functions as 7002/7004', async (ctx) => {
    need(ctx, 'tcpdump', haveTcpdump);
    const { results } = await run(WEB, [
      () => [['BPF_FILTER', 'tcp'], ['PKT_COUNTER']],
      () => [['BPF_FILTER', 'udp'], ['PKT_COUNTER']],
      (fds) => [['BINOP', BINOP_ADD, fds[0], 2, fds[1], 4], ['BINOP', BINOP_SUB, fds[0], 2, fds[1], 4]],
    ]);
    const tcp = BigInt(tcpdumpCount(WEB, 'tcp')!), udp = BigInt(tcpdumpCount(WEB, 'udp')!);
    expect(results[2]).toEqual([tcp + udp, BigInt.asUintN(64, tcp - udp)]);
    const dev = await Device.offline(WEB);
    const f = dev.flow();
    f.apply('PKT_COUNTER');
    const code = (fn: () => unknown) => { try { fn(); return 0; } catch (e) { return (e as MapiError).code; } };
    expect(code(() => f.apply('BINOP', 0, f.fd, 9, f.fd, 1))).toBe(7002);
    expect(code(() => f.apply('BINOP', 0, f.fd, 1, f.fd + 999, 1))).toBe(7004);
    expect(code(() => f.apply('BINOP', 2, f.fd, 1, f.fd, 1))).toBe(7001);
    expect(code(() => f.apply('BINOP', 0, f.fd, 1, f.fd, 1))).toBe(0);
    dev.delete();
  });
});

describe('STATS and DIST', () => {
  const { records } = readRecords(WEB);
  it('STATS of wire lengths ("0" and "1") and of gaps equal plain sums', async () => {
    const { results } = await run(WEB, [(fds) => [['PKTINFO', PKT_SIZE], ['STATS', fds[0], 1, '0'], ['STATS', fds[0], 1, '1'], ['GAP'], ['STATS', fds[0], 4, '0']]]);
    const stats = (vals: bigint[]): StatsResult => ({
      count: BigInt(vals.length), sum: vals.reduce((a, b) => a + b, 0n), sum2: vals.reduce((a, b) => a + b * b, 0n),
      max: vals.reduce((a, b) => (b > a ? b : a), 0n), min: vals.length ? vals.reduce((a, b) => (b < a ? b : a)) : 0n,
    });
    const w = records.map((r) => BigInt(r.wlen));
    expect(results[0]![1]).toEqual(stats(w));
    expect(results[0]![2]).toEqual(stats(w.slice(1)));
    const gaps = records.map((r, i) => (i === 0 ? 0n : BigInt.asUintN(64, ntpOf(r) - ntpOf(records[i - 1]!))));
    expect(results[0]![4]).toEqual(stats(gaps));
  });

  it('periodic STATS of a counter it resets: packets per interval, as a JS model of the interval rule', async () => {
    const { results } = await run(WEB, [(fds) => [['PKT_COUNTER'], ['STATS', fds[0], 1, '100ms']]]);
    const interval = 429496700n;
    let last = -1n, counter = 0n;
    const samples: bigint[] = [];
    for (const r of records) {
      counter++;
      const t = ntpOf(r);
      if (last < 0n) { last = t; continue; }
      let fired = 0;
      while (t >= last && t - last > interval) { last += interval; fired++; }
      if (fired) { samples.push(counter); counter = 0n; }
    }
    const st = results[0]![1] as StatsResult;
    expect(samples.length).toBeGreaterThan(2);
    expect(st.count).toBe(BigInt(samples.length));
    expect(st.sum).toBe(samples.reduce((a, b) => a + b, 0n));
    expect(st.max).toBe(samples.reduce((a, b) => (b > a ? b : a), 0n));
  });

  it('DIST of wire lengths matches a JS histogram (v == min in bin 0)', async () => {
    const { results } = await run(WEB, [(fds) => [['PKTINFO', PKT_SIZE], ['DIST', fds[0], 1, '60', '1500', '100']]]);
    const num = Math.ceil((1500 - 60) / 100);
    const bins = new Array<bigint>(num + 1).fill(0n);
    for (const r of records) {
      const v = r.wlen;
      const k = v < 60 ? 0 : v > 1500 ? num : v === 60 ? 0 : Math.min(num, Math.ceil((v - 60 - 1) / 100));
      bins[k]!++;
    }
    expect(results[0]![1]).toEqual({ min: 60n, max: 1500n, intervals: BigInt(num), data: bins });
    const dev = await Device.offline(WEB);
    const f = dev.flow();
    f.apply('PKTINFO', PKT_SIZE);
    const code = (...a: unknown[]) => { try { f.apply('DIST', f.fd, 1, ...a); return 0; } catch (e) { return (e as MapiError).code; } };
    expect(code('10', '5', '1')).toBe(7000);
    expect(code('0', '10', '11')).toBe(7004);
    expect(code('x', '10', '1')).toBe(7003);
    expect(code('0', '10', '0')).toBe(7005);
    dev.delete();
  });
});

describe('PROTINFO, REGEXP, TO_FILE', () => {
  const { records } = readRecords(WEB);
  const tcpOf = (r: Rec) => {
    const b = r.bytes;
    if (b.length < 34 || b[12] !== 8 || b[13] !== 0 || b[14]! >> 4 !== 4 || b[23] !== 6 || ((b[20]! << 8 | b[21]!) & 0x1fff)) return undefined;
    const l4 = 14 + (b[14]! & 15) * 4;
    if (b.length < l4 + 8) return undefined;
    return { seq: new DataView(b.buffer, b.byteOffset).getUint32(l4 + 4), dport: (b[l4 + 2]! << 8) | b[l4 + 3]! };
  };
  it('PROTINFO: the TCP sequence number and destination port of the last TCP packet', async () => {
    const { results } = await run(WEB, [() => [['PROTINFO', TOPX_TCP, 12], ['PROTINFO', TOPX_TCP, 11], ['PROTINFO', 1, 5]]]);
    const last = records.map(tcpOf).filter((x) => x).pop()!;
    expect(results[0]!.slice(0, 2)).toEqual([BigInt(last.seq), BigInt(last.dport)]);
    const lastIp = records.filter((r) => r.bytes[12] === 8 && r.bytes[13] === 0).pop()!;
    expect(results[0]![2]).toBe(BigInt(lastIp.bytes[22]!));
    const dev = await Device.offline(WEB);
    expect(() => dev.flow().apply('PROTINFO', TOPX_TCP, 5)).toThrow(/argument 2/);
    dev.delete();
  });

  it('REGEXP passes the packets a JS search over Latin-1 bytes finds', async () => {
    const { results } = await run(WEB, [() => [['REGEXP', 'HTTP/1\\.[01] [23]\\d\\d'], ['PKT_COUNTER']]]);
    const re = /HTTP\/1\.[01] [23]\d\d/;
    const want = records.filter((r) => re.test(String.fromCharCode(...r.bytes))).length;
    expect(want).toBeGreaterThan(0);
    expect(results[0]![1]).toBe(BigInt(want));
    await expect(Device.offline(WEB).then((d) => d.flow().apply('REGEXP', '(?<'))).rejects.toMatchObject({ code: 7001 });
  });

  it('TO_FILE writes what tcpdump reads back; count limit and the 11/0 result', async (ctx) => {
    need(ctx, 'tcpdump', haveTcpdump);
    const dir = tempDir();
    const all = join(dir, 'all.pcap'), five = join(dir, 'five.pcap'), ng = join(dir, 'all.pcapng');
    const { results } = await run(WEB, [() => [['BPF_FILTER', 'tcp'], ['TO_FILE', 0, all, 0], ['TO_FILE', 0, five, 5], ['TO_FILE', MFF_PCAPNG, ng, 0n]]]);
    const tcp = tcpdumpCount(WEB, 'tcp')!;
    expect(tcp).toBeGreaterThan(5);
    expect(results[0]!.slice(1)).toEqual([11, 0, 11]);
    expect(tcpdumpCount(all, '')).toBe(tcp);
    expect(tcpdumpCount(five, '')).toBe(5);
    expect(tcpdumpCount(ng, '')).toBe(tcp);
    const text = (p: string) => execFileSync('tcpdump', ['-nn', '-tt', '-r', p], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    expect(text(all)).toBe(execFileSync('tcpdump', ['-nn', '-tt', '-r', WEB, 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
    expect(text(ng)).toBe(text(all));
    expect(readFileSync(five).length).toBeLessThan(readFileSync(all).length);
    const dev = await Device.offline(WEB);
    expect(() => dev.flow().apply('TO_FILE', 2, join(dir, 'x'), 0)).toThrow(expect.objectContaining({ code: 7006 }));
    expect(() => dev.flow().apply('TO_FILE', 0, join(dir, 'no/such/dir/x'), 0)).toThrow(expect.objectContaining({ code: 6155 }));
    dev.delete();
  });
});

describe('devices, devOID selection and info calls', () => {
  /** A "card" PKT_COUNTER that counts 2 per packet, so which one ran is visible. */
  const NIC_COUNTER: MapiFunctionDef<{ refuse: boolean }> = {
    ...(PKT_COUNTER as MapiFunctionDef<any>), devtype: '1.3', library: 'nicflib',
    instance: () => ({ ok: true, config: { refuse: false } }),
    lower: (_c, at) => ({ k: 'seq', body: [PKT_COUNTER.lower(null, at), PKT_COUNTER.lower(null, at)] }),
  };
  const REFUSING: MapiFunctionDef<{ refuse: boolean }> = { ...NIC_COUNTER, instance: () => ({ ok: false, code: 7006, message: 'the card cannot' }) };
  it('the longest devOID prefix with an implementation wins; lib: and !oid restrict; 7006 falls back to software', async () => {
    const { records } = readRecords(WEB);
    const n = BigInt(records.length);
    registerMapiFunction(NIC_COUNTER);
    try {
      const nic = await run(WEB, [() => [['PKT_COUNTER'], ['stdflib:PKT_COUNTER'], ['PKT_COUNTER!1.3'], ['nicflib:PKT_COUNTER']]]);
      expect(nic.results[0]).toEqual([2n * n, n, 2n * n, 2n * n]);
      expect(nic.made[0]!.flow.info(1)).toMatchObject({ devtype: '1.3', libname: 'nicflib', name: 'PKT_COUNTER' });
      const soft = await run(WEB, [() => [['PKT_COUNTER']]], { devOID: '1' });
      expect(soft.results[0]).toEqual([n]);
      const dev = await Device.offline(WEB, { devOID: '1' });
      expect(() => dev.flow().apply('PKT_COUNTER!1.3')).toThrow(expect.objectContaining({ code: 6144 }));
      dev.delete();
      unregisterMapiFunction(NIC_COUNTER);
      registerMapiFunction(REFUSING);
      const fallback = await run(WEB, [() => [['PKT_COUNTER']]]);
      expect(fallback.results[0]).toEqual([n]);
      const dev2 = await Device.offline(WEB);
      expect(() => dev2.flow().apply('PKT_COUNTER!1.3')).toThrow(expect.objectContaining({ code: 7006 }));
      dev2.delete();
    } finally {
      unregisterMapiFunction(NIC_COUNTER);
      unregisterMapiFunction(REFUSING);
    }
  });

  it('C API: function info with pkts/passed_pkts (against tcpdump), next function, flows, device info, mapi_stats', async (ctx) => {
    need(ctx, 'tcpdump', haveTcpdump);
    const { records } = readRecords(WEB);
    const name = mapi_create_offline_device(WEB)!;
    const fd = mapi_create_flow(name), fd2 = mapi_create_flow(name);
    expect(mapi_apply_function(fd, 'BPF_FILTER', 'tcp')).toBe(1);
    expect(mapi_apply_function(fd, 'PKT_COUNTER')).toBe(2);
    expect(await mapi_connect(fd)).toBe(0);
    expect(mapi_start_offline_device(name)).toBe(0);
    for (let i = 0; i < 200 && mapi_get_flow_info(fd)!.status !== 2; i++) await new Promise((r) => setTimeout(r, 20));
    const f1 = mapi_get_function_info(fd, 1)!;
    expect(f1).toMatchObject({ fid: 1, name: 'BPF_FILTER', libname: 'stdflib', devtype: '1', pkts: BigInt(records.length), passed_pkts: BigInt(tcpdumpCount(WEB, 'tcp')!) });
    expect(mapi_get_next_function_info(fd, 1)).toMatchObject({ fid: 2, name: 'PKT_COUNTER', pkts: f1.passed_pkts, passed_pkts: f1.passed_pkts, result_size: 8 });
    expect(mapi_get_next_function_info(fd, 2)).toBeNull();
    expect(mapi_read_error().code).toBe(6147);
    expect(mapi_get_next_flow_info(fd)!.fd).toBe(fd2);
    const devid = mapi_get_flow_info(fd)!.devid;
    expect(mapi_get_device_info(devid)).toMatchObject({ id: devid, device: name, devtype: '1.3' });
    expect(mapi_stats(name)!.ps_recv).toBe(BigInt(records.length));
    expect(mapi_stats('nope')).toBeNull();
    expect(mapi_read_error().code).toBe(3200);
    expect(mapi_delete_offline_device(name)).toBe(0);
  });
});
