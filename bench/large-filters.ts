/**
 * P4, large filters: `host a or host b or …`, `port 1 or port 2 or …` and
 * `net 10.1.0.0/16 or net …` with 10/100/1,000 terms — compile time and cost per packet
 * (preloaded corpus packets, best of several rounds), with libpcap's interpreter on its
 * unoptimized program (its optimizer needs seconds to minutes at these sizes) in the same run.
 * fplc's results are checked against libpcap's on every packet where libpcap runs.
 */
import { performance } from 'node:perf_hooks';
import { bpfFilterBench, bpfFilterRecords, libpcapAvailable, pcapCompile } from '../drivers/libpcap.js';
import { compileFilter } from '../vm/compile.js';
import { corpusTrace } from './trace.js';
import { recordCaplenAt } from '../abi/index.js';

/**
 * The term lists: spread over address and port space, with a few corpus hits among the ports;
 * and hosts of the trace itself, half of them addresses it has and half their unused
 * neighbours, so that most packets pass the list's range test and take the hash lookup.
 */
export const LARGE_FILTER_SHAPES = {
  hosts: (n: number) => Array.from({ length: n }, (_, i) => `host 10.${(i >> 8) & 255}.${i & 255}.1`).join(' or '),
  ports: (n: number) => Array.from({ length: n }, (_, i) => `port ${1 + ((i * 61) % 65535)}`).join(' or '),
  nets: (n: number) => Array.from({ length: n }, (_, i) => `net ${10 + (i >> 8)}.${i & 255}.0.0/16`).join(' or '),
  'trace hosts': (n: number, seen: readonly number[]) => traceHosts(n, seen).map((a) => `host ${dotted(a)}`).join(' or '),
} as const;

const dotted = (a: number) => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');

/** n addresses: up to n/2 of those the trace has, then addresses next to them that it has not. */
function traceHosts(n: number, seen: readonly number[]): number[] {
  const have = new Set(seen);
  const out = new Set(seen.slice(0, Math.ceil(n / 2)));
  for (let step = 1; out.size < n && step < 1 << 16; step++) {
    for (const a of seen) {
      const b = (a + step) >>> 0;
      if (!have.has(b)) out.add(b);
      if (out.size >= n) break;
    }
  }
  return [...out];
}

/** The distinct IPv4 source and destination addresses of the Ethernet records, in order of appearance. */
function ipv4Addresses(records: Uint8Array): number[] {
  const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const seen = new Set<number>();
  for (let off = 0; off + 16 <= records.length;) {
    const caplen = recordCaplenAt(records, off);
    const p = off + 16;
    if (caplen >= 34 && dv.getUint16(p + 12) === 0x0800) { seen.add(dv.getUint32(p + 26)); seen.add(dv.getUint32(p + 30)); }
    off = p + caplen;
  }
  return [...seen];
}

/** How long each filter runs before the warm figure is taken. */
const WARM_MS = 400;

export type LargeFilterShape = keyof typeof LARGE_FILTER_SHAPES;

export interface LargeFilterRow { shape: LargeFilterShape; terms: number; compileMs: number; coldNs: number; warmNs: number; libpcapNs: number | undefined }

export async function largeFilters(sizes = [10, 100, 1000], libpcapUpTo = 100,
  shapes: readonly LargeFilterShape[] = ['hosts', 'trace hosts', 'ports', 'nets']): Promise<LargeFilterRow[]> {
  const rows: LargeFilterRow[] = [];
  const { records, packets } = corpusTrace(1, 20000, 4 << 20);
  const seen = ipv4Addresses(records);
  // Load binaryen and the grammar once, so the first row measures compiling, not loading.
  await compileFilter('host 10.0.0.1', { language: 'pcap' });
  console.log(`P4 large filters, ${packets} corpus packets in memory`);
  console.log('        shape  terms  compile ms  fplc ns/pkt  (warmed up)  libpcap unopt ns/pkt  matches');
  for (const shape of shapes) {
    for (const n of sizes) {
      const expr = LARGE_FILTER_SHAPES[shape](n, seen);
      const t0 = performance.now();
      const f = await compileFilter(expr, { language: 'pcap' });
      const compileMs = performance.now() - t0;
      f.stageRecords(records);
      const bestOf = (rounds: number) => {
        let best = Infinity;
        for (let r = 0; r < rounds; r++) { const t = performance.now(); f.runStaged(); best = Math.min(best, performance.now() - t); }
        return best * 1e6 / packets;
      };
      // Right after loading (the engine's baseline code, as a short capture sees it), and once
      // the engine has had time to optimize the module (as a long capture sees it).
      const cold = bestOf(30);
      for (const t0 = performance.now(); performance.now() - t0 < WARM_MS;) { bestOf(5); await new Promise((r) => setImmediate(r)); }
      const warm = bestOf(30);
      const ours = f.runStaged();
      let matches = 0;
      for (const v of ours) if (v !== 0) matches++;
      let lib = '';
      if (libpcapAvailable() && n <= libpcapUpTo) {
        const lp = pcapCompile(expr, { linkType: 1, optimize: false });
        if (lp.ok) {
          lib = bpfFilterBench(lp.insns, records, undefined, 3).toFixed(1);
          const theirs = bpfFilterRecords(lp.insns, records);
          const differ = theirs.findIndex((v, i) => v !== ours[i]);
          if (differ >= 0) {
            console.error(`bench: ${shape} ${n}: fplc and libpcap disagree on packet ${differ}`);
            process.exitCode = 1;
          }
        }
      }
      rows.push({ shape, terms: n, compileMs, coldNs: cold, warmNs: warm, libpcapNs: lib === '' ? undefined : Number(lib) });
      console.log(`  ${shape.padStart(11)}  ${String(n).padStart(5)}  ${compileMs.toFixed(0).padStart(10)}  ${cold.toFixed(1).padStart(11)}  ${warm.toFixed(1).padStart(11)}  ${lib.padStart(20)}  ${String(matches).padStart(7)}`);
    }
  }
  return rows;
}
