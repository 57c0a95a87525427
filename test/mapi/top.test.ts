/**
 * TOP (extraflib) against a plain JavaScript model over the same records (read by the drivers):
 * its own parse of the spec's rules and a list-based ranking, on corpus captures and
 * samples/web.pcap; VLAN/MPLS, resets and the full table on synthetic traces; argument errors.
 */
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Device, MapiError, SORT_BY_BYTES, SORT_BY_PACKETS, TOP_TABLE_ENTRIES, TOPX_IP, TOPX_TCP, TOPX_UDP,
  mapi_apply_function, mapi_create_flow, mapi_delete_offline_device, mapi_create_offline_device, mapi_read_error, type TopEntry,
} from '../../vm/mapi/index.js';
import { FIELDS } from '../../hostfns/mapi-protinfo.js';
import { linkTypeInfo } from '../../lang/ir/linktypes.js';
import { corpusDir, haveCorpus, projectRoot, need } from '../support/env.js';
import { ipv4Frame, readRecords, tempDir, writePcap, type Rec } from './helpers.js';

const WEB = resolve(projectRoot, 'samples/web.pcap');
const CORPUS = ['afs.pcap', 'pim-packet-assortment.pcap', 'mptcp-v0.pcap', 'of10_s4810.pcap', 'mpls-over-udp.pcap', 'dns_tcp.pcap', 'print-flags.pcap', 'tcp-handshake-nano.pcap', 'sflow_multiple_counter_30_pdus.pcap'];

interface Model { value: number; count: number; bytes: bigint }

/** The spec's TOP, written plainly: parse per record, a Map of counts and an array ranking. */
function modelTop(records: Rec[], linkType: number, proto: number, field: number, sortby: number, x: number, resetSecs = 0): { entries: Model[]; lastReset: number } {
  const [, off, size] = FIELDS[field]!;
  let table = new Map<number, Model>();
  let order: Model[] = [];
  let lastReset = -1;
  const rd = (b: Uint8Array, o: number, n: number) => { let v = 0; for (let i = 0; i < n; i++) v = v * 256 + b[o + i]!; return v; };
  for (const r of records) {
    const b = r.bytes;
    if (lastReset < 0) lastReset = r.sec;
    else if (resetSecs > 0 && r.sec >= lastReset && r.sec - lastReset >= resetSecs) { table = new Map(); order = []; lastReset = r.sec; }
    let ip = linkTypeInfo(linkType)!.l3;
    if (linkType === 1) {
      let et = r.caplen >= 14 ? rd(b, 12, 2) : 0;
      if (et === 0x8100 && r.caplen >= 18) { ip = 18; et = rd(b, 16, 2); }
      if (et === 0x8847) ip += 4;
    }
    if (r.caplen < ip + 20 || b[ip]! >> 4 !== 4 || (rd(b, ip + 6, 2) & 0x1fff) !== 0) continue;
    let at = ip + off;
    if (proto !== TOPX_IP) {
      const l4 = ip + (b[ip]! & 15) * 4;
      if (b[ip + 9] !== (proto === TOPX_TCP ? 6 : 17) || r.caplen < l4 + off + size) continue;
      at = l4 + off;
    }
    const value = rd(b, at, size);
    let e = table.get(value);
    if (!e) {
      e = { value, count: 0, bytes: 0n };
      table.set(value, e);
      order.push(e);
    }
    e.count++;
    e.bytes += BigInt(Math.max(0, r.wlen - ip));
    const key = (m: Model) => (sortby === SORT_BY_BYTES ? m.bytes : BigInt(m.count));
    let p = order.indexOf(e);
    while (p > 0 && key(order[p - 1]!) < key(e)) { order[p] = order[p - 1]!; p--; }
    order[p] = e;
  }
  return { entries: order.slice(0, Math.max(1, x)), lastReset };
}

async function runTop(path: string, args: [number, number, number, number, number]): Promise<TopEntry[]> {
  const dev = await Device.offline(path);
  const flow = dev.flow();
  const fid = flow.apply('TOP', ...args);
  const count = flow.apply('PKT_COUNTER');   // TOP passes every packet
  await flow.connect();
  await dev.start();
  await dev.finished();
  const res = flow.read(fid) as TopEntry[];
  expect(flow.read(count)).toBe(dev.packets);
  dev.delete();
  return res;
}

const project = (es: TopEntry[]) => es.map((e) => ({ value: e.value, count: e.count, bytes: e.bytecount }));

describe('TOP', () => {
  const cases: [number, number, number][] = [
    [TOPX_IP, 8, SORT_BY_PACKETS], [TOPX_IP, 9, SORT_BY_BYTES], [TOPX_IP, 6, SORT_BY_PACKETS], [TOPX_IP, 5, SORT_BY_BYTES],
    [TOPX_TCP, 11, SORT_BY_PACKETS], [TOPX_TCP, 14, SORT_BY_BYTES], [TOPX_UDP, 18, SORT_BY_PACKETS], [TOPX_UDP, 20, SORT_BY_BYTES],
  ];

  it('equals the model on samples/web.pcap for IP, TCP and UDP fields, by packets and by bytes', async () => {
    const { records, linkType } = readRecords(WEB);
    for (const [proto, field, sortby] of cases) {
      const got = await runTop(WEB, [10, proto, field, sortby, 0]);
      expect(project(got), `field ${field}`).toEqual(modelTop(records, linkType, proto, field, sortby, 10).entries.map((m) => ({ value: m.value, count: m.count, bytes: m.bytes })));
    }
  });

  it('equals the model on corpus captures', async (ctx) => {
    need(ctx, 'the capture corpus', haveCorpus);
    let compared = 0;
    for (const name of CORPUS) {
      const path = join(corpusDir, name);
      const { records, linkType } = readRecords(path);
      const [proto, field, sortby] = cases[compared % cases.length]!;
      const got = await runTop(path, [25, proto, field, sortby, 0]);
      const want = modelTop(records, linkType, proto, field, sortby, 25).entries;
      expect(project(got), name).toEqual(want.map((m) => ({ value: m.value, count: m.count, bytes: m.bytes })));
      compared += want.length > 0 ? 1 : 0;
    }
    expect(compared).toBeGreaterThan(4);
  }, 60_000);

  it('ties keep the order in which entries reached the count; addresses are dotted; X caps the list', async () => {
    const dir = tempDir();
    const src = (a: number) => { const f = ipv4Frame(17, new Uint8Array(4)); f[29] = a; return f; };
    // values 1,2,3 once each, then 3, then 1: 3 (2) ahead of 1 (2), then 2
    const path = writePcap(join(dir, 't.pcap'), [1, 2, 3, 3, 1].map((a, i) => ({ sec: 100 + i, usec: 0, bytes: src(a) })));
    const got = await runTop(path, [5, TOPX_IP, 8, SORT_BY_PACKETS, 0]);
    expect(got.map((e) => [e.addr, e.count])).toEqual([['10.0.0.3', 2], ['10.0.0.1', 2], ['10.0.0.2', 1]]);
    expect(got.every((e) => e.family === 2 && e.last_rst_secs === 100)).toBe(true);
    expect((await runTop(path, [0, TOPX_IP, 8, SORT_BY_PACKETS, 0])).length).toBe(1);   // X < 1 becomes 1
  });

  it('skips one VLAN tag and one MPLS label, and non-first fragments; counts bytes after the link header', async () => {
    const dir = tempDir();
    const base = ipv4Frame(6, new Uint8Array(10), { dport: 443 });
    const tagged = (tags: number[][]) => {
      const head = base.slice(0, 12), rest = base.slice(14);
      const ins = tags.flat();
      return Uint8Array.from([...head, ...ins, ...rest]);
    };
    const vlan = tagged([[0x81, 0x00, 0x00, 0x07, 0x08, 0x00]]);
    const mpls = tagged([[0x88, 0x47, 0x00, 0x01, 0x01, 0x40]]);
    const both = tagged([[0x81, 0x00, 0x00, 0x07, 0x88, 0x47, 0x00, 0x01, 0x01, 0x40]]);
    const frag = base.slice(); frag[20] = 0x00; frag[21] = 0x10;   // offset 16: not a first fragment
    const frames = [base, vlan, mpls, both, frag];
    const path = writePcap(join(dir, 'v.pcap'), frames.map((bytes, i) => ({ sec: 1, usec: i, bytes })));
    const got = await runTop(path, [5, TOPX_TCP, 11, SORT_BY_PACKETS, 0]);
    expect(got.map((e) => [e.value, e.count])).toEqual([[443, 4]]);
    const { records } = readRecords(path);
    expect(got[0]!.bytecount).toBe(modelTop(records, 1, TOPX_TCP, 11, SORT_BY_PACKETS, 5).entries[0]!.bytes);
    expect(got[0]!.bytecount).toBe(BigInt((base.length - 14) + (vlan.length - 18) + (mpls.length - 18) + (both.length - 22)));
  });

  it('reset_secs empties the table reset_secs seconds after the last reset', async () => {
    const dir = tempDir();
    const frame = (port: number) => ipv4Frame(17, new Uint8Array(2), { sport: port });
    const pkts = [[0, 1], [1, 2], [5, 3], [9, 3], [10, 4], [14, 4], [20, 5]].map(([t, port]) => ({ sec: 1000 + t!, usec: 0, bytes: frame(port!) }));
    const path = writePcap(join(dir, 'r.pcap'), pkts);
    const got = await runTop(path, [10, TOPX_UDP, 18, SORT_BY_PACKETS, 10]);
    const { records } = readRecords(path);
    const want = modelTop(records, 1, TOPX_UDP, 18, SORT_BY_PACKETS, 10, 10);
    expect(got.map((e) => [e.value, e.count, e.last_rst_secs])).toEqual(want.entries.map((m) => [m.value, m.count, want.lastReset]));
    expect(got.map((e) => e.value)).toEqual([5]);
    expect(got[0]!.last_rst_secs).toBe(1020);
  });

  it(`tracks ${TOP_TABLE_ENTRIES} distinct values; later new ones are not counted`, async () => {
    const dir = tempDir();
    const n = TOP_TABLE_ENTRIES + 50;
    const pkts = Array.from({ length: n + 1 }, (_, i) => {
      const f = ipv4Frame(17, new Uint8Array(0));
      const v = i === n ? 7 : i;   // the last packet repeats value 7
      f[26] = 10; f[27] = (v >> 8) & 255; f[28] = v & 255; f[29] = 1;   // distinct sources 10.x.y.1
      return { sec: 1, usec: i % 1000000, bytes: f };
    });
    const path = writePcap(join(dir, 'full.pcap'), pkts);
    const got = await runTop(path, [1000, TOPX_IP, 8, SORT_BY_PACKETS, 0]);
    expect(got.length).toBe(1000);
    expect(got[0]!.count).toBe(2);
    expect(got.slice(1).every((e) => e.count === 1)).toBe(true);
  }, 30_000);

  it('argument errors: X > 1000 → 7001, bad proto (ICMP too) → 7002, field of another protocol → 7003', async () => {
    const dev = mapi_create_offline_device(WEB)!;
    const fd = mapi_create_flow(dev);
    const expectCode = (args: unknown[], code: number) => {
      expect(mapi_apply_function(fd, 'TOP', ...args)).toBe(-1);
      expect(mapi_read_error().code).toBe(code);
    };
    expectCode([1001, TOPX_IP, 8, 1, 0], 7001);
    expectCode([10, 4, 8, 1, 0], 7002);
    expectCode([10, 0, 8, 1, 0], 7002);
    expectCode([10, TOPX_TCP, 8, 1, 0], 7003);
    expectCode([10, TOPX_UDP, 12, 1, 0], 7003);
    expectCode([10, TOPX_IP, 22, 1, 0], 7003);
    expectCode(['10', TOPX_IP, 8, 1, 0], 7001);
    expect(mapi_apply_function(fd, 'TOP', 10, TOPX_IP, 8, 99, 0)).toBeGreaterThan(0);   // invalid sortby: by packets
    const flow = (await Device.offline(WEB)).flow();
    expect(() => flow.apply('TOP', 10, TOPX_IP, 12, 1, 0)).toThrow(MapiError);
  });

  it('no argument list throws; a bad one returns -1 with a code 7000–7005', () => {
    const arg = fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.constant(2 ** 40), fc.string(), fc.constant(null), fc.double());
    fc.assert(fc.property(fc.array(arg, { minLength: 0, maxLength: 6 }), (args) => {
      const dev = mapi_create_offline_device(WEB)!;
      const r = mapi_apply_function(mapi_create_flow(dev), 'TOP', ...args);
      mapi_delete_offline_device(dev);
      if (r === -1) {
        const code = mapi_read_error().code;
        return code >= 7000 && code <= 7005;
      }
      const [x, proto, field] = args as number[];
      return args.length === 5 && x! <= 1000 && [1, 2, 3].includes(proto!) && FIELDS[field!]![0] === proto;
    }), { numRuns: 300 });
  });
});
