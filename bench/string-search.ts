/**
 * P5, string search: STR_SEARCH compiled into the module (the IR's `search` node, SIMD scans in
 * WebAssembly) against a memmem baseline (Node's Buffer.indexOf, one call per pattern per
 * packet) and against ngrep reading the same packets from a pcap file, all in one run on the
 * same data. Figures are GB/s of TCP payload searched (10^9 bytes per second, one core).
 *
 * The trace: 1514-byte Ethernet/IPv4/TCP frames whose 1460-byte payloads are random text
 * (letters, digits, spaces, punctuation: what a text protocol's bytes look like to a scanner);
 * one packet in 64 has a pattern planted at a random place, so matches are rare and most bytes
 * are scanned to the end. Every engine's match count is checked against the others.
 *
 * Two scenarios: one STR_SEARCH whose pattern has N alternatives (`a||b||…`, compiled as one
 * program), and N flows on one MAPI device, each STR_SEARCH of one word + PKT_COUNTER, reading
 * the pcap file ngrep reads (what a monitoring application does; the IR pass searchmerge.ts
 * makes the flows share one scan per packet). For the flows, every flow's count is checked
 * against memmem's count of its word, and ngrep's (any word) against memmem's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { STR_SEARCH, strSearchExpr, type StrSearchConfig } from '../hostfns/mapi-str-search.js';
import type { Program } from '../lang/ir/ir.js';
import { RECORD_HEADER_BYTES } from '../abi/index.js';
import { compileProgram } from '../vm/compile.js';

const HEADERS = 54;   // Ethernet 14 + IPv4 20 + TCP 20
const FRAME = 1514;
const TEXT = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      .,:;-_/=?&';

export interface SearchRow {
  /** One STR_SEARCH with `patterns` alternatives, or `patterns` flows of one word each. */
  scenario: 'alternatives' | 'flows';
  patterns: number;
  payloadBytes: number;
  fplcGBs: number;
  memmemGBs: number;
  ngrepGBs?: number;
  /** Matching packets per copy of the trace (flows: summed over the flows; ngrep: any word). */
  matches: { fplc: number; memmem: number; ngrep?: number };
  /** Whether every engine agrees (flows: each flow with memmem, ngrep with memmem's any-word count). */
  agree: boolean;
}

class Rng {
  constructor(private s: number) {}
  int(n: number): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return Math.floor((this.s / 2 ** 32) * n);
  }
}

function textBytes(r: Rng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => TEXT.charCodeAt(r.int(TEXT.length)));
}

/** `count` distinct words of 6 to 14 letters (no regex or Snort metacharacters). */
function words(r: Rng, count: number): string[] {
  const out = new Set<string>();
  while (out.size < count) {
    out.add(Array.from({ length: 6 + r.int(9) }, () => String.fromCharCode(97 + r.int(26))).join(''));
  }
  return [...out];
}

function frame(payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(HEADERS + payload.length);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, 0x0800);
  f[14] = 0x45; dv.setUint16(16, f.length - 14); f[22] = 64; f[23] = 6;
  f.set([10, 0, 0, 1], 26); f.set([10, 0, 0, 2], 30);
  dv.setUint16(34, 40000); dv.setUint16(36, 80); f[46] = 0x50; f[47] = 0x18;
  f.set(payload, HEADERS);
  return f;
}

function trace(seed: number, packets: number, patterns: string[]): Uint8Array[] {
  const r = new Rng(seed);
  return Array.from({ length: packets }, () => {
    const payload = textBytes(r, FRAME - HEADERS);
    if (r.int(64) === 0) {
      const p = patterns[r.int(patterns.length)]!;
      payload.set(new TextEncoder().encode(p), r.int(payload.length - p.length + 1));
    }
    return frame(payload);
  });
}

function records(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + RECORD_HEADER_BYTES + f.length, 0));
  const dv = new DataView(out.buffer);
  let off = 0;
  for (const f of frames) {
    dv.setUint32(off + 8, f.length, true); dv.setUint32(off + 12, f.length, true);
    out.set(f, off + RECORD_HEADER_BYTES);
    off += RECORD_HEADER_BYTES + f.length;
  }
  return out;
}

function pcapFile(path: string, frames: Uint8Array[], repeat: number): void {
  const one = records(frames);
  const out = new Uint8Array(24 + one.length * repeat);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true); dv.setUint16(4, 2, true); dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true); dv.setUint32(20, 1, true);
  for (let i = 0; i < repeat; i++) out.set(one, 24 + i * one.length);
  writeFileSync(path, out);
}

function best(rounds: number, f: () => void): number {
  let t = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    f();
    t = Math.min(t, performance.now() - t0);
  }
  return t / 1000;
}

function haveNgrep(): boolean {
  try { execFileSync('ngrep', ['-V'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** ngrep over a pcap file: seconds (best of `rounds`, whole process) and matching packets. */
function ngrep(path: string, patterns: string[], rounds: number): { seconds: number; matches: number } {
  let seconds = Infinity;
  let matches = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const out = execFileSync('ngrep', ['-q', '-I', path, patterns.join('|')], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    seconds = Math.min(seconds, (performance.now() - t0) / 1000);
    matches = out.split('\n').filter((l) => l.startsWith('T ')).length;
  }
  return { seconds, matches };
}

export async function stringSearchBench(opts: { packets?: number; rounds?: number; patternCounts?: number[]; flowCounts?: number[] } = {}): Promise<SearchRow[]> {
  const packets = opts.packets ?? 2700;   // 4 MB of records: one batch
  const rounds = opts.rounds ?? 20;
  const rows: SearchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fplc-p5-'));
  try {
    for (const count of opts.patternCounts ?? [1, 100]) {
      const patterns = words(new Rng(count), count);
      const frames = trace(0x5eed + count, packets, patterns);
      const payloadBytes = packets * (FRAME - HEADERS);

      // fplc: STR_SEARCH(pattern||pattern||…, offset 54, depth 0), as MAPI instantiates it.
      const made = STR_SEARCH.instance([patterns.join('||'), HEADERS, 0], {} as never);
      if (!made.ok) throw new Error(made.message);
      const config: StrSearchConfig = made.config;
      const program: Program = { body: { k: 'return', value: strSearchExpr(config) }, linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
      const filter = await compileProgram(program);
      filter.stageRecords(records(frames));
      const fplcSeconds = best(rounds, () => filter.runStaged());
      const fplcMatches = filter.runStaged().reduce((n, v) => n + v, 0);

      // memmem: Buffer.indexOf over each payload, pattern after pattern.
      const views = frames.map((f) => Buffer.from(f.buffer, f.byteOffset + HEADERS, f.length - HEADERS));
      const needles = patterns.map((p) => Buffer.from(p, 'latin1'));
      let memmemMatches = 0;
      const memmemSeconds = best(Math.max(3, Math.ceil(rounds / count)), () => {
        memmemMatches = 0;
        for (const v of views) if (needles.some((n) => v.indexOf(n) >= 0)) memmemMatches++;
      });

      const row: SearchRow = {
        scenario: 'alternatives', patterns: count, payloadBytes, agree: fplcMatches === memmemMatches, fplcGBs: payloadBytes / fplcSeconds / 1e9, memmemGBs: payloadBytes / memmemSeconds / 1e9,
        matches: { fplc: fplcMatches, memmem: memmemMatches },
      };
      if (haveNgrep()) {
        // A file 10 times the trace, so that ngrep's start-up is small against its scan.
        const repeat = 10;
        const path = join(dir, `p5-${count}.pcap`);
        pcapFile(path, frames, repeat);
        const r = ngrep(path, patterns, 3);
        row.ngrepGBs = (payloadBytes * repeat) / r.seconds / 1e9;
        row.matches.ngrep = r.matches / repeat;
        row.agree &&= row.matches.ngrep === fplcMatches;
      }
      rows.push(row);
    }
    for (const count of opts.flowCounts ?? [100]) rows.push(await flowsRow(count, packets, Math.max(2, Math.ceil(rounds / 7)), dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/**
 * `count` flows on one device, flow i = STR_SEARCH(word i, 54, 0) + PKT_COUNTER, over a pcap
 * file of the trace repeated 10 times; timed from start to finished (compiling is not counted).
 */
async function flowsRow(count: number, packets: number, rounds: number, dir: string): Promise<SearchRow> {
  const { Device } = await import('../vm/mapi/index.js');
  const patterns = words(new Rng(count + 7), count);
  const frames = trace(0xf10 + count, packets, patterns);
  const repeat = 10;
  const path = join(dir, `p5-flows-${count}.pcap`);
  pcapFile(path, frames, repeat);
  const payloadBytes = packets * (FRAME - HEADERS);

  let fplcSeconds = Infinity;
  let counts: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const dev = await Device.offline(path);
    try {
      const flows = patterns.map((p) => {
        const flow = dev.flow();
        flow.apply('STR_SEARCH', p, HEADERS, 0);
        return { flow, counter: flow.apply('PKT_COUNTER') };
      });
      await Promise.all(flows.map((f) => f.flow.connect()));
      const t0 = performance.now();
      await dev.start();
      await dev.finished();
      fplcSeconds = Math.min(fplcSeconds, (performance.now() - t0) / 1000);
      counts = flows.map((f) => Number(f.flow.read(f.counter)));
    } finally {
      dev.delete();
    }
  }

  // memmem: every flow searches every packet for its word.
  const views = frames.map((f) => Buffer.from(f.buffer, f.byteOffset + HEADERS, f.length - HEADERS));
  const needles = patterns.map((p) => Buffer.from(p, 'latin1'));
  let perWord: number[] = [];
  let any = 0;
  const memmemSeconds = best(3, () => {
    perWord = needles.map(() => 0);
    any = 0;
    for (const v of views) {
      let hit = false;
      needles.forEach((n, i) => { if (v.indexOf(n) >= 0) { perWord[i]!++; hit = true; } });
      if (hit) any++;
    }
  });
  const sum = (xs: number[]) => xs.reduce((n, v) => n + v, 0);
  const row: SearchRow = {
    scenario: 'flows', patterns: count, payloadBytes,
    fplcGBs: (payloadBytes * repeat) / fplcSeconds / 1e9, memmemGBs: payloadBytes / memmemSeconds / 1e9,
    matches: { fplc: sum(counts) / repeat, memmem: sum(perWord) },
    agree: counts.length === count && counts.every((n, i) => n === perWord[i]! * repeat),
  };
  if (haveNgrep()) {
    const r = ngrep(path, patterns, 3);
    row.ngrepGBs = (payloadBytes * repeat) / r.seconds / 1e9;
    row.matches.ngrep = r.matches / repeat;
    row.agree &&= row.matches.ngrep === any;
  }
  return row;
}

/** How a row names its scenario in tables. */
export const scenarioName = (r: SearchRow): string =>
  r.scenario === 'flows' ? `${r.patterns} flows, 1 pattern each` : `${r.patterns} pattern${r.patterns > 1 ? 's' : ''}`;

export function printStringSearch(rows: SearchRow[]): void {
  console.log('P5 string search, GB/s of TCP payload per core (1460-byte random-text payloads, best round)');
  console.log('scenario                    fplc (WASM)   memmem (Buffer.indexOf)   ngrep        fplc/memmem   matches fplc/memmem/ngrep');
  for (const r of rows) {
    const ngrep = r.ngrepGBs === undefined ? 'not installed' : `${r.ngrepGBs.toFixed(2)} GB/s`;
    const ratio = (r.fplcGBs / r.memmemGBs).toFixed(1);
    console.log(`${scenarioName(r).padEnd(24)}    ${r.fplcGBs.toFixed(2).padStart(6)} GB/s   ${r.memmemGBs.toFixed(2).padStart(10)} GB/s           ` +
      `${ngrep.padEnd(13)}${ratio.padStart(6)}×        ${r.matches.fplc}/${r.matches.memmem}/${r.matches.ngrep ?? '-'}`);
  }
}

/** Whether every engine found the same packets (ngrep counts packets as it prints them). */
export const searchAgrees = (rows: SearchRow[]): boolean => rows.every((r) => r.agree);
