/**
 * End to end: a MAPI device with many `BPF_FILTER "tcp dst port p"` + PKT_COUNTER flows (which
 * the device dispatches through lang/ir/passes/dispatch.ts) counts, per flow, what libpcap's own
 * interpreter accepts on corpus captures; the filter's funcstats see every packet.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatchFlows } from '../../lang/ir/passes/dispatch.js';
import { Device } from '../../vm/mapi/index.js';
import { libpcapVerdicts, oracleReady } from '../libpcap/oracle.js';
import { readRecords } from '../mapi/helpers.js';
import { corpusDir, haveCorpus, haveTcpdump, requires } from '../support/env.js';
import { toRecords } from '../support/records.js';

const CAPTURES = ['mptcp-v0.pcap', 'of10_s4810.pcap', 'resp_1_benchmark.pcap'];

/** TCP destination ports the capture holds (from tcpdump's text), so that some flows match. */
function portsSeen(path: string): number[] {
  if (!haveTcpdump) return [];
  const out = execFileSync('tcpdump', ['-nn', '-r', path, 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const ports = new Set<number>();
  for (const line of out.split('\n')) {
    const m = / > [\w.:]+\.(\d+): /.exec(line);
    if (m) ports.add(Number(m[1]));
  }
  return [...ports];
}

const ready = requires('the tcpdump test corpus', haveCorpus) && oracleReady();

describe('a device with many tcp dst port flows', () => {
  for (const name of CAPTURES) {
    const path = join(corpusDir, name);
    (ready && requires(path, existsSync(path)) ? it : it.skip)(`counts like libpcap on ${name}`, async () => {
      const { records, linkType } = readRecords(path);
      const abi = toRecords(records.map((r) => ({ bytes: r.bytes, wirelen: r.wlen })));
      // Ports the capture has, a range around the usual ones, and some that never match.
      const ports = [...new Set([...portsSeen(path), ...Array.from({ length: 150 }, (_, i) => i), 6379, 8080, 65535])];
      const dev = await Device.offline(path);
      const flows = ports.map((p) => {
        const flow = dev.flow();
        const filter = flow.apply('BPF_FILTER', `tcp dst port ${p}`);
        const counter = flow.apply('PKT_COUNTER');
        return { p, flow, filter, counter };
      });
      await Promise.all(flows.map((f) => f.flow.connect()));
      const program = dev.core.buildProgram().program;
      const dispatched = dispatchFlows(program);
      expect(dispatched, 'the flows are dispatched').not.toBe(program);
      // Same chains: one shared copy of the rest, its counters at S[i + position-dependent offset].
      expect(JSON.stringify(dispatched.body), 'the flows share one copy of their rest').toContain('"at":');
      await dev.start();
      await dev.finished();
      let matched = 0;
      for (const { p, flow, filter, counter } of flows) {
        const oracle = libpcapVerdicts(`tcp dst port ${p}`, linkType, abi, true);
        if (!oracle.ok) throw new Error(oracle.error);
        const expected = oracle.verdicts.filter((v) => v !== 0).length;
        matched += expected;
        expect(flow.read(counter), `tcp dst port ${p}`).toBe(BigInt(expected));
        const stats = flow.info(filter);
        expect(stats.pkts, `packets reaching the filter of port ${p}`).toBe(BigInt(records.length));
        expect(stats.passed_pkts).toBe(BigInt(expected));
      }
      expect(matched, 'some flows match').toBeGreaterThan(0);
      dev.delete();
    });
  }
});
