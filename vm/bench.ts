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
import { CaptureError } from '../drivers/types.js';
import { PcapWriter } from '../drivers/pcap-writer.js';
import { bpfFilterBench, libpcapAvailable, pcapCompileIsolated, type BpfInsn } from '../drivers/libpcap.js';
import { DEFAULT_BATCH_BYTES, MAX_CAPLEN, PAGE_BYTES, RECORD_HEADER_BYTES, recordCaplen } from '../abi/index.js';
import { compileFilter, type CompileOptions } from './compile.js';
import type { CompiledFilter } from './filter.js';

export interface BenchRow {
  expr: string;
  packets: number;
  /** Through the record index (run_index): the figure to compare with libpcap's. */
  ns_per_pkt: number;
  /** Walking the pcap records in place (run). */
  ns_per_pkt_records: number;
  compile_ms: number;
  libpcap_ns_per_pkt: number | null;
  /** Present (false) when libpcap's program ran unoptimized (LIBPCAP_OPTIMIZE_MAX_INSNS). */
  libpcap_optimized?: false;
  /** Why libpcap was not measured, when it could not compile the expression (too slow, crashed, rejected it). */
  libpcap_error?: string;
}

/** The fastest of `n` calls of `fn`, in ms. */
function fastestMs(fn: () => unknown, n: number): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** Per packet, in ns: fplc through the index and walking the records, and libpcap (null: not run). */
export interface SideBySide { indexNs: number; recordsNs: number; libpcapNs: number | null }

/**
 * fplc's two loops and libpcap's bpf_filter on the same staged packets, each figure the fastest
 * single pass over them. The three are sampled in turns, `rounds` times, so that a change in the
 * machine's load during the run (a shared VM's neighbours) weighs on all of them alike. V8
 * optimizes the loops first (untimed runs, then settle). `packets`: passes × packets per pass
 * is what one sample ran; small captures are run repeated to last long enough (see repeated()).
 */
export async function sideBySide(filter: CompiledFilter, records: Uint8Array, packets: number,
  libpcapInsns: readonly BpfInsn[] | null, rounds = 20): Promise<SideBySide> {
  filter.stageIndexedRecords(records);   // the index is built here, outside the timing
  // libpcap runs on the staged copy itself: one copy of the packets in the caches, not two
  // (with two, a 20,000-packet trace of full-size frames no longer fits the L3 cache).
  const shared = filter.stagedRecords();
  for (let i = 0; i < 3; i++) { filter.runStagedIndex(); filter.runStaged(); }
  await settle();
  // Each turn runs each loop enough passes to take ~0.5 ms at least.
  const passes = Math.max(1, Math.ceil(100_000 / packets));
  let index = Infinity, walk = Infinity, lib = Infinity, libSpentMs = 0, libPasses = 1;
  for (let r = 0; r < rounds; r++) {
    index = Math.min(index, fastestMs(() => filter.runStagedIndex(), passes));
    walk = Math.min(walk, fastestMs(() => filter.runStaged(), passes));
    // libpcap on a long unoptimized program takes µs per packet: a pass then lasts long
    // enough alone, and three turns suffice.
    if (libpcapInsns && (r < 3 || libSpentMs < 1000)) {
      const t = performance.now();
      lib = Math.min(lib, bpfFilterBench(libpcapInsns, shared, undefined, libPasses) * packets / 1e6);
      libSpentMs += performance.now() - t;
      if (r === 0) libPasses = Math.min(passes, Math.max(1, Math.ceil(0.5 / lib)));
    }
  }
  const perPacket = (ms: number) => (ms * 1e6) / packets;
  return { indexNs: perPacket(index), recordsNs: perPacket(walk), libpcapNs: libpcapInsns ? perPacket(lib) : null };
}

/**
 * Waits until the process's other threads are idle: V8 optimizes hot WebAssembly functions on
 * background threads (after a compile, binaryen's own code for half a second on 2 cores; a
 * filter's run loop ~100 ms after its first runs), and a sample taken meanwhile measures a
 * filter still in baseline code beside a busy CPU. The main thread sleeps in slices; the
 * process's CPU time during a slice is then the other threads' work. Gives up after `maxMs`.
 */
export async function settle(maxMs = 3000): Promise<void> {
  const end = performance.now() + maxMs;
  while (performance.now() < end) {
    const cpu0 = process.cpuUsage(), t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cpu = process.cpuUsage(cpu0);
    const busy = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
    if (busy < 0.05) return;
  }
}

/**
 * fpl bench runs a capture's packets from memory: all of them, up to this many bytes of records
 * (the first packets of a larger capture). The module is compiled with a batch area that holds them.
 */
export const MAX_BENCH_BYTES = 32 * 1024 * 1024;

/**
 * A capture's packets loaded for fpl bench; `error`: a malformed record ended them early;
 * `rest`: why packets after these were left (MAX_BENCH_BYTES reached, or the link type changes).
 */
export interface Preloaded { records: Uint8Array; packets: number; linkType: number; snaplen: number; error?: CaptureError; rest?: 'size' | 'linktype' }

/** The capture's records in the ABI's layout, up to `maxBytes` of them (whole records only). */
export function preload(capture: string, maxBytes = MAX_BENCH_BYTES): Preloaded {
  const src = openCaptureFile(capture);
  try {
    let buf = new Uint8Array(DEFAULT_BATCH_BYTES);
    let bytes = 0, packets = 0, linkType = -1;
    let rest: Preloaded['rest'];
    for (;;) {
      // Room for at least one record of any size (MAX_CAPLEN bounds every record the reader
      // returns), or stop: the reader refuses a batch that cannot hold its next record.
      if (buf.length - bytes < RECORD_HEADER_BYTES + MAX_CAPLEN) {
        if (buf.length >= maxBytes) { rest = 'size'; break; }
        const grown = new Uint8Array(Math.min(buf.length * 2, maxBytes));
        grown.set(buf.subarray(0, bytes));
        buf = grown;
      }
      const b = src.nextBatch(buf, bytes, buf.length - bytes);
      if (b.records === 0) break;
      // A pcapng file whose interfaces differ: the first link type's packets.
      if (linkType >= 0 && b.linkType !== linkType) { rest = 'linktype'; break; }
      linkType = b.linkType;
      bytes += b.bytes;
      packets += b.records;
    }
    if (packets === 0) throw noPackets(capture, src.error);
    const error = src.error;
    // At the size limit with nothing left to read, nothing was left out.
    if (rest === 'size' && src.nextBatch(new Uint8Array(RECORD_HEADER_BYTES + MAX_CAPLEN), 0, RECORD_HEADER_BYTES + MAX_CAPLEN).records === 0) rest = undefined;
    return { records: buf.slice(0, bytes), packets, linkType, snaplen: src.info.snaplen, ...(error ? { error } : {}), ...(rest ? { rest } : {}) };
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

/**
 * libpcap's optimizer takes time that grows with the cube of a program's length (200 `host`
 * terms: 0.4 s, 300: 1.3 s, 1,000: about a minute). Programs longer than this many instructions
 * unoptimized are measured unoptimized (the row says so), like libpcap's own `-O`.
 */
export const LIBPCAP_OPTIMIZE_MAX_INSNS = 1500;

/**
 * libpcap's program for `expr` (compiled in a child process: pcapCompileIsolated), null when
 * libpcap is not available, or why it has none.
 */
function libpcapProgram(expr: string, linkType: number, snaplen: number): { insns: readonly BpfInsn[]; optimized: boolean } | { error: string } | null {
  if (!libpcapAvailable()) return null;
  const plain = pcapCompileIsolated(expr, { linkType, snaplen, optimize: false });
  if (!plain.ok) return { error: plain.error };
  if (plain.insns.length > LIBPCAP_OPTIMIZE_MAX_INSNS) return { insns: plain.insns, optimized: false };
  const opt = pcapCompileIsolated(expr, { linkType, snaplen, optimize: true });
  return opt.ok ? { insns: opt.insns, optimized: true } : { insns: plain.insns, optimized: false };
}

/** `capture`: a capture file, or its packets already loaded by preload. */
export async function benchExpressions(capture: string | Preloaded, exprs: readonly string[], opts: { rounds?: number; language?: CompileOptions['language'] } = {}): Promise<BenchRow[]> {
  const loaded = typeof capture === 'string' ? preload(capture) : capture;
  const { linkType, snaplen } = loaded;
  const { records, packets } = repeated(loaded.records, loaded.packets);
  const rounds = opts.rounds ?? 20;
  const batchBytes = Math.max(DEFAULT_BATCH_BYTES, Math.ceil(records.length / PAGE_BYTES) * PAGE_BYTES);
  const rows: BenchRow[] = [];
  const language = opts.language ?? 'pcap';
  // compile_ms is compiling, not what a process pays once: loading binaryen and the front end,
  // and the first compile's warm-up of their code (~0.7 s together); a compile of the first
  // expression, untimed, pays it.
  if (exprs.length) await compileFilter(exprs[0]!, { language, linkType, snaplen });
  for (const expr of exprs) {
    const t0 = performance.now();
    const filter = await compileFilter(expr, { language, linkType, snaplen, batchBytes });
    const compileMs = performance.now() - t0;
    const lib = language === 'pcap' ? libpcapProgram(expr, linkType, snaplen) : null;
    const prog = lib && 'insns' in lib ? lib : undefined;
    const m = await sideBySide(filter, records, packets, prog?.insns ?? null, rounds);
    rows.push({ expr, packets: loaded.packets, ns_per_pkt: m.indexNs, ns_per_pkt_records: m.recordsNs,
      compile_ms: compileMs, libpcap_ns_per_pkt: m.libpcapNs, ...(prog && !prog.optimized ? { libpcap_optimized: false } : {}),
      ...(lib && 'error' in lib ? { libpcap_error: lib.error } : {}) });
  }
  return rows;
}

/** The error for a capture with no packets to measure: why, if reading it stopped at a malformed record. */
function noPackets(capture: string, error: CaptureError | undefined): CaptureError {
  return new CaptureError(`${capture}: ${error ? error.message : 'has no packets'}`);
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
  if (packets === 0) throw noPackets(capture, src.error);
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

/** One device over the capture: its flow count, ns per packet, packets per pass and set-up time. */
export interface FlowRow { flows: number; ns_per_pkt: number; packets: number; compile_ms: number }

/**
 * ns per packet of a device with `n` flows `tcp dst port i` + PKT_COUNTER over the capture, one
 * pass from start to finish, for each n in `counts`. Each round sets up a device per count and
 * runs them in turn, so that a change in the machine's load (reading the file, a shared VM's
 * neighbours) weighs on every count alike; each figure is the best of `rounds`. A device runs
 * once its module is optimized (settle), as a long-running one does. compile_ms is the first
 * round's set-up. A small capture is run repeated (MIN_FLOW_PACKETS); `packets` says how many
 * packets a pass had.
 */
export async function benchFlowCounts(capture: string, counts: readonly number[], rounds = 3): Promise<FlowRow[]> {
  const { Device } = await import('./mapi/index.js');
  const repeat = repeatedCapture(capture);
  const rows: FlowRow[] = counts.map((n) => ({ flows: n, ns_per_pkt: Infinity, packets: 0, compile_ms: 0 }));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const row of rows) {
        const dev = await Device.offline(repeat?.path ?? capture);
        try {
          const t0 = performance.now();
          const flows = Array.from({ length: row.flows }, (_, i) => {
            const flow = dev.flow();
            flow.apply('BPF_FILTER', `tcp dst port ${i}`);
            flow.apply('PKT_COUNTER');
            return flow;
          });
          await Promise.all(flows.map((f) => f.connect()));
          if (r === 0) row.compile_ms = performance.now() - t0;
          await settle();
          const t1 = performance.now();
          await dev.start();
          await dev.finished();
          const ms = performance.now() - t1;
          row.packets = Number(dev.packets);
          row.ns_per_pkt = Math.min(row.ns_per_pkt, (ms * 1e6) / Math.max(1, row.packets));
        } finally {
          dev.delete();
        }
      }
    }
  } finally {
    repeat?.remove();
  }
  return rows;
}

/** benchFlowCounts for one flow count. */
export async function benchFlows(capture: string, n: number, rounds = 3): Promise<FlowRow> {
  return (await benchFlowCounts(capture, [n], rounds))[0]!;
}
