/**
 * Every shipped MAPI function on the sample trace, crafted packets and corpus captures, against
 * independent computations: tcpdump's counts, JS sums over the drivers' records, a JS HASH, a
 * naive substring search, the records themselves for TO_BUFFER.
 */
import { join, resolve } from 'node:path';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Device, FLOW_FINISHED } from '../../vm/mapi/index.js';
import { corpusDir, haveCorpus, haveTcpdump, projectRoot, need } from '../support/env.js';
import { ipv4Frame, readRecords, tcpdumpCount, tempDir, writePcap, type Rec } from './helpers.js';

const WEB = resolve(projectRoot, 'samples/web.pcap');

/** Runs one device with the given flows ([function name, ...args][] each); returns every result. */
async function run(path: string, flows: [string, ...unknown[]][][], opts: { seed?: number } = {}): Promise<unknown[][]> {
  const dev = await Device.offline(path, opts);
  const made = flows.map((fns) => {
    const flow = dev.flow();
    return { flow, fids: fns.map(([name, ...args]) => flow.apply(name, ...args)) };
  });
  for (const m of made) await m.flow.connect();
  await dev.start();
  await dev.finished();
  for (const m of made) expect(m.flow.status).toBe(FLOW_FINISHED);
  return made.map((m) => m.fids.map((fid) => m.flow.read(fid)));
}

/** 32.32 from µs, computed with floating point and rounded (a different route from the library's BigInt one). */
const ntp = (sec: number, usec: number): bigint => (BigInt(sec) << 32n) + BigInt(Math.round((usec * 2 ** 32) / 1e6));

function hashOracle(layer: number, p: Uint8Array): number {
  let start: number | undefined;
  if (layer === 0) start = 0;
  else if (layer === 1) start = 14;
  else if (p.length >= 14) {
    const et = (p[12]! << 8) | p[13]!;
    const ipEnd = p.length >= 15 ? 14 + (p[14]! & 15) * 4 : undefined;
    if (layer === 2) start = et === 0x0800 ? ipEnd : et === 0x0806 || et === 0x8035 ? 22 : undefined;
    else if (et === 0x0800 && ipEnd !== undefined && p.length >= 24) {
      const proto = p[23]!;
      if (proto === 6) start = ipEnd + 13 <= p.length ? ipEnd + (p[ipEnd + 12]! >> 4) * 4 : undefined;
      else if (proto === 17 || proto === 1) start = ipEnd + 8;
    }
  }
  if (start === undefined || start > p.length) return 0;
  let h = p.length - start;
  for (let i = start; i < p.length; i++) h += p[i]!;
  return h % 500009;
}

/** Ethernet corpus files tcpdump reads completely (a handful, for speed). */
function corpusFiles(n: number): string[] {
  const out: string[] = [];
  for (const name of readdirSync(corpusDir).sort()) {
    if (out.length >= n) break;
    if (!/\.pcap$/.test(name)) continue;
    const path = join(corpusDir, name);
    try {
      const { records, linkType } = readRecords(path);
      if (linkType === 1 && records.length >= 5 && tcpdumpCount(path, '') === records.length) out.push(path);
    } catch { /* not readable: skip */ }
  }
  return out;
}

describe('counters against tcpdump and the drivers', () => {
  it('PKT_COUNTER after BPF_FILTER matches tcpdump --count; BYTE_COUNTER sums wire lengths', async (ctx) => {
    need(ctx, 'tcpdump', haveTcpdump);
    const { records } = readRecords(WEB);
    const [[, tcp80, bytes80], [all, allBytes]] = await run(WEB, [
      [['BPF_FILTER', 'tcp port 80'], ['PKT_COUNTER'], ['BYTE_COUNTER']],
      [['PKT_COUNTER'], ['BYTE_COUNTER']],
    ]);
    expect(tcp80).toBe(BigInt(tcpdumpCount(WEB, 'tcp port 80')!));
    expect(all).toBe(BigInt(records.length));
    expect(allBytes).toBe(BigInt(records.reduce((s, r) => s + r.wlen, 0)));
    expect(bytes80).toBeLessThan(allBytes as bigint);
  });

  it('corpus captures: BPF_FILTER counts agree with tcpdump for several expressions on one device', async (ctx) => {
    need(ctx, 'the capture corpus', haveCorpus); need(ctx, 'tcpdump', haveTcpdump);
    const exprs = ['tcp', 'udp port 53', 'ip[100] = 1 or tcp', 'ip6', 'tcp[13] & 2 != 0'];
    const files = corpusFiles(6);
    expect(files.length).toBe(6);
    for (const path of files) {
      const results = await run(path, exprs.map((e) => [['BPF_FILTER', e], ['PKT_COUNTER']]));
      exprs.forEach((e, i) => expect(results[i]![1], `${path}: ${e}`).toBe(BigInt(tcpdumpCount(path, e)!)));
    }
  });
});

describe('per-packet functions on crafted packets', () => {
  const dir = tempDir();
  const frames = [
    ipv4Frame(6, new TextEncoder().encode('GET /index.html HTTP/1.1\r\n'), { dport: 80 }),
    ipv4Frame(17, Uint8Array.from([1, 2, 3, 4, 5]), { dport: 53, ihl: 6 }),
    ipv4Frame(1, Uint8Array.from([9, 9])),
    ipv4Frame(6, new TextEncoder().encode('a|b needle'), { tcpHl: 8 }),
    Uint8Array.from([...new Array(12).fill(0xff), 0x08, 0x06, ...new Array(28).fill(7)]),   // ARP
    Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),                                       // runt
    ipv4Frame(6, new Uint8Array(0)).subarray(0, 40),                                       // TCP header cut short
  ];
  const packets = frames.map((bytes, i) => ({ sec: 1000 + i * 3, usec: (i * 123457) % 1000000, bytes, wlen: bytes.length + i }));
  const path = writePcap(join(dir, 'crafted.pcap'), packets);

  it('HASH layers 0-3 equal a JS computation of the additive hash, packet by packet', async () => {
    for (let k = 0; k < frames.length; k++) {
      const one = writePcap(join(dir, `one${k}.pcap`), [packets[k]!]);
      const [hashes] = await run(one, [[['HASH', 0], ['HASH', 1], ['HASH', 2], ['HASH', 3]]]);
      expect(hashes, `packet ${k}`).toEqual([0, 1, 2, 3].map((l) => hashOracle(l, frames[k]!)));
    }
  });

  it('PKTINFO, GAP: the last packet time (32.32) and wire length, the last gap', async () => {
    const [[ts, size, gap], [ts2]] = await run(path, [[['PKTINFO', 0], ['PKTINFO', 1], ['GAP']], [['PKT_INFO', 0]]]);
    const last = packets[packets.length - 1]!, prev = packets[packets.length - 2]!;
    expect(ts).toBe(ntp(last.sec, last.usec));
    expect(ts2).toBe(ts);
    expect(size).toBe(BigInt(last.wlen));
    expect(gap).toBe(ntp(last.sec, last.usec) - ntp(prev.sec, prev.usec));
  });

  it('STR_SEARCH: offset, depth, hex and escaped pipes, alternatives, against a naive search', async () => {
    const cases: [string, number, number][] = [
      ['GET', 0, 0], ['GET', 54, 3], ['GET', 55, 0], ['HTTP', 0, 60], ['needle', 0, 0], ['a\\|b', 0, 0],
      ['|6e 65|edle', 0, 0], ['zzz||needle', 0, 0], ['zzz||yyy', 0, 0], ['|ff ff|', 0, 0], ['|07|', 14, 0],
    ];
    const results = await run(path, cases.map((c) => [['STR_SEARCH', ...c], ['PKT_COUNTER']]));
    const text = (s: string) => s.replace(/\\\|/g, '|');
    const naive = (pats: number[][], off: number, depth: number) => frames.filter((f) => {
      const region = Array.from(f.subarray(off, depth ? off + depth : f.length));
      return pats.some((p) => region.some((_, i) => p.every((b, j) => region[i + j] === b)));
    }).length;
    const bytes = (s: string) => Array.from(new TextEncoder().encode(s));
    const expected: number[] = [
      naive([bytes('GET')], 0, 0), naive([bytes('GET')], 54, 3), naive([bytes('GET')], 55, 0), naive([bytes('HTTP')], 0, 60),
      naive([bytes('needle')], 0, 0), naive([bytes(text('a\\|b'))], 0, 0), naive([bytes('needle')], 0, 0),
      naive([bytes('zzz'), bytes('needle')], 0, 0), naive([bytes('zzz'), bytes('yyy')], 0, 0), naive([[0xff, 0xff]], 0, 0), naive([[7]], 14, 0),
    ];
    expect(results.map((r) => Number(r[1]))).toEqual(expected);
    expect(expected.slice(0, 3)).toEqual([1, 1, 0]);   // the cases do discriminate
  });

  it('TO_BUFFER delivers exactly the packets that reach it, in order, with 32.32 timestamps', async () => {
    const dev = await Device.offline(path);
    const flow = dev.flow();
    flow.apply('BPF_FILTER', 'ip');
    const buf = flow.apply('TO_BUFFER', 0);
    await flow.connect();
    await dev.start();
    const got = [];
    for await (const p of flow.packets(buf)) got.push(p);
    const want = packets.filter((p) => p.bytes.length >= 14 && p.bytes[12] === 8 && p.bytes[13] === 0);
    expect(got.map((p) => [p.ts, p.caplen, p.wlen, Array.from(p.pkt)]))
      .toEqual(want.map((p) => [ntp(p.sec, p.usec), p.bytes.length, p.wlen, Array.from(p.bytes)]));
  });
});

describe('sampling, FPL_FILTER and lossless buffering on a larger trace', () => {
  const dir = tempDir();
  const N = 3000;
  const pk = Array.from({ length: N }, (_, i) => ({ sec: 1 + Math.floor(i / 100), usec: (i % 100) * 10000, bytes: ipv4Frame(i % 3 === 0 ? 17 : 6, Uint8Array.of(i & 255), { dport: 1000 + (i % 7) }) }));
  const path = writePcap(join(dir, 'many.pcap'), pk);

  it('SAMPLE periodic passes every value-th packet; value <= 0 means 1', async () => {
    const r = await run(path, [[['SAMPLE', 7, 2], ['PKT_COUNTER']], [['SAMPLE', 0, 2], ['PKT_COUNTER']], [['SAMPLE', 10, 99], ['PKT_COUNTER']]]);
    const [a, b, c] = r.map((x) => x[1]);
    expect([a, b, c]).toEqual([BigInt(Math.floor(N / 7)), BigInt(N), BigInt(N / 10)]);
  });

  it('SAMPLE probabilistic passes about value% of packets, reproducibly for a seed', async () => {
    const flows: [string, ...unknown[]][][] = [10, 50, 0, 100].map((v) => [['SAMPLE', v, 3], ['PKT_COUNTER']]);
    const r1 = (await run(path, flows, { seed: 42 })).map((r) => Number(r[1]));
    const r2 = (await run(path, flows, { seed: 42 })).map((r) => Number(r[1]));
    const r3 = (await run(path, flows, { seed: 7 })).map((r) => Number(r[1]));
    expect(r2).toEqual(r1);
    expect(r3.slice(0, 2)).not.toEqual(r1.slice(0, 2));
    // Binomial, 3000 draws: 5 standard deviations.
    expect(Math.abs(r1[0]! - 300)).toBeLessThan(5 * Math.sqrt(N * 0.1 * 0.9));
    expect(Math.abs(r1[1]! - 1500)).toBeLessThan(5 * Math.sqrt(N * 0.25));
    expect(r1.slice(2)).toEqual([0, N]);
  });

  it('FPL_FILTER counts what the equivalent libpcap expression counts, ', async () => {
    const fpl = 'IF (PKT.IP_PROTO == PROTO_UDP) THEN RETURN 1; FI; RETURN 0;';
    const [[, f], [, p]] = await run(path, [[['FPL_FILTER', fpl], ['PKT_COUNTER']], [['BPF_FILTER', 'udp'], ['PKT_COUNTER']]]);
    expect(f).toBe(p);
    expect(p).toBe(BigInt(pk.filter((_, i) => i % 3 === 0).length));
  });

  it('TO_BUFFER is lossless offline: a slow reader still gets all packets', async () => {
    const dev = await Device.offline(path);
    const flow = dev.flow();
    const buf = flow.apply('TO_BUFFER', 0);
    const n = flow.apply('PKT_COUNTER');
    await flow.connect();
    await dev.start();
    let count = 0;
    for await (const p of flow.packets(buf)) {
      expect(p.pkt[p.pkt.length - 1]).toBe(count & 255);
      if (count++ % 500 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(count).toBe(N);
    expect(flow.read(n)).toBe(BigInt(N));
  });
});

export type { Rec };
