/**
 * libpcap expressions end to end: front end → IR → optimized WebAssembly → runtime, against
 * libpcap 1.10.3's unoptimized program run by bpf_filter, return value for return value, on
 * edge and corpus packets of every supported link type. (test/pcapfilter compares the IR
 * through the reference interpreter; this checks what users run, including the backend's
 * length-check elision, load reuse and decided comparisons.)
 */
import { describe, expect, it } from 'vitest';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { linkTypeName } from '../../lang/ir/linktypes.js';
import { compileProgram } from '../../vm/compile.js';
import { libpcapVerdicts, oracleReady } from '../libpcap/oracle.js';
import { EXPRESSIONS } from '../pcapfilter/expressions.js';
import { LINK_TYPES, packetsFor, toRecords } from '../pcapfilter/harness.js';

const ready = oracleReady();

describe.skipIf(!ready)('libpcap expressions compiled to WebAssembly = libpcap', () => {
  for (const [name, dlt] of Object.entries(LINK_TYPES)) {
    // Every expression on Ethernet; a third of them (a different third per link type) elsewhere.
    const exprs = dlt === 1 ? EXPRESSIONS : EXPRESSIONS.filter((_, i) => i % 3 === dlt % 3);
    it(`on ${name}`, async () => {
      const packets = packetsFor(dlt, 200);
      const records = toRecords(packets);
      const problems: string[] = [];
      let compared = 0;
      for (const expr of exprs) {
        const oracle = libpcapVerdicts(expr, dlt, records, false);
        if (!oracle.ok) continue;
        let program;
        // The addon compiles as pcap_open_dead: libpcap's live rules, netmask unknown.
        try { program = compilePcapFilter(expr, { linkType: dlt, capture: 'live', netmask: 0xffffffff }).program; } catch { continue; }   // test/pcapfilter owns acceptance
        const got = (await compileProgram(program)).runRecords(records);
        compared++;
        for (let i = 0; i < packets.length && problems.length < 10; i++) {
          if (got[i] !== oracle.verdicts[i]) problems.push(`${JSON.stringify(expr)} on ${linkTypeName(dlt)}: ${packets[i]!.name}: libpcap ${oracle.verdicts[i]}, fplc ${got[i]}`);
        }
      }
      expect(problems).toEqual([]);
      expect(compared).toBeGreaterThan(exprs.length / 3);
    }, 300_000);
  }
});
