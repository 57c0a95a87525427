/**
 * Start-up: how long `fpl run -e EXPR -r SMALL.pcap` takes as a fresh process, cold (an empty
 * cache directory: the front end and binaryen compile the expression, and binaryen's cached script
 * is made), with a new program (another expression: a module-cache miss, binaryen loaded from
 * its cached script) and cached (the module is loaded from the cache; binaryen is never imported),
 * next to a bare `node -e 0` and to `tcpdump -r SMALL.pcap -w /dev/null EXPR`, all in the same
 * run (medians).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median } from './results.js';

export interface StartupResult { expr: string; capture: string; nodeMs: number; coldMs: number; newProgramMs: number; cachedMs: number; tcpdumpMs: number | null }

function timeRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

export function startup(opts: { expr?: string; capture?: string; runs?: number } = {}): StartupResult {
  const expr = opts.expr ?? 'tcp dst port 80';
  const capture = opts.capture ?? join(import.meta.dirname, '../../samples/web.pcap');   // from dist/bench
  const runs = opts.runs ?? 5;
  // The bin run as a program, as a user's shell runs `fpl` (bin/fpl.js drops a costly variable).
  const cli = join(import.meta.dirname, '../../bin/fpl.js');
  const args = ['run', '-e', expr, '-r', capture];
  const { NODE_EXTRA_CA_CERTS: _unused, ...bare } = process.env;   // Node alone, started as bin/fpl.js starts it
  const nodeMs = median(Array.from({ length: runs }, () => timeRun(process.execPath, ['-e', '0'], bare)));
  const cold: number[] = [], newProgram: number[] = [], cached: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-startup-'));
    const env = { ...process.env, FPLC_CACHE_DIR: dir };
    try {
      cold.push(timeRun(cli, args, env));
      cached.push(timeRun(cli, args, env));
      newProgram.push(timeRun(cli, ['run', '-e', `${expr} or udp port ${1000 + i}`, '-r', capture], env));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  let tcpdumpMs: number | null = null;
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    tcpdumpMs = median(Array.from({ length: runs }, () => timeRun('tcpdump', ['-r', capture, '-w', '/dev/null', expr])));
  } catch { /* no tcpdump */ }
  return { expr, capture, nodeMs, coldMs: median(cold), newProgramMs: median(newProgram), cachedMs: median(cached), tcpdumpMs };
}

export function printStartup(r: StartupResult): void {
  console.log(`Start-up: fpl run -e '${r.expr}' -r ${r.capture} as a new process (median ms)`);
  console.log(`  node -e 0 (Node alone)      ${r.nodeMs.toFixed(0).padStart(6)}`);
  console.log(`  fpl run, cold cache          ${r.coldMs.toFixed(0).padStart(6)}   (front end + binaryen, its script cached)`);
  console.log(`  fpl run, a new program       ${r.newProgramMs.toFixed(0).padStart(6)}   (front end + binaryen from its cached script)`);
  console.log(`  fpl run, cached module       ${r.cachedMs.toFixed(0).padStart(6)}   (binaryen not loaded)`);
  if (r.tcpdumpMs !== null) console.log(`  tcpdump -r -w /dev/null      ${r.tcpdumpMs.toFixed(0).padStart(6)}`);
}
