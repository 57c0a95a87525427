/**
 * `npm run bench`: the benchmark suite. Never part of `npm test`; each figure is a ratio against
 * the peer measured in the same run on the same data.
 *
 *   npm run bench                 all benchmarks
 *   npm run bench -- --via-cbpf   compile libpcap's programs (classic BPF) instead of the expressions
 *   npm run bench -- p1 | p2 | p4 one benchmark
 */
import { endToEnd, printEndToEnd } from './end-to-end.js';
import { filterCost, printCost } from './filter-cost.js';
import { largeFilters } from './large-filters.js';

const args = process.argv.slice(2);
const viaCbpf = args.includes('--via-cbpf');
const only = args.filter((a) => !a.startsWith('--'));
const want = (name: string) => only.length === 0 || only.includes(name);

if (want('p1')) {
  const packets = 20000;
  const rows = await filterCost({ packets, viaCbpf });
  printCost(rows, packets);
  if (rows.some((r) => !r.agree)) {
    console.error('bench: fplc and libpcap disagree on some packets (see above)');
    process.exitCode = 1;
  }
}
if (want('p2')) {
  const expr = 'tcp dst port 80';
  printEndToEnd(await endToEnd({ expr, viaCbpf }), expr);
}
if (want('p4')) await largeFilters();
