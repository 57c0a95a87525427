/**
 * P4, large filters: `host a or host b or …` with 10/100/1,000 terms — compile time and cost
 * per packet (preloaded corpus packets, best of several rounds), with libpcap's interpreter on
 * its unoptimized program (its optimizer needs seconds to minutes at these sizes) in the same run.
 */
import { performance } from 'node:perf_hooks';
import { bpfFilterBench, libpcapAvailable, pcapCompile } from '../drivers/libpcap.js';
import { compileFilter } from '../vm/compile.js';
import { corpusTrace } from './trace.js';

export async function largeFilters(sizes = [10, 100, 1000], libpcapUpTo = 100): Promise<void> {
  const { records, packets } = corpusTrace(1, 20000, 4 << 20);
  console.log(`P4 large filters (host lists), ${packets} corpus packets in memory`);
  console.log('  terms  compile ms  fplc ns/pkt  libpcap unopt ns/pkt');
  for (const n of sizes) {
    const expr = Array.from({ length: n }, (_, i) => `host 10.${(i >> 8) & 255}.${i & 255}.1`).join(' or ');
    const t0 = performance.now();
    const f = await compileFilter(expr, { language: 'pcap' });
    const compileMs = performance.now() - t0;
    f.stageRecords(records);
    let best = Infinity;
    for (let r = 0; r < 30; r++) { const t = performance.now(); f.runStaged(); best = Math.min(best, performance.now() - t); }
    let lib = '';
    if (libpcapAvailable() && n <= libpcapUpTo) {
      const lp = pcapCompile(expr, { linkType: 1, optimize: false });
      if (lp.ok) lib = bpfFilterBench(lp.insns, records, undefined, 3).toFixed(1);
    }
    console.log(`  ${String(n).padStart(5)}  ${compileMs.toFixed(0).padStart(10)}  ${(best * 1e6 / packets).toFixed(1).padStart(11)}  ${lib.padStart(20)}`);
  }
}
