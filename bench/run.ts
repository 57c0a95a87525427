/**
 * `npm run bench`: the benchmark suite. Never part of `npm test`; each figure is a ratio against
 * the peer measured in the same run on the same data.
 *
 *   npm run bench                 all benchmarks
 *   npm run bench -- --via-cbpf   P1 through libpcap's compiled programs (backend only)
 */
import { filterCost, printCost } from './filter-cost.js';

const args = new Set(process.argv.slice(2));
const packets = 20000;
const rows = await filterCost({ packets, viaCbpf: args.has('--via-cbpf') });
printCost(rows, packets);
if (rows.some((r) => !r.agree)) {
  console.error('bench: fplc and libpcap disagree on some packets (see above)');
  process.exitCode = 1;
}
