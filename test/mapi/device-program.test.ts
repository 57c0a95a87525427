/**
 * The device program (vm/mapi/device-program.ts) is a pure function of the flows' chains and
 * the device's layout: built twice it is the same program, and it does the same through the
 * reference interpreter (lang/ir/interp.ts) as through the module the device compiles from it
 * (the device pipeline, then the WebAssembly backend): same verdicts, same R[], M[] and S[],
 * on corpus captures, for chains that filter, count, search, and that the dispatch pass groups.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { DEVICE_PIPELINE, runPipeline } from '../../lang/ir/pipeline.js';
import { compileWasm } from '../../codegen/wasm/index.js';
import { CompiledFilter } from '../../vm/filter.js';
import { buildCookedProgram, buildDeviceProgram, type DeviceProgramTarget } from '../../vm/mapi/device-program.js';
import { Device, TOPX_IP } from '../../vm/mapi/index.js';
import { readRecords } from './helpers.js';
import { corpusDir, haveCorpus, requires } from '../support/env.js';
import { toRecords } from '../support/records.js';

const CAPTURES = ['mptcp-v0.pcap', 'resp_1_benchmark.pcap', 'dns-zlip-1.pcap', 'OSPFv3_with_AH.pcap'];

/** Chains of every kind the device lowers without a host call (those would need the device's externs). */
const CHAINS: unknown[][][] = [
  [['BPF_FILTER', 'tcp'], ['PKT_COUNTER'], ['BYTE_COUNTER']],
  [['BPF_FILTER', 'udp or icmp or ip6'], ['STR_SEARCH', 'a', 0, 0], ['PKT_COUNTER']],
  [['STR_SEARCH', 'HTTP', 40, 200], ['BYTE_COUNTER']],
  [['TOP', 10, TOPX_IP, 3, 1, 0]],
  [['BPF_FILTER', 'ip[6:2] & 0x1fff = 0 and ip[ip[0] & 0xf * 4 + 20] > 3'], ['PKT_COUNTER']],
  // Flows the dispatch pass groups by their head's constant.
  ...Array.from({ length: 24 }, (_, i) => [['BPF_FILTER', `tcp dst port ${[80, 443, 6379, 22, 8080, 53][i % 6]! + Math.floor(i / 6)}`], ['PKT_COUNTER']]),
];

/** First index where two word arrays differ, or -1 (the state is 256K words: no deep diff). */
function firstDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const ready = requires('the tcpdump test corpus', haveCorpus);

describe('the device program', () => {
  for (const name of CAPTURES) {
    const path = join(corpusDir, name);
    (ready && requires(path, existsSync(path)) ? it : it.skip)(`runs the same interpreted and compiled on ${name}`, async () => {
      const { records, linkType, nanoseconds } = readRecords(path);
      const dev = await Device.offline(path);
      try {
        for (const chain of CHAINS) {
          const flow = dev.flow();
          for (const [fn, ...args] of chain) flow.apply(fn as string, ...args);
        }
        const chains = dev.core.flows.map((f) => f.functions);
        const target: DeviceProgramTarget = { linkType, nanoseconds, deviceId: dev.core.id, deviceName: dev.core.name };
        const { program, externs } = buildDeviceProgram(chains, target);
        expect(JSON.stringify(buildDeviceProgram(chains, target).program), 'built twice, the same program').toBe(JSON.stringify(program));
        expect(externs, 'these chains need no host call').toEqual([]);
        expect(buildCookedProgram(chains, target), 'no COOKING: no cooked program').toBeUndefined();

        const packets = records.map((r) => ({ bytes: r.bytes, wirelen: r.wlen, ts: [r.sec, r.frac] as const }));
        const state = newState(program);
        const expected = packets.map((p) => runPacket(program, state, p.bytes, p.wirelen, { timestamp: p.ts }).result);

        const module = compileWasm(runPipeline(program, DEVICE_PIPELINE), { batchBytes: 1 << 20 });
        const compiled = await CompiledFilter.load(module.wasm, { externs });
        const got = [...compiled.runRecords(toRecords(packets))];
        expect(got).toEqual(expected);
        expect(firstDifference(compiled.registers, state.registers), 'R[]').toBe(-1);
        expect(firstDifference(compiled.memory, state.memory), 'M[]').toBe(-1);
        expect(firstDifference(compiled.state, state.state), 'S[]').toBe(-1);
        expect(compiled.fuelExhausted).toBe(state.fuelExhausted);
        // The counters moved: the comparison is not between two untouched states.
        expect(state.state[2], 'the device packet count').toBe(packets.length);
        const counted = dev.core.flows.flatMap((f) => f.functions).filter((f) => state.state[f.countersBase + 2] !== 0);
        expect(counted.length, 'some functions passed packets').toBeGreaterThan(1);
      } finally {
        dev.delete();
      }
    }, 60_000);
  }
});
