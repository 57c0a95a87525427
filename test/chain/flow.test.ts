// `fpl flow`: flow graphs through the MAPI API, against tcpdump and plain-JavaScript counts.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../bin/cli.js';
import { runFlowGraph } from '../../vm/mapi/graph.js';
import { CompileError } from '../../lang/diagnostics.js';
import { compileFilter } from '../../vm/compile.js';
import { runFile } from '../../vm/run-file.js';
import { haveTcpdump, projectRoot, requires } from '../support/env.js';
import { contains, readPcap, tcpDstPort } from './pcap.js';

const sample = (f: string) => join(projectRoot, 'samples', f);
const tcpdumpCount = (capture: string, expr: string): number =>
  Number(/(\d+) packets?/.exec(execFileSync('tcpdump', ['-r', capture, '--count', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))![1]);

async function cli(...args: string[]) {
  let out = '', err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
  try {
    process.exitCode = undefined;
    await main(['node', 'fpl', ...args]);
    return { code: process.exitCode ?? 0, stdout: out, stderr: err };
  } finally {
    o.mockRestore(); e.mockRestore(); process.exitCode = undefined;
  }
}
afterEach(() => { process.exitCode = undefined; });

describe('fpl flow', () => {
  it('counts (BPF,"tcp port 80") > (packetcount) as tcpdump does', async () => {
    const r = await cli('flow', '(device,expr=eth0) > (BPF,expr="tcp port 80") > (packetcount)', '-r', sample('web.pcap'), '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0].packets).toBe(readPcap(sample('web.pcap')).length);
    expect(lines[0].results.map((f: { function: string }) => f.function)).toEqual(['BPF_FILTER', 'PKT_COUNTER']);
    if (!requires('tcpdump', haveTcpdump)) return;
    expect(lines[0].results[1].result).toBe(tcpdumpCount(sample('web.pcap'), 'tcp port 80'));
  }, 20000);

  it('runs one flow per path of a group, each against an independent count', async () => {
    const pkts = readPcap(sample('web.pcap'));
    const run = await runFlowGraph('(device,eth0) -> (sampler,3) -> [(packetcount,,8) | (bytecount,,8) | (strsearch,"GET ") -> (pktcount)]', sample('web.pcap'));
    expect(run.flows.map((f) => f.path)).toEqual([
      '(device,eth0) -> (sampler,3) -> (packetcount,,8)', '(device,eth0) -> (sampler,3) -> (bytecount,,8)',
      '(device,eth0) -> (sampler,3) -> (strsearch,"GET ") -> (pktcount)']);
    const sampled = pkts.filter((_p, i) => i % 3 === 2);   // SAMPLE(3, PERIODIC): the 3rd, 6th, … packet
    expect(run.flows[0]!.functions.map((f) => f.result)).toEqual([null, sampled.length]);
    expect(run.flows[1]!.functions[1]!.result).toBe(sampled.reduce((n, p) => n + p.wirelen, 0));
    expect(run.flows[2]!.functions[2]!.result).toBe(sampled.filter((p) => contains(p.data, 'GET ')).length);
  }, 20000);

  it('places MAPI argument errors at the node and exits like fpl run', async () => {
    const bad = await cli('flow', '(bpf,"tcp port 80") >\n (strsearch, "GET", 0, 2)', '-r', sample('web.pcap'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^<input>:2:24: error: strsearch: .*\(depth\) is 2, shorter than the pattern \(3 bytes\)\n {3}\(strsearch, "GET", 0, 2\)\n {25}\^/);
    const unknown = await cli('flow', '(bpf, "tcp port") > (packetcount)', '-r', sample('web.pcap'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/<input>:1:7: error: bpf: .*does not compile/);
    expect((await cli('flow', '(packetcount)', '-r', sample('missing.pcap'))).code).toBe(3);
    expect((await cli('flow', '(packetcount)')).code).toBe(2);
    await expect(runFlowGraph('(nosuch, 1)', sample('web.pcap'))).rejects.toThrow(CompileError);
  }, 20000);
});

describe('the worm detector (samples/worm.*)', () => {
  // Independent count: web requests (TCP to port 80) and those carrying the exploit's request line.
  const pkts = readPcap(sample('worm.pcap'));
  const webRequests = pkts.filter((p) => tcpDstPort(p.data) === 80);
  const worms = webRequests.filter((p) => contains(p.data, 'GET /default.ida?'));

  it('the trace has every kind of packet the detector must tell apart', () => {
    expect(worms.length).toBeGreaterThan(10);
    expect(webRequests.length).toBeGreaterThan(worms.length + 50);
    expect(pkts.filter((p) => tcpDstPort(p.data) !== 80 && contains(p.data, 'GET /default.ida?')).length).toBeGreaterThan(10);
    if (requires('tcpdump', haveTcpdump)) expect(tcpdumpCount(sample('worm.pcap'), 'tcp dst port 80')).toBe(webRequests.length);
  });

  it('worm.graph counts web requests and worms', async () => {
    const r = await cli('flow', sample('worm.graph'), '-r', sample('worm.pcap'), '--json');
    expect(r.code).toBe(0);
    const flow = JSON.parse(r.stdout);
    expect(flow.results.map((f: { function: string; result: unknown }) => [f.function, f.result])).toEqual([
      ['BPF_FILTER', null], ['PKT_COUNTER', webRequests.length], ['STR_SEARCH', null], ['PKT_COUNTER', worms.length]]);
  }, 20000);

  it('worm.fpl (MAPI functions as EXTERNs) gives the same counts', async () => {
    const { readFileSync } = await import('node:fs');
    const f = await compileFilter(readFileSync(sample('worm.fpl'), 'utf8'));
    const res = runFile(f, sample('worm.pcap'));
    expect(res.matched).toBe(worms.length);
    expect([f.registers[0], f.registers[1]]).toEqual([webRequests.length, worms.length]);
  }, 20000);
});
