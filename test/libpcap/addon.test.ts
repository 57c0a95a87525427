/**
 * The libpcap addon's own contract: compile errors carry libpcap's text, the interpreter runs
 * over ABI records with pcap_offline_filter's length semantics, bad input is an exception
 * rather than a crash.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/env.js';
import {
  bpfFilterBench, bpfFilterRecords, libpcapAvailable, libpcapUnavailableReason, libpcapVersion, pcapCompile,
} from '../../drivers/libpcap.js';
import { libpcapVerdicts, oracleReady } from './oracle.js';
import { DLT, edgePackets, toRecords } from './packets.js';

describe.skipIf(!oracleReady())('libpcap addon', () => {
  it('is available and is libpcap 1.10', () => {
    expect(libpcapAvailable()).toBe(true);
    expect(libpcapUnavailableReason()).toBe('');
    expect(libpcapVersion()).toMatch(/^libpcap version 1\.10\./);
  });

  it('reports libpcap\'s compile errors', () => {
    expect(pcapCompile('tcp port 80 and', { linkType: DLT.EN10MB, optimize: true })).toEqual({ ok: false, error: expect.stringMatching(/syntax error/) });
    expect(pcapCompile('ip broadcast', { linkType: DLT.EN10MB, optimize: true })).toEqual({ ok: false, error: expect.stringMatching(/netmask not known/) });
    expect(pcapCompile('ip broadcast', { linkType: DLT.EN10MB, optimize: true, netmask: 0xffffff00 }).ok).toBe(true);
    expect(pcapCompile('vlan', { linkType: DLT.RAW, optimize: false })).toEqual({ ok: false, error: expect.stringMatching(/VLAN/i) });
    // "rejects all packets" is an optimizer verdict only.
    expect(pcapCompile('ip6 and tcp[13] & 2 != 0', { linkType: DLT.EN10MB, optimize: true })).toEqual({ ok: false, error: expect.stringMatching(/rejects all packets/) });
    expect(pcapCompile('ip6 and tcp[13] & 2 != 0', { linkType: DLT.EN10MB, optimize: false }).ok).toBe(true);
    expect(() => pcapCompile('ip', { linkType: -1, optimize: true })).toThrow(RangeError);
  });

  it('accepting filters return the snaplen; len is the wire length, loads are bounded by the captured length', () => {
    const pkt = edgePackets(DLT.EN10MB).find((p) => p.name === 'ipv4 long (wirelen 1500)')!;
    const records = toRecords([pkt, { ...pkt, bytes: pkt.bytes.subarray(0, 30), name: 'cut' }]);
    const run = (expr: string) => {
      const r = libpcapVerdicts(expr, DLT.EN10MB, records, true, { snaplen: 1234 });
      if (!r.ok) throw new Error(r.error);
      return [...r.verdicts];
    };
    expect(run('greater 1000')).toEqual([1234, 1234]);
    expect(run('tcp port 80')).toEqual([1234, 0]);
    expect(run('not tcp port 80')).toEqual([0, 0]);   // the cut packet aborts the filter either way
  });

  it('runs every record, or the first `count`', () => {
    const packets = edgePackets(DLT.RAW);
    const r = pcapCompile('ip', { linkType: DLT.RAW, optimize: true });
    if (!r.ok) throw new Error(r.error);
    const all = bpfFilterRecords(r.insns, toRecords(packets));
    expect(all.length).toBe(packets.length);
    expect(new Set(all)).toEqual(new Set([0, 262144]));
    expect([...bpfFilterRecords(r.insns, toRecords(packets), 3)]).toEqual([...all.subarray(0, 3)]);
  });

  it('refuses malformed records and programs libpcap would not run', () => {
    const ret: [number, number, number, number][] = [[6, 0, 0, 1]];
    const records = toRecords([{ bytes: new Uint8Array(10), wirelen: 10 }]);
    expect(() => bpfFilterRecords(ret, records.subarray(0, 20))).toThrow(/caplen 10 runs past the end/);
    expect(() => bpfFilterRecords(ret, records.subarray(0, 8))).toThrow(/header truncated/);
    expect(() => bpfFilterRecords(ret, records, 2)).toThrow(/count 2 exceeds the 1 records/);
    expect(() => bpfFilterRecords([[0x60, 0, 0, 16], [6, 0, 0, 1]], records)).toThrow(/bpf_validate rejects/);
    expect(() => bpfFilterRecords([[0x15, 0, 9, 0], [6, 0, 0, 1]], records)).toThrow(/bpf_validate rejects/);
    expect(() => bpfFilterRecords([[6, 0, 256, 0]], records)).toThrow(RangeError);
    expect(bpfFilterRecords(ret, new Uint8Array(0)).length).toBe(0);
  });

  it('benchmarks bpf_filter in ns per packet', () => {
    const r = pcapCompile('tcp dst port 80', { linkType: DLT.EN10MB, optimize: true });
    if (!r.ok) throw new Error(r.error);
    const ns = bpfFilterBench(r.insns, toRecords(edgePackets(DLT.EN10MB)), undefined, 20);
    expect(ns).toBeGreaterThan(0);
    expect(ns).toBeLessThan(10_000);
  });
});

// The compiled module in dist/ (npm test builds it first): only JavaScript can be the child.
describe.skipIf(!oracleReady())('libpcap compiling in a child process', () => {
  const hosts = (n: number) => Array.from({ length: n }, (_, i) => `host 10.${(i >> 8) & 255}.${i & 255}.1`).join(' or ');

  it('gives the program and the errors an in-process compile gives', async () => {
    const { pcapCompileIsolated } = await import(pathToFileURL(join(projectRoot, 'dist/drivers/libpcap.js')).href);
    for (const [expr, optimize] of [['tcp dst port 80 or udp port 53', true], [hosts(20), false], ['tcp port 80 and', true]] as const) {
      expect(pcapCompileIsolated(expr, { linkType: DLT.EN10MB, optimize })).toEqual(pcapCompile(expr, { linkType: DLT.EN10MB, optimize }));
    }
  });

  it('gives up on an expression libpcap takes too long over, and this process goes on', async () => {
    const { pcapCompileIsolated } = await import(pathToFileURL(join(projectRoot, 'dist/drivers/libpcap.js')).href);
    // 2,000 host terms take libpcap ~9 s unoptimized here.
    const t0 = performance.now();
    expect(pcapCompileIsolated(hosts(2000), { linkType: DLT.EN10MB, optimize: false }, 1000))
      .toEqual({ ok: false, error: 'libpcap took over 1 s to compile it', aborted: true });
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
