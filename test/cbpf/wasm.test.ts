/**
 * Classic BPF end to end: libpcap-compiled programs through compileFilter(…, {language:'cbpf'})
 * to WebAssembly, run by the runtime on edge and corpus packets, against libpcap's own
 * interpreter. (differential.test.ts checks the lowering through the reference interpreter.)
 */
import { describe, expect, it } from 'vitest';
import { bpfFilterRecords, pcapCompile } from '../../drivers/libpcap.js';
import { formatDdd } from '../../lang/cbpf/index.js';
import { linkTypeName } from '../../lang/ir/linktypes.js';
import { compileFilter } from '../../vm/compile.js';
import { oracleReady } from '../libpcap/oracle.js';
import { corpusPackets, DLT, edgePackets, toRecords } from '../libpcap/packets.js';
import { haveCorpus, requires } from '../support/env.js';
import { DIFFERENTIAL_EXPRESSIONS } from './expressions.js';

const ready = oracleReady();
const withCorpus = requires('the tcpdump capture corpus', haveCorpus);

describe.skipIf(!ready)('classic BPF compiled to WebAssembly = libpcap', () => {
  for (const linkType of [DLT.EN10MB, DLT.LINUX_SLL]) {
    it(`on ${linkTypeName(linkType)}`, async () => {
      const packets = [...edgePackets(linkType), ...(withCorpus ? corpusPackets(linkType, 300) : [])];
      const records = toRecords(packets);
      const problems: string[] = [];
      let compared = 0;
      for (const expr of DIFFERENTIAL_EXPRESSIONS) {
        const compiled = pcapCompile(expr, { linkType, optimize: true });
        if (!compiled.ok) continue;
        const text = formatDdd(compiled.insns.map(([code, jt, jf, k]) => ({ code, jt, jf, k })));
        let filter;
        try {
          filter = await compileFilter(text, { language: 'cbpf', linkType });
        } catch (e) {
          if (/Linux-specific/.test((e as Error).message)) continue;   // see differential.test.ts
          throw e;
        }
        const expected = bpfFilterRecords(compiled.insns, records);
        const got = filter.runRecords(records);
        compared++;
        for (let i = 0; i < packets.length && problems.length < 20; i++) {
          if (got[i] !== expected[i]) problems.push(`${JSON.stringify(expr)}: ${packets[i]!.name}: libpcap ${expected[i]}, fplc ${got[i]}`);
        }
      }
      expect(problems).toEqual([]);
      expect(compared).toBeGreaterThan(DIFFERENTIAL_EXPRESSIONS.length / 2);
    }, 120_000);
  }
});
