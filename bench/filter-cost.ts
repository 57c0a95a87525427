/**
 * P1, filter cost per packet: fplc's WebAssembly against libpcap's bpf_filter, the same
 * packets in memory, measured side by side in one run: the loops sampled in turns, the fastest
 * pass of each counts (vm/bench.ts sideBySide).
 *
 * libpcap's loop is handed a precomputed (pointer, caplen, wirelen) per packet, so the
 * like-for-like fplc figure, the one the ratio uses, runs the packets through a precomputed
 * index of record offsets (run_index). The figure for walking the pcap records in place (run,
 * how a capture file read into memory is filtered) is reported beside it: there each record's
 * address depends on the previous record's caplen, so that walk is bound by load latency.
 *
 * fplc compiles the expression with its own front end (language 'pcap'); with `--via-cbpf`
 * it compiles libpcap's optimized program instead (language 'cbpf'), which isolates the backend.
 */
import { bpfFilterRecords, libpcapAvailable, libpcapUnavailableReason, pcapCompile } from '../drivers/libpcap.js';
import { formatDdd } from '../lang/cbpf/index.js';
import { compileFilter } from '../vm/compile.js';
import { sideBySide } from '../vm/bench.js';
import { corpusTrace, interleaved } from './trace.js';

export const TYPICAL_FILTERS = [
  'tcp dst port 80',
  'udp port 53',
  'ip and (tcp dst port 80 or udp port 53) and not net 10.1.0.0/16',
  'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn',
  'portrange 1000-2000',
  'ip6 and udp',
  'host 10.0.0.1 or host 192.168.1.1 or host 172.16.0.1',
];

/** The corpus packets file by file (runs of similar packets), or shuffled as on a link (trace.ts interleaved). */
export type TraceOrder = 'corpus order' | 'interleaved';

export interface CostRow {
  expr: string;
  order: TraceOrder;
  libpcapNs: number;
  /** Through the record index: like for like with libpcap. */
  fplcNs: number;
  /** Walking the pcap records in place. */
  fplcRecordsNs: number;
  /** fplcNs / libpcapNs. */
  ratio: number;
  agree: boolean;
  via: string;
}

export async function filterCost(opts: { packets?: number; rounds?: number; viaCbpf?: boolean; order?: TraceOrder } = {}): Promise<CostRow[]> {
  if (!libpcapAvailable()) throw new Error(`the libpcap addon is needed: ${libpcapUnavailableReason()} (npm run build:native)`);
  const trace = corpusTrace(1, opts.packets ?? 20000);
  const { packets } = trace;
  const order = opts.order ?? 'corpus order';
  const records = order === 'interleaved' ? interleaved(trace.records) : trace.records;
  const rounds = opts.rounds ?? 20;
  const rows: CostRow[] = [];
  for (const expr of TYPICAL_FILTERS) {
    const lp = pcapCompile(expr, { linkType: 1, optimize: true });
    if (!lp.ok) throw new Error(`libpcap rejects ${expr}: ${lp.error}`);
    let via = 'pcap';
    let filter;
    if (opts.viaCbpf) {
      via = 'cbpf';
      filter = await compileFilter(formatDdd(lp.insns.map(([code, jt, jf, k]) => ({ code, jt, jf, k }))), { language: 'cbpf', linkType: 1 });
    } else {
      filter = await compileFilter(expr, { language: 'pcap', linkType: 1 });
    }
    // The three loops sampled in turns, after V8 has optimized them (see sideBySide).
    const m = await sideBySide(filter, records, packets, lp.insns, rounds);
    const [fplcNs, fplcRecordsNs, libpcapNs] = [m.indexNs, m.recordsNs, m.libpcapNs!];
    const expected = bpfFilterRecords(lp.insns, records);
    const same = (got: Uint32Array) => expected.length === got.length && expected.every((v, i) => v === got[i]);
    const agree = same(filter.runStaged()) && same(filter.runStagedIndex());
    rows.push({ expr, order, libpcapNs, fplcNs, fplcRecordsNs, ratio: fplcNs / libpcapNs, agree, via });
  }
  return rows;
}

export function printCost(rows: CostRow[], packets: number): void {
  console.log(`P1 filter cost, ${packets} corpus packets in memory, ${rows[0]?.order ?? ''}, best round (ns/packet)`);
  console.log('  fplc: through a precomputed index of records, as libpcap gets a precomputed vector of packets (the ratio');
  console.log('  uses this one); fplc walk: walking the pcap records in place, each address depending on the previous caplen');
  console.log('  libpcap   fplc   fplc walk   fplc/libpcap  same verdicts  expression');
  for (const r of rows) {
    console.log(`  ${r.libpcapNs.toFixed(1).padStart(7)} ${r.fplcNs.toFixed(1).padStart(6)} ${r.fplcRecordsNs.toFixed(1).padStart(11)}   ${r.ratio.toFixed(3).padStart(10)}    ${r.agree ? 'yes' : 'NO '}           ${r.expr}${r.via === 'cbpf' ? ' (via cbpf)' : ''}`);
  }
}
