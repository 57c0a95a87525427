/**
 * libpcap expressions lowered to classic BPF give libpcap's own verdicts, packet for packet:
 * every expression of the pcap-filter and classic-BPF differential lists, on every link type
 * fplc compiles for, over edge packets and corpus packets. libpcap compiles the expression
 * (unoptimized: its optimizer's known bugs are not the reference) and runs its program with
 * bpf_filter; fplc compiles the expression to IR, lowers it to cBPF, and bpf_filter runs that.
 * The emitted program must also equal the IR interpreter and pass the Linux checker.
 */
import { describe, expect, it } from 'vitest';
import { compileCbpfTarget } from '../../codegen/hw/cbpf/index.js';
import { bpfFilterRecords, linuxSocketFilterCheck } from '../../drivers/libpcap.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { DIFFERENTIAL_EXPRESSIONS } from '../cbpf/expressions.js';
import { libpcapVerdicts, oracleReady } from '../libpcap/oracle.js';
import { EXPRESSIONS } from '../pcapfilter/expressions.js';
import { LINK_TYPES, packetsFor, toRecords } from '../pcapfilter/harness.js';
import { haveCorpus, requires } from '../support/env.js';
import { interpret, toBpf } from './cbpf-support.js';

const ready = oracleReady();
requires('the tcpdump capture corpus', haveCorpus);
/**
 * As the pcap-filter suite: offline, libpcap rejects `inbound`/`outbound`/`ifindex` where the
 * link has no such metadata, and so does fplc.
 */
const DELIBERATE = (expr: string, dlt: number): boolean =>
  (/^(inbound|outbound)$/.test(expr) && dlt !== LINK_TYPES.LINUX_SLL && dlt !== LINK_TYPES.LINUX_SLL2) ||
  (/^ifindex/.test(expr) && dlt !== LINK_TYPES.LINUX_SLL2);
const ALL = [...new Set([...EXPRESSIONS, ...DIFFERENTIAL_EXPRESSIONS])];

describe.skipIf(!ready)('libpcap expressions lowered to classic BPF = libpcap, packet for packet', () => {
  for (const [name, dlt] of Object.entries(LINK_TYPES)) {
    it(`on ${name}`, () => {
      const packets = packetsFor(dlt);
      const records = toRecords(packets);
      const problems: string[] = [];
      const refused: string[] = [];
      let lowered = 0;
      let discriminating = 0;
      for (const expr of ALL) {
        if (DELIBERATE(expr, dlt)) continue;
        const oracle = libpcapVerdicts(expr, dlt, records, false);   // the addon compiles with pcap_open_dead: libpcap's live rules (NULL/LOOP AF values)
        let program;
        try {
          program = compilePcapFilter(expr, { linkType: dlt, capture: 'live' }).program;
        } catch {
          continue;   // fplc rejects it (the pcap-filter suite checks that libpcap does too)
        }
        const r = compileCbpfTarget(program);
        if (!r.ok) { refused.push(`${expr}: ${r.reason}`); continue; }
        lowered++;
        const got = bpfFilterRecords(toBpf(r.insns), records);
        const ir = interpret(program, packets);
        expect(linuxSocketFilterCheck(toBpf(r.insns)), expr).toBe(0);
        packets.forEach((p, i) => {
          if (got[i] !== ir[i]) problems.push(`${expr}: ${p.name}: IR ${ir[i]}, emitted cBPF ${got[i]}`);
          if (oracle.ok && got[i] !== oracle.verdicts[i]) problems.push(`${expr}: ${p.name}: libpcap ${oracle.verdicts[i]}, emitted cBPF ${got[i]}`);
        });
        if (new Set(got).size > 1) discriminating++;
      }
      expect(problems.slice(0, 20)).toEqual([]);
      // Only loops (protochain) and fault-catching constructs may stay in software.
      for (const why of refused) expect(why).toMatch(/for:|break:/);
      expect(lowered).toBeGreaterThan(50);
      expect(discriminating).toBeGreaterThan(40);   // packets that tell accept from reject
      if (process.env.CBPF_STATS) console.log(name, { lowered, refused: refused.length, discriminating, refusedList: refused.slice(0, 10) });
    });
  }
});
