/**
 * Large libpcap expressions: time to compile `host a or host b or …` (and a port list) of
 * 100, 1,000 and 10,000 terms — the front end alone (compilePcapFilter: tokens, parse, IR) and
 * the whole path to a WebAssembly module (compileFilter) — next to libpcap's pcap_compile,
 * whose optimizer is quadratic in the filter size. Prints a table; never part of `npm test`.
 *
 *   node dist/bench/pcapfilter-large.js [--max 10000] [--full-max 1000] [--no-libpcap]
 */
import { performance } from 'node:perf_hooks';
import { libpcapAvailable, pcapCompile } from '../drivers/libpcap.js';
import { compilePcapFilter } from '../lang/pcapfilter/index.js';
import { compileFilter } from '../vm/compile.js';

export function hostList(n: number): string {
  const terms: string[] = [];
  for (let i = 0; i < n; i++) terms.push(`host 10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`);
  return terms.join(' or ');
}

export function portList(n: number): string {
  const terms: string[] = [];
  for (let i = 0; i < n; i++) terms.push(String(1 + (i % 65535)));
  return `tcp port ${terms.join(' or ')}`;
}

interface Row { shape: string; terms: number; chars: number; frontMs: number; fullMs: number | string; libpcapMs: number | string }

function timed<T>(f: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

/**
 * `fullMax`: largest size sent through the whole WebAssembly path (default 1,000; 10,000
 * terms take tens of seconds in binaryen). `libpcapMax`: libpcap's
 * optimizer needs about a minute at 1,000 hosts, and pcap_compile crashes (stack overflow) on
 * 10,000 even unoptimized, so it is never run that far.
 */
export async function compileLargeFilters(opts: { sizes?: number[]; libpcap?: boolean; libpcapMax?: number; fullMax?: number } = {}): Promise<Row[]> {
  const sizes = opts.sizes ?? [100, 1000, 10000];
  const rows: Row[] = [];
  // Warm up the grammar and binaryen once, so the first row measures compiling, not loading.
  compilePcapFilter('host 10.0.0.1', { linkType: 1 });
  await compileFilter('host 10.0.0.1', { language: 'pcap' });
  for (const [shape, make] of [['host list', hostList], ['port list', portList]] as const) {
    for (const n of sizes) {
      const expr = make(n);
      const front = timed(() => compilePcapFilter(expr, { linkType: 1 }));
      let fullMs: number | string = `skipped (> ${opts.fullMax ?? 1000})`;
      if (n <= (opts.fullMax ?? 1000)) try {
        const t0 = performance.now();
        await compileFilter(expr, { language: 'pcap', linkType: 1 });
        fullMs = performance.now() - t0;
      } catch (e) {
        fullMs = `failed: ${(e as Error).message.split('\n')[0].slice(0, 60)}`;
      }
      let libpcapMs: number | string = 'skipped';
      if (opts.libpcap !== false && libpcapAvailable() && n <= (opts.libpcapMax ?? 1000)) {
        libpcapMs = timed(() => pcapCompile(expr, { linkType: 1, optimize: true })).ms;
      }
      rows.push({ shape, terms: n, chars: expr.length, frontMs: front.ms, fullMs, libpcapMs });
    }
  }
  return rows;
}

export function printLarge(rows: Row[]): void {
  const f = (v: number | string) => (typeof v === 'number' ? v.toFixed(1) : v);
  console.log('large libpcap expressions: compile time (ms)');
  console.log(['shape', 'terms', 'chars', 'compilePcapFilter', 'compileFilter (to wasm)', 'libpcap pcap_compile -O'].join('\t'));
  for (const r of rows) console.log([r.shape, r.terms, r.chars, f(r.frontMs), f(r.fullMs), f(r.libpcapMs)].join('\t'));
}

const isMain = process.argv[1]?.endsWith('pcapfilter-large.js');
if (isMain) {
  const args = process.argv.slice(2);
  const maxAt = args.indexOf('--max');
  const max = maxAt >= 0 ? Number(args[maxAt + 1]) : 10000;
  const fullAt = args.indexOf('--full-max');
  const sizes = [100, 1000, 10000].filter((n) => n <= max);
  printLarge(await compileLargeFilters({ sizes, libpcap: !args.includes('--no-libpcap'), fullMax: fullAt >= 0 ? Number(args[fullAt + 1]) : 1000 }));
}
