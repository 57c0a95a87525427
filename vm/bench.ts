/**
 * `fpl bench`: what a filter costs per packet on the user's own capture, with the packets
 * preloaded in the module's memory (best of several rounds), its compile time, and libpcap's
 * interpreter on the same packets in the same run when the libpcap addon is built.
 *
 * Two fplc figures: `ns_per_pkt` runs the packets through a precomputed index of record
 * offsets (run_index) — like for like with libpcap's loop, which is handed a precomputed
 * (pointer, caplen, wirelen) per packet — and `ns_per_pkt_records` walks the pcap records in
 * place (run), as a capture file read into memory is filtered; that walk is bound by the
 * latency of each record's caplen load, since the next record's address depends on it.
 * Also the many-flows scenario: N MAPI flows `BPF_FILTER "tcp dst port i"` + PKT_COUNTER on one device.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openCaptureFile } from '../drivers/capture.js';
import type { CaptureError } from '../drivers/types.js';
import { PcapWriter, recordCaplen } from '../drivers/pcap-writer.js';
import { bpfFilterBench, libpcapAvailable, pcapCompile } from '../drivers/libpcap.js';
import { DEFAULT_BATCH_BYTES, MAX_CAPLEN, PAGE_BYTES, RECORD_HEADER_BYTES } from './abi.js';
import { compileFilter, type CompileOptions } from './compile.js';

export interface BenchRow {
  expr: string;
  packets: number;
  /** Through the record index (run_index): the figure to compare with libpcap's. */
  ns_per_pkt: number;
  /** Walking the pcap records in place (run). */
  ns_per_pkt_records: number;
  compile_ms: number;
  libpcap_ns_per_pkt: number | null;
}

/** Best time in ms of one call of `fn`, over `rounds` samples of `reps` calls each. */
function bestMs(fn: () => unknown, rounds: number, reps: number): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, (performance.now() - t) / reps);
  }
  return best;
}

/**
 * fpl bench runs a capture's packets from memory: all of them, up to this many bytes of records
 * (the first packets of a larger capture). The module is compiled with a batch area that holds them.
 */
export const MAX_BENCH_BYTES = 32 * 1024 * 1024;

/** A capture's packets loaded for fpl bench; `error`: a malformed record ended them early. */
export interface Preloaded { records: Uint8Array; packets: number; linkType: number; snaplen: number; error?: CaptureError }

/** The capture's records in the ABI's layout, up to `maxBytes` of them (whole records only). */
export function preload(capture: string, maxBytes = MAX_BENCH_BYTES): Preloaded {
  const src = openCaptureFile(capture);
  try {
    let buf = new Uint8Array(DEFAULT_BATCH_BYTES);
    let bytes = 0, packets = 0, linkType = -1;
    for (;;) {
      // Room for at least one record of any size (MAX_CAPLEN bounds every record the reader
      // returns), or stop: the reader refuses a batch that cannot hold its next record.
      if (buf.length - bytes < RECORD_HEADER_BYTES + MAX_CAPLEN) {
        if (buf.length >= maxBytes) break;
        const grown = new Uint8Array(Math.min(buf.length * 2, maxBytes));
        grown.set(buf.subarray(0, bytes));
        buf = grown;
      }
      const b = src.nextBatch(buf, bytes, buf.length - bytes);
      if (b.records === 0) break;
      if (linkType >= 0 && b.linkType !== linkType) break;   // a pcapng file whose interfaces differ: the first link type's packets
      linkType = b.linkType;
      bytes += b.bytes;
      packets += b.records;
    }
    if (packets === 0) throw new Error(src.error ? src.error.message : `${capture} has no packets`);
    return { records: buf.slice(0, bytes), packets, linkType, snaplen: src.info.snaplen, ...(src.error ? { error: src.error } : {}) };
  } finally {
    src.close();
  }
}

/**
 * A small capture's records repeated until they make at least MIN_RUN_PACKETS packets (within
 * the batch area), so that one pass over them is not timer resolution and call overhead.
 * Both fplc and libpcap run the repeated records.
 */
const MIN_RUN_PACKETS = 4096;

function repeated(records: Uint8Array, packets: number): { records: Uint8Array; packets: number } {
  const times = Math.min(Math.ceil(MIN_RUN_PACKETS / packets), Math.max(1, Math.floor(DEFAULT_BATCH_BYTES / records.length)));
  if (times <= 1) return { records, packets };
  const out = new Uint8Array(records.length * times);
  for (let i = 0; i < times; i++) out.set(records, i * records.length);
  return { records: out, packets: packets * times };
}

/** `capture`: a capture file, or its packets already loaded by preload. */
export async function benchExpressions(capture: string | Preloaded, exprs: readonly string[], opts: { rounds?: number; language?: CompileOptions['language'] } = {}): Promise<BenchRow[]> {
  const loaded = typeof capture === 'string' ? preload(capture) : capture;
  const { linkType, snaplen } = loaded;
  const { records, packets } = repeated(loaded.records, loaded.packets);
  const rounds = opts.rounds ?? 20;
  const batchBytes = Math.max(DEFAULT_BATCH_BYTES, Math.ceil(records.length / PAGE_BYTES) * PAGE_BYTES);
  const rows: BenchRow[] = [];
  for (const expr of exprs) {
    const t0 = performance.now();
    const filter = await compileFilter(expr, { language: opts.language ?? 'pcap', linkType, snaplen, batchBytes });
    const compileMs = performance.now() - t0;
    filter.stageIndexedRecords(records);   // the index is built here, outside the timing
    // Each timed sample runs the packets enough times to last ~1 ms (small captures, coarse clocks).
    const reps = Math.max(1, Math.ceil(200_000 / packets));
    const indexMs = bestMs(() => filter.runStagedIndex(), rounds, reps);
    const recordsMs = bestMs(() => filter.runStaged(), rounds, reps);
    let lib: number | null = null;
    if ((opts.language ?? 'pcap') === 'pcap' && libpcapAvailable()) {
      const lp = pcapCompile(expr, { linkType, snaplen, optimize: true });
      if (lp.ok) lib = bpfFilterBench(lp.insns, records, undefined, rounds * Math.max(1, Math.ceil(200_000 / packets)));
    }
    rows.push({ expr, packets: loaded.packets, ns_per_pkt: (indexMs * 1e6) / packets, ns_per_pkt_records: (recordsMs * 1e6) / packets,
      compile_ms: compileMs, libpcap_ns_per_pkt: lib });
  }
  return rows;
}

/**
 * benchFlows runs a capture of fewer packets than this repeated (a temporary pcap file), so
 * that a device's fixed costs (opening the file, scheduling its batches) do not dominate.
 */
export const MIN_FLOW_PACKETS = 200_000;

/** The capture's packets written again and again into a temporary pcap file, or undefined if it is big enough. */
function repeatedCapture(capture: string): { path: string; remove(): void } | undefined {
  const src = openCaptureFile(capture);
  const chunks: Uint8Array[] = [];
  let packets = 0, linkType = -1;
  try {
    const buf = new Uint8Array(DEFAULT_BATCH_BYTES);
    for (;;) {
      const b = src.nextBatch(buf, 0, buf.length);
      if (b.records === 0) break;
      if (linkType >= 0 && b.linkType !== linkType) return undefined;   // one link type per pcap file
      linkType = b.linkType;
      chunks.push(buf.slice(0, b.bytes));
      packets += b.records;
      if (packets >= MIN_FLOW_PACKETS) return undefined;
    }
  } finally {
    src.close();
  }
  if (packets === 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'fplc-flows-'));
  const path = join(dir, 'repeated.pcap');
  const w = new PcapWriter(path, { linkType, snaplen: src.info.snaplen, nanoseconds: src.info.nanoseconds });
  try {
    for (let n = 0; n < MIN_FLOW_PACKETS; n += packets) {
      for (const c of chunks) {
        for (let off = 0; off < c.length; off += RECORD_HEADER_BYTES + recordCaplen(c, off)) w.writeRecord(c, off);
      }
    }
  } finally {
    w.close();
  }
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * ns per packet of a device with `n` flows `tcp dst port i` + PKT_COUNTER over the capture, one
 * pass from start to finish; the best of `rounds` devices (reading the file and collecting the
 * set-up's garbage make single passes noisy). compile_ms is the first device's set-up. A small
 * capture is run repeated (MIN_FLOW_PACKETS); `packets` says how many packets a pass had.
 */
export async function benchFlows(capture: string, n: number, rounds = 3): Promise<{ flows: number; ns_per_pkt: number; packets: number; compile_ms: number }> {
  const { Device } = await import('./mapi/index.js');
  const repeat = repeatedCapture(capture);
  let best = Infinity, packets = 0, compileMs = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      const dev = await Device.offline(repeat?.path ?? capture);
      try {
        const t0 = performance.now();
        const flows = Array.from({ length: n }, (_, i) => {
          const flow = dev.flow();
          flow.apply('BPF_FILTER', `tcp dst port ${i}`);
          flow.apply('PKT_COUNTER');
          return flow;
        });
        await Promise.all(flows.map((f) => f.connect()));
        if (r === 0) compileMs = performance.now() - t0;
        const t1 = performance.now();
        await dev.start();
        await dev.finished();
        const ms = performance.now() - t1;
        packets = Number(dev.packets);
        best = Math.min(best, (ms * 1e6) / Math.max(1, packets));
      } finally {
        dev.delete();
      }
    }
  } finally {
    repeat?.remove();
  }
  return { flows: n, ns_per_pkt: best, packets, compile_ms: compileMs };
}
