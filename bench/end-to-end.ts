/**
 * P2, end to end on a big capture: fplc filtering a 1M-packet pcap file against
 * `tcpdump -r BIG -w /dev/null EXPR`, same file, same run. fplc is measured in-process
 * (module compiled once, file streamed in chunks through the module's memory) and as the
 * `fpl run` command (which also pays Node's start-up and the compile).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatDdd } from '../lang/cbpf/index.js';
import { pcapCompile } from '../drivers/libpcap.js';
import { compileFilter } from '../vm/compile.js';
import { runFile } from '../vm/run-file.js';
import { settle } from '../vm/bench.js';
import { writeBigTrace } from './big-trace.js';

const best = (n: number, f: () => void) => {
  let t = Infinity;
  for (let i = 0; i < n; i++) { const t0 = performance.now(); f(); t = Math.min(t, performance.now() - t0); }
  return t;
};

export async function endToEnd(opts: { trace?: string; expr?: string; viaCbpf?: boolean } = {}) {
  const trace = opts.trace ?? process.env.FPLC_BENCH_TRACE ?? '/tmp/fplc-bench/big.pcap';
  const expr = opts.expr ?? 'tcp dst port 80';
  if (!existsSync(trace)) {
    mkdirSync(dirname(trace), { recursive: true });
    const t = writeBigTrace(trace);
    console.log(`wrote ${trace}: ${t.packets} packets, ${(t.bytes / 1e6).toFixed(0)} MB`);
  }
  const size = statSync(trace).size;
  const tcpdumpMs = best(3, () => execFileSync('tcpdump', ['-r', trace, '-w', '/dev/null', expr], { stdio: 'ignore' }));
  let source = expr;
  let language: 'pcap' | 'cbpf' = 'pcap';
  if (opts.viaCbpf) {
    const lp = pcapCompile(expr, { linkType: 1, optimize: true });
    if (!lp.ok) throw new Error(lp.error);
    source = formatDdd(lp.insns.map(([code, jt, jf, k]) => ({ code, jt, jf, k })));
    language = 'cbpf';
  }
  const filter = await compileFilter(source, { language, linkType: 1 });
  let res = runFile(filter, trace);
  // The steady state of a long-running process: V8 has optimized the loop (and finished
  // optimizing binaryen's code, which competes for the cores right after a compile).
  await settle();
  const inProcessMs = best(3, () => { res = runFile(filter, trace); });
  // Run as a program, the way a user's shell runs `fpl` (see bin/fpl.js for why that matters).
  const cli = join(import.meta.dirname, '../../bin/fpl.js');   // from dist/bench
  const cliArgs = opts.viaCbpf ? [] : ['-e', expr];
  const runCli = () => {
    const r = spawnSync(cli, ['run', '-r', trace, ...cliArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`fpl run failed: ${r.stderr}`);
  };
  if (!opts.viaCbpf) runCli();   // fills the module cache: the timed runs are the cached case
  const cliMs = opts.viaCbpf ? NaN : best(3, runCli);
  return { trace, bytes: size, packets: res.packets, matched: res.matched, tcpdumpMs, inProcessMs, cliMs };
}

export function printEndToEnd(r: Awaited<ReturnType<typeof endToEnd>>, expr: string): void {
  console.log(`P2 end to end: ${r.packets} packets, ${(r.bytes / 1e6).toFixed(0)} MB, '${expr}' (${r.matched} match), best of 3`);
  console.log(`  tcpdump -r -w /dev/null   ${r.tcpdumpMs.toFixed(0).padStart(6)} ms`);
  console.log(`  fplc in-process           ${r.inProcessMs.toFixed(0).padStart(6)} ms   tcpdump/fplc ${(r.tcpdumpMs / r.inProcessMs).toFixed(2)}x`);
  if (!Number.isNaN(r.cliMs)) console.log(`  fpl run (CLI, cached)     ${r.cliMs.toFixed(0).padStart(6)} ms   tcpdump/fpl ${(r.tcpdumpMs / r.cliMs).toFixed(2)}x  (includes Node start-up)`);
}
