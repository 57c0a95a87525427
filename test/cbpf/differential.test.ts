/**
 * Classic BPF front end vs libpcap: every program libpcap 1.10.3 compiles from the expression
 * list (optimized and not, on four link types) is run by libpcap's own interpreter and, after
 * compileCbpf, by the IR reference interpreter, on edge packets and corpus packets. The
 * return values must be identical packet for packet.
 */
import { describe, expect, it } from 'vitest';
import { bpfFilterRecords, pcapCompile, type BpfInsn } from '../../drivers/libpcap.js';
import { compileCbpf, formatDdd } from '../../lang/cbpf/index.js';
import { CompileError } from '../../lang/diagnostics.js';
import { linkTypeName } from '../../lang/ir/linktypes.js';
import { oracleReady } from '../libpcap/oracle.js';
import { corpusPackets, DLT, edgePackets, toRecords, type Packet } from '../libpcap/packets.js';
import { haveCorpus, requires } from '../support/env.js';
import { DIFFERENTIAL_EXPRESSIONS } from './expressions.js';
import { newState, runPacket } from './ir-interp.js';

const ready = oracleReady();
const withCorpus = requires('the tcpdump capture corpus', haveCorpus);

/** Compares libpcap and the lowered IR on every packet; returns a description of each disagreement. */
export function disagreements(insns: BpfInsn[], linkType: number, packets: readonly Packet[], records: Uint8Array, label: string): string[] {
  const expected = bpfFilterRecords(insns, records);
  const { program } = compileCbpf(formatDdd(insns.map(([code, jt, jf, k]) => ({ code, jt, jf, k }))), { linkType });
  const state = newState(program);
  const out: string[] = [];
  packets.forEach((p, i) => {
    const got = runPacket(program, state, p.bytes, p.wirelen);
    if (got !== expected[i]) out.push(`${label}: ${p.name} (caplen ${p.bytes.length}, wirelen ${p.wirelen}): libpcap ${expected[i]}, fplc ${got}`);
  });
  return out;
}

describe.skipIf(!ready)('classic BPF from libpcap programs: fplc = libpcap, packet for packet', () => {
  for (const linkType of [DLT.EN10MB, DLT.RAW, DLT.LINUX_SLL, DLT.NULL]) {
    it(`on ${linkTypeName(linkType)}`, () => {
      const packets = [...edgePackets(linkType), ...(withCorpus ? corpusPackets(linkType, 400) : [])];
      const records = toRecords(packets);
      const problems: string[] = [];
      let programs = 0;
      let discriminating = 0;
      let linuxOnly = 0;
      for (const expr of DIFFERENTIAL_EXPRESSIONS) {
        for (const optimize of [false, true]) {
          const compiled = pcapCompile(expr, { linkType, optimize });
          if (!compiled.ok) continue;   // e.g. `vlan` on RAW, or "rejects all packets" when optimizing
          const label = `${JSON.stringify(expr)} optimize=${optimize}`;
          try {
            problems.push(...disagreements(compiled.insns, linkType, packets, records, label));
          } catch (e) {
            // libpcap folds `ip[0xffffffee:4]` into an absolute load at 0xfffffffe, in Linux's
            // ancillary range, which Linux (and so compileCbpf) rejects.
            if (e instanceof CompileError && /Linux-specific/.test(e.message)) { linuxOnly++; continue; }
            throw e;
          }
          programs++;
          if (new Set(bpfFilterRecords(compiled.insns, records)).size > 1) discriminating++;
        }
      }
      expect(problems.slice(0, 20)).toEqual([]);
      expect(linuxOnly).toBeLessThanOrEqual(2);
      // The comparison must have had something to compare: most programs compile and tell packets apart.
      expect(programs).toBeGreaterThan(DIFFERENTIAL_EXPRESSIONS.length);
      expect(discriminating).toBeGreaterThan(programs / 2);
    });
  }

  it('a 2,900-instruction unoptimized libpcap program (100 hosts)', () => {
    const expr = Array.from({ length: 100 }, (_, i) => `host 10.0.0.${i * 2}`).join(' or ') + ' or tcp port 80';
    const compiled = pcapCompile(expr, { linkType: DLT.EN10MB, optimize: false });
    if (!compiled.ok) throw new Error(compiled.error);
    expect(compiled.insns.length).toBeGreaterThan(2500);
    const packets = edgePackets(DLT.EN10MB);
    const records = toRecords(packets);
    expect(new Set(bpfFilterRecords(compiled.insns, records)).size).toBe(2);
    expect(disagreements(compiled.insns, DLT.EN10MB, packets, records, '100 hosts')).toEqual([]);
  });

  it('the expression list compiles on every link type it is meant for', () => {
    const nowhere = DIFFERENTIAL_EXPRESSIONS.filter((e) =>
      [DLT.EN10MB, DLT.RAW, DLT.LINUX_SLL, DLT.NULL].every((linkType) => !pcapCompile(e, { linkType, optimize: false }).ok));
    expect(nowhere).toEqual([]);
  });
});
