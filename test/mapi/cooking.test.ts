/**
 * COOKING: TCP streams with out-of-order segments, retransmissions (whole and overlapping)
 * and IP fragments, reassembled and run through the rest of the flow; against the bytes the
 * generator sent and against tshark's `follow,tcp,raw`. Defragmented non-TCP datagrams,
 * pass-through of other packets, threshold/ret_once/collect, timeout and the memory limit.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Device, MapiError } from '../../vm/mapi/index.js';
import { Cooker } from '../../hostfns/lib/cooking-reassembly.js';
import { haveTshark, requires } from '../support/env.js';
import { tempDir } from './helpers.js';
// @ts-expect-error: a plain-JavaScript helper without type declarations
import { ascii, packetKit } from '../../samples/packet-kit.mjs';

const SYN = 0x02, ACK = 0x10, PSH_ACK = 0x18, FIN_ACK = 0x11;
type Frame = number[];

interface Conversation { client: string; cport: number; server: string; sport: number; toServer: Uint8Array; toClient: Uint8Array }

/**
 * A trace of TCP conversations whose segments arrive out of order, some twice, some
 * overlapping an earlier one, some as IP fragments; plus UDP (one datagram fragmented) and ARP.
 */
function makeTrace(seed: number, n: number) {
  const kit = packetKit(seed);
  const { rand, ether, ipv4, tcp, udp, arp } = kit;
  const frames: Frame[] = [];
  const convs: Conversation[] = [];
  const text = (len: number) => Uint8Array.from({ length: len }, () => 0x20 + rand(95));
  const put = (src: string, dst: string, segment: Frame, fragment: boolean) => {
    if (!fragment || segment.length < 48) { frames.push(ether(0x800, ipv4(6, src, dst, segment, { frag: 0x4000 }))); return; }
    const id = rand(65536), cut = 8 * (1 + rand(Math.floor(segment.length / 8) - 1));
    const parts = [ether(0x800, ipv4(6, src, dst, segment.slice(0, cut), { id, frag: 0x2000 })), ether(0x800, ipv4(6, src, dst, segment.slice(cut), { id, frag: cut / 8 }))];
    if (rand(2)) parts.reverse();
    frames.push(...parts);
  };
  const pending: (() => void)[] = [];
  for (let i = 0; i < n; i++) {
    const c: Conversation = { client: `10.0.${i}.1`, cport: 30000 + rand(30000), server: '10.9.0.80', sport: 80 + i, toServer: text(200 + rand(3000)), toClient: text(500 + rand(6000)) };
    convs.push(c);
    let cseq = rand(0x7fffffff), sseq = 0xfffff000 + rand(0x800);   // the server's numbers wrap past 2^32
    put(c.client, c.server, tcp(c.cport, c.sport, [], SYN, cseq, 0), false); cseq++;
    put(c.server, c.client, tcp(c.sport, c.cport, [], SYN | ACK, sseq, cseq), false); sseq = (sseq + 1) >>> 0;
    for (const [from, data, base] of [['client', c.toServer, cseq], ['server', c.toClient, sseq]] as const) {
      const [src, dst, sp, dp] = from === 'client' ? [c.client, c.server, c.cport, c.sport] : [c.server, c.client, c.sport, c.cport];
      const segs: Frame[] = [];
      for (let off = 0; off < data.length;) {
        const len = Math.min(data.length - off, 100 + rand(600));
        segs.push(tcp(sp, dp, [...data.subarray(off, off + len)], PSH_ACK, (base + off) >>> 0, 0));
        if (rand(5) === 0 && off > 10) segs.push(tcp(sp, dp, [...data.subarray(off - 10, off + 20)], PSH_ACK, (base + off - 10) >>> 0, 0));   // overlapping resend
        off += len;
      }
      for (let k = segs.length - 1; k > 0; k--) if (rand(3) === 0) { const j = Math.max(0, k - 1 - rand(3)); [segs[k], segs[j]] = [segs[j]!, segs[k]!]; }
      for (const s of segs) {
        put(src, dst, s, rand(4) === 0);
        if (rand(6) === 0) put(src, dst, s, false);           // a retransmission
        if (rand(3) === 0) frames.push(ether(0x806, arp(c.client, c.server)));
      }
      const end = (base + data.length) >>> 0;
      pending.push(() => put(src, dst, tcp(sp, dp, [], FIN_ACK, end, 0), false));
    }
  }
  for (const close of pending) close();
  // UDP: one whole datagram, one in three fragments
  const dgram = [...udp(5000, 53, [...text(100)])];
  frames.push(ether(0x800, ipv4(17, '10.1.1.1', '10.2.2.2', dgram)));
  const big = [...udp(5001, 9999, [...text(300)])];
  const id = 777;
  frames.push(ether(0x800, ipv4(17, '10.1.1.1', '10.2.2.2', big.slice(104, 208), { id, frag: 0x2000 | 13 })));
  frames.push(ether(0x800, ipv4(17, '10.1.1.1', '10.2.2.2', big.slice(0, 104), { id, frag: 0x2000 })));
  frames.push(ether(0x800, ipv4(17, '10.1.1.1', '10.2.2.2', big.slice(208), { id, frag: 26 })));
  return { pcap: kit.pcap(frames) as Buffer, convs, udp: [dgram, big] };
}

/** Runs COOKING + TO_BUFFER (and a PKT_COUNTER after it); returns the units delivered. */
async function cooked(path: string, args: [number, number, number, number]) {
  const dev = await Device.offline(path);
  const flow = dev.flow();
  flow.apply('COOKING', ...args);
  const n = flow.apply('PKT_COUNTER');
  const buf = flow.apply('TO_BUFFER', 0);
  await flow.connect();
  await dev.start();
  const units: Uint8Array[] = [];
  for await (const p of flow.packets(buf)) units.push(p.pkt.slice());
  const count = flow.read(n);
  const stats = flow.info(n);   // funcstats: packets and units that reached the counter, and passed it
  dev.delete();
  return { units, count, stats };
}

const ip = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
/** TCP payload per direction ("src:port>dst:port"), in unit order. */
function streams(units: Uint8Array[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const u of units) {
    if (u[23] !== 6) continue;
    const l4 = 14 + (u[14]! & 15) * 4;
    const key = `${ip(u, 26)}:${(u[l4]! << 8) | u[l4 + 1]!}>${ip(u, 30)}:${(u[l4 + 2]! << 8) | u[l4 + 3]!}`;
    const data = u.subarray(l4 + (u[l4 + 12]! >> 4) * 4);
    const list = out.get(key) ?? [];
    list.push(...data);
    out.set(key, list);
  }
  return out;
}

const dir = tempDir();
const BOTH_SIDE = 3;

describe('COOKING reassembles TCP streams and IP fragments', () => {
  const trace = makeTrace(0x5eed, 3);
  const path = join(dir, 'cook.pcap');
  writeFileSync(path, trace.pcap);

  it('each direction of each stream comes out whole and in order; other packets pass through', async () => {
    const { units, count, stats } = await cooked(path, [1000, -1, 0, BOTH_SIDE]);
    expect([stats.pkts, stats.passed_pkts]).toEqual([count, count]);
    const got = streams(units);
    for (const c of trace.convs) {
      expect(got.get(`${c.client}:${c.cport}>${c.server}:${c.sport}`)).toEqual([...c.toServer]);
      expect(got.get(`${c.server}:${c.sport}>${c.client}:${c.cport}`)).toEqual([...c.toClient]);
    }
    for (const u of units) if (u[23] === 6) expect(u.length - 54).toBeLessThanOrEqual(1000);
    const udp = units.filter((u) => u[23] === 17).map((u) => [...u.subarray(34)]);
    expect(udp).toEqual(trace.udp);                                   // whole, and defragmented
    const arps = units.filter((u) => u[12] === 8 && u[13] === 6).length;
    expect(Number(count)).toBe(units.length);
    expect(arps).toBeGreaterThan(0);
  });

  const run = requires('tshark', haveTshark) ? it : it.skip;
  run('agrees with tshark\'s follow,tcp,raw', async () => {
    const { units } = await cooked(path, [65495, -1, 0, BOTH_SIDE]);
    const got = streams(units);
    for (let n = 0; n < trace.convs.length; n++) {
      const out = execFileSync('tshark', ['-r', path, '-q', '-z', `follow,tcp,raw,${n}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      const nodes = [...out.matchAll(/^Node (\d): (.*)$/gm)].map((m) => m[2]!.trim());
      expect(nodes).toHaveLength(2);
      const bytes: [number[], number[]] = [[], []];
      for (const line of out.split('\n')) {
        if (!/^\t?[0-9a-f]+$/.test(line)) continue;
        bytes[line.startsWith('\t') ? 1 : 0].push(...Buffer.from(line.trim(), 'hex'));
      }
      expect(got.get(`${nodes[0]}>${nodes[1]}`), `stream ${n} ${nodes[0]} → ${nodes[1]}`).toEqual(bytes[0]);
      expect(got.get(`${nodes[1]}>${nodes[0]}`), `stream ${n} ${nodes[1]} → ${nodes[0]}`).toEqual(bytes[1]);
    }
  });

  it('collect picks a side; ret_once keeps the first unit of each direction', async () => {
    const client = streams((await cooked(path, [-1, -1, 0, 1])).units);
    expect([...client.keys()].sort()).toEqual(trace.convs.map((c) => `${c.client}:${c.cport}>${c.server}:${c.sport}`).sort());
    const server = streams((await cooked(path, [-1, -1, 0, 2])).units);
    expect([...server.keys()].sort()).toEqual(trace.convs.map((c) => `${c.server}:${c.sport}>${c.client}:${c.cport}`).sort());
    const once = streams((await cooked(path, [300, -1, 1, BOTH_SIDE])).units);
    for (const c of trace.convs) {
      expect(once.get(`${c.server}:${c.sport}>${c.client}:${c.cport}`)).toEqual([...c.toClient.subarray(0, 300)]);
    }
  });

  it('rejects bad arguments with the argument\'s code', async () => {
    const dev = await Device.offline(path);
    const flow = dev.flow();
    for (const [args, code] of [[[0, -1, 0, 3], 7001], [[70000, -1, 0, 3], 7001], [[-1, -2, 0, 3], 7002], [[-1, -1, 2, 3], 7003], [[-1, -1, 0, 4], 7004]] as const) {
      expect(() => flow.apply('COOKING', ...args)).toThrow(MapiError);
      try { flow.apply('COOKING', ...args); } catch (e) { expect((e as MapiError).code).toBe(code); }
    }
    dev.delete();
  });
});

describe('COOKING timeouts and memory limit (the reassembler)', () => {
  const kit = packetKit(7);
  const seg = (src: string, sport: number, seq: number, data: number[], flags = PSH_ACK) =>
    Uint8Array.from(kit.ether(0x800, kit.ipv4(6, src, '10.0.0.2', kit.tcp(sport, 80, data, flags, seq, 0))));
  const opts = { threshold: 1000, timeoutSec: 30, retOnce: false, collect: 3, memoryLimit: 1 << 20, l3: 14 };

  it('an idle stream is ended after the timeout: what it holds is emitted, data behind a gap is dropped', () => {
    const units: number[][] = [];
    const cook = new Cooker(opts, (f) => units.push([...f.subarray(54)]));
    cook.push(seg('10.0.0.1', 1000, 100, [], SYN), 0, 0);
    cook.push(seg('10.0.0.1', 1000, 101, ascii('hello ')), 1, 0);
    cook.push(seg('10.0.0.1', 1000, 112, ascii('later')), 2, 0);     // behind a 5-byte gap
    cook.push(seg('10.0.0.9', 2000, 5, ascii('x')), 31, 0);           // 29 s after: nothing yet
    expect(units).toEqual([]);
    cook.push(seg('10.0.0.9', 2000, 6, ascii('y')), 32, 1);           // 30.000001 s after
    expect(units).toEqual([ascii('hello ')]);
    expect(cook.expired).toBe(1);
    cook.push(seg('10.0.0.1', 1000, 107, ascii('world')), 33, 0);     // the old stream is gone: a new one starts here
    cook.flushAll();
    expect(units.map((u) => Buffer.from(u).toString())).toEqual(['hello ', 'xy', 'world']);
    expect(cook.memory).toBe(0);
  });

  it('past the memory limit the least recently active stream is ended first', () => {
    const units: string[] = [];
    const cook = new Cooker({ ...opts, threshold: 5000, memoryLimit: 3000 }, (f) => units.push(`${f[29]}:${f.length - 54}`));
    for (let i = 1; i <= 3; i++) cook.push(seg(`10.0.0.${i}`, 1000 + i, 0, new Array(1000).fill(i)), i, 0);
    expect(cook.memory).toBe(3000);
    cook.push(seg('10.0.0.1', 1001, 1000, new Array(10).fill(1)), 4, 0);   // stream 1 is now the most recent
    expect(units).toEqual(['2:1000']);
    expect(cook.evicted).toBe(1);
    expect(cook.memory).toBeLessThanOrEqual(3000);
    const big = new Cooker({ ...opts, threshold: 5000, memoryLimit: 3000 }, (f) => units.push(`big:${f.length - 54}`));
    big.push(seg('10.0.0.1', 1, 0, new Array(2000).fill(0)), 0, 0);
    big.push(seg('10.0.0.1', 1, 4000, new Array(1400).fill(0)), 0, 1);     // out of order, 1400 more would not fit
    expect(big.memory).toBeLessThanOrEqual(3000);
  });
});
