/**
 * `npm run bench`: the benchmark suite. Never part of `npm test`; each figure is a ratio against
 * the peer measured in the same run on the same data.
 *
 *   npm run bench                       all benchmarks
 *   npm run bench -- p1 | p2 | p3 | p4 | p5 | startup   only those
 *   npm run bench -- --via-cbpf         compile libpcap's programs (classic BPF) instead of the expressions
 *   npm run bench -- --smoke            a short run of each (small traces, few rounds): checks the
 *                                       benchmarks work and agree with their peers, not speed
 *   npm run bench -- --readme           also write the results table into README.md
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { endToEnd, printEndToEnd } from './end-to-end.js';
import { filterCost, printCost } from './filter-cost.js';
import { largeFilters } from './large-filters.js';
import { printStringSearch, scenarioName, searchAgrees, stringSearchBench } from './string-search.js';
import { printStartup, startup } from './startup.js';
import { Results, writeReadmeTable } from './results.js';
import { writeBigTrace } from './big-trace.js';
import { benchFlowCounts, benchFlows } from '../vm/bench.js';

const args = process.argv.slice(2);
const viaCbpf = args.includes('--via-cbpf');
const smoke = args.includes('--smoke');
const only = args.filter((a) => !a.startsWith('--'));
const want = (name: string) => only.length === 0 || only.includes(name);
const results = new Results();
const x = (v: number) => `${v.toFixed(2)}×`;
const fail = (message: string) => { console.error(`bench: ${message}`); process.exitCode = 1; };

if (want('p1')) {
  const packets = smoke ? 2000 : 20000;
  // The same packets twice: file by file as the corpus has them, then interleaved as on a link.
  for (const order of ['corpus order', 'interleaved'] as const) {
    const rows = await filterCost({ packets, viaCbpf, rounds: smoke ? 3 : 20, order });
    printCost(rows, packets);
    if (rows.some((r) => !r.agree)) fail('fplc and libpcap disagree on some packets (see above)');
    for (const r of rows) {
      // fplc runs through a record index, as libpcap runs through a packet vector: like for like; the in-place walk of the pcap records is shown beside it.
      results.add({ bench: 'P1 filter cost', subject: `\`${r.expr}\`, ${order}`, fplc: `${r.fplcNs.toFixed(1)} ns/pkt (indexed; walking the records ${r.fplcRecordsNs.toFixed(1)})`, peer: `libpcap ${r.libpcapNs.toFixed(1)} ns/pkt`, ratio: `${r.ratio.toFixed(2)} of libpcap (indexed)`, goal: '≤ 0.2' });
    }
  }
}
if (want('p2')) {
  const expr = 'tcp dst port 80';
  const trace = smoke ? '/tmp/fplc-bench/smoke.pcap' : undefined;
  if (trace && !existsSync(trace)) { mkdirSync(dirname(trace), { recursive: true }); writeBigTrace(trace, 20000); }
  const r = await endToEnd({ expr, viaCbpf, ...(trace ? { trace } : {}) });
  printEndToEnd(r, expr);
  const subject = `${r.packets} pkts, ${(r.bytes / 1e6).toFixed(0)} MB, \`${expr}\``;
  results.add({ bench: 'P2 end to end', subject: `${subject}, in-process`, fplc: `${r.inProcessMs.toFixed(0)} ms`, peer: `tcpdump ${r.tcpdumpMs.toFixed(0)} ms`, ratio: `tcpdump/fplc ${x(r.tcpdumpMs / r.inProcessMs)}`, goal: '≥ 3×' });
  if (!Number.isNaN(r.cliMs)) results.add({ bench: 'P2 end to end', subject: `${subject}, \`fpl run\` (cached module)`, fplc: `${r.cliMs.toFixed(0)} ms`, peer: `tcpdump ${r.tcpdumpMs.toFixed(0)} ms`, ratio: `tcpdump/fplc ${x(r.tcpdumpMs / r.cliMs)}`, goal: '≥ 3×' });
}
if (want('p3')) {
  // Per-packet cost of a device with N flows `tcp dst port i` + PKT_COUNTER over the big trace.
  const trace = smoke ? '/tmp/fplc-bench/smoke.pcap' : join('/tmp/fplc-bench', 'big.pcap');
  if (!existsSync(trace)) { mkdirSync(dirname(trace), { recursive: true }); writeBigTrace(trace, smoke ? 20000 : undefined); }
  const counts = smoke ? [1, 10] : [1, 100, 1000, 10000];
  await benchFlows(trace, 1, 1);   // warm-up: loading binaryen and the front end is not per-packet cost
  console.log(`P3 many flows on ${trace}: N flows \`tcp dst port i\` + PKT_COUNTER on one device`);
  const rows = await benchFlowCounts(trace, counts, smoke ? 1 : 3);
  for (const r of rows) console.log(`  ${String(r.flows).padStart(6)} flows  ${r.ns_per_pkt.toFixed(1).padStart(8)} ns/pkt  (set-up and compile ${r.compile_ms.toFixed(0)} ms)`);
  const one = rows[0]!;
  for (const r of rows.slice(1)) {
    results.add({ bench: 'P3 many flows', subject: `${r.flows} flows vs 1`, fplc: `${r.ns_per_pkt.toFixed(0)} ns/pkt`, peer: `1 flow ${one.ns_per_pkt.toFixed(0)} ns/pkt`, ratio: `${x(r.ns_per_pkt / one.ns_per_pkt)} the cost of one`, goal: '≤ 2× at 10,000' });
  }
}
if (want('p4')) {
  const rows = await largeFilters(smoke ? [10, 100] : [10, 100, 1000]);
  for (const r of rows.filter((r) => r.terms >= 100)) {
    results.add({ bench: 'P4 large filters', subject: `${r.terms} ${r.shape}`, fplc: `${r.warmNs.toFixed(1)} ns/pkt, compile ${r.compileMs.toFixed(0)} ms`,
      peer: r.libpcapNs === undefined ? 'libpcap not run (minutes)' : `libpcap unopt ${r.libpcapNs.toFixed(0)} ns/pkt`, ratio: r.libpcapNs === undefined ? '' : `${(r.warmNs / r.libpcapNs).toFixed(3)} of libpcap`, goal: '≤ 15 ns, < 1 s at 1,000' });
  }
}
if (want('p5')) {
  const rows = await stringSearchBench(smoke ? { packets: 2000, rounds: 2, flowCounts: [20] } : {});
  printStringSearch(rows);
  if (!searchAgrees(rows)) fail('fplc, memmem and ngrep disagree on the matching packets (see above)');
  for (const r of rows) {
    results.add({ bench: 'P5 string search', subject: scenarioName(r), fplc: `${r.fplcGBs.toFixed(2)} GB/s`,
      peer: `memmem ${r.memmemGBs.toFixed(2)} GB/s${r.ngrepGBs === undefined ? '' : `, ngrep ${r.ngrepGBs.toFixed(2)} GB/s`}`, ratio: `${x(r.fplcGBs / r.memmemGBs)} memmem`, goal: r.patterns > 1 ? '≥ 1 GB/s' : '≥ 2 GB/s' });
  }
}
if (want('startup')) {
  const r = startup({ runs: smoke ? 1 : 5 });
  printStartup(r);
  results.add({ bench: 'Start-up', subject: '`fpl run -e` on samples/web.pcap, cold cache', fplc: `${r.coldMs.toFixed(0)} ms`, peer: `node -e 0 ${r.nodeMs.toFixed(0)} ms${r.tcpdumpMs === null ? '' : `, tcpdump ${r.tcpdumpMs.toFixed(0)} ms`}`, ratio: '', goal: '' });
  results.add({ bench: 'Start-up', subject: '`fpl run -e` on samples/web.pcap, a new program (binaryen\'s script cached)', fplc: `${r.newProgramMs.toFixed(0)} ms`, peer: `node -e 0 ${r.nodeMs.toFixed(0)} ms${r.tcpdumpMs === null ? '' : `, tcpdump ${r.tcpdumpMs.toFixed(0)} ms`}`, ratio: '', goal: '' });
  results.add({ bench: 'Start-up', subject: '`fpl run -e` on samples/web.pcap, cached module', fplc: `${r.cachedMs.toFixed(0)} ms`, peer: `node -e 0 ${r.nodeMs.toFixed(0)} ms${r.tcpdumpMs === null ? '' : `, tcpdump ${r.tcpdumpMs.toFixed(0)} ms`}`, ratio: '', goal: '' });
}

console.log(`\n${results.markdown()}`);
if (args.includes('--readme')) {
  if (smoke) fail('--readme takes a full run, not --smoke');
  else writeReadmeTable(join(import.meta.dirname, '../../README.md'), results.markdown());
}
