/**
 * run_index, the batch entry that takes a precomputed index of record offsets (abi/index.ts):
 * it must give exactly what `run` gives on the same records, in any index order; it trusts its
 * entries, but stops before an entry or result slot outside the memory, never trapping there.
 * stageIndex checks the entries run_index trusts: a staged run stops exactly at the first entry
 * that names no whole staged record. The oracle is a plain model of the spec over a copy of
 * the memory, with the reference interpreter judging each packet.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { bin, c, load, ret, seq, type Expr, type Program, type Stmt } from '../../lang/ir/ir.js';
import { compileWasm } from '../../codegen/wasm/index.js';
import { compileFilter, compileProgram } from '../../vm/compile.js';
import { CTRL_BATCH_STOP, CTRL_PACKETS, CTRL_RECORD_LIMIT, MAX_CAPLEN, PAGE_BYTES, RECORD_HEADER_BYTES, REGS_OFF } from '../../abi/index.js';
import { corpusTrace } from '../../bench/trace.js';
import { benchExpressions, preload } from '../../vm/bench.js';
import { PcapWriter } from '../../drivers/pcap-writer.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPICAL_FILTERS } from '../../bench/filter-cost.js';
import { haveCorpus, need } from '../support/env.js';
import { toRecords, type RecordPacket } from '../support/records.js';

const meta = (m: 'caplen' | 'wirelen' | 'tssec' | 'tsfrac'): Expr => ({ k: 'meta', m });
const reg = (n: number): Expr => ({ k: 'reg', n });
const setreg = (n: number, value: Expr): Stmt => ({ k: 'setreg', n, value });

/** Counts the packets it runs in R[0] and returns something of every part of the record (0 on an empty packet: the load faults). */
const probe: Program = {
  body: seq(setreg(0, bin('add', reg(0), c(1))),
    ret(bin('xor', bin('add', meta('tssec'), bin('shl', meta('tsfrac'), c(8))), bin('add', meta('wirelen'), bin('shl', load(0, 1), c(24)))))),
  linkType: 1, registers: 1, memoryCells: 16, locals: 0, externs: [], fuel: 100,
};

/** The probe compiled with the smallest batch area, instantiated on a memory of its own. */
function rawModule() {
  const { wasm, meta: m } = compileWasm(probe, { batchBytes: MAX_CAPLEN + RECORD_HEADER_BYTES });
  const memory = new WebAssembly.Memory({ initial: m.pages, maximum: m.pages });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), { env: { memory } });
  return {
    meta: m,
    memBytes: m.pages * PAGE_BYTES,
    bytes: new Uint8Array(memory.buffer),
    words: new Uint32Array(memory.buffer),
    runIndex: instance.exports.run_index as (start: number, end: number, index: number, count: number, out: number) => number,
  };
}
type Raw = ReturnType<typeof rawModule>;

/**
 * The spec over `mem` (a copy of the memory, updated as the module would): the results and
 * where the run stops. For run_index itself the entries must be good (it trusts them): then
 * only the memory bounds of entries and slots stop it. The record checks are those stageIndex
 * makes for it (start = the staged records, limit = MAX_CAPLEN).
 */
function model(mem: Uint8Array, args: { start: number; end: number; index: number; count: number; out: number; limit: number }) {
  const view = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  const end = Math.min(args.end, mem.length);
  const state = newState(probe);
  const results: number[] = [];
  for (let i = 0; i < args.count; i++) {
    const entry = args.index + 4 * i, slot = args.out + 4 * i;
    if (entry + 4 > mem.length || slot + 4 > mem.length) break;
    const p = view.getUint32(entry, true);
    if (p < args.start || p + RECORD_HEADER_BYTES > end) break;
    const caplen = view.getUint32(p + 8, true);
    if (caplen > args.limit || p + RECORD_HEADER_BYTES + caplen > end) break;
    const packet = mem.slice(p + RECORD_HEADER_BYTES, p + RECORD_HEADER_BYTES + caplen);
    const r = runPacket(probe, state, packet, view.getUint32(p + 12, true),
      { timestamp: [view.getUint32(p, true), view.getUint32(p + 4, true)] }).result;
    view.setUint32(slot, r, true);
    results.push(r);
  }
  return { results, stop: args.index + 4 * results.length };
}

/** Runs run_index and the model from the same memory and requires the same results, stop, counters and memory. */
function agree(raw: Raw, args: { start: number; end: number; index: number; count: number; out: number; limit: number }): number {
  raw.words[CTRL_RECORD_LIMIT / 4] = args.limit;
  raw.words[CTRL_PACKETS / 4] = 0;
  raw.words[REGS_OFF / 4] = 0;
  const before = raw.bytes.slice();
  const want = model(before, args);
  const n = raw.runIndex(args.start >>> 0, args.end >>> 0, args.index >>> 0, args.count >>> 0, args.out >>> 0);
  expect(n).toBe(want.results.length);
  expect(raw.words[CTRL_BATCH_STOP / 4]).toBe(want.stop >>> 0);
  expect(raw.words[CTRL_PACKETS / 4]).toBe(n);
  expect(raw.words[REGS_OFF / 4]).toBe(n);   // R[0]: the packets the filter really ran
  for (let i = 0; i < n; i++) expect(new DataView(raw.bytes.buffer).getUint32(args.out + 4 * i, true)).toBe(want.results[i]);
  // Nothing but the result slots, R[0] and the CTRL words changed.
  if (n > 0) before.set(raw.bytes.subarray(args.out, args.out + 4 * n), args.out);
  before.set(raw.bytes.subarray(0, 64), 0);
  before.set(raw.bytes.subarray(REGS_OFF, REGS_OFF + 4), REGS_OFF);
  expect(Buffer.compare(before, raw.bytes)).toBe(0);
  return n;
}

const packetArb = fc.record({
  bytes: fc.uint8Array({ maxLength: 40 }),
  wirelen: fc.nat({ max: 100 }),
  ts: fc.tuple(fc.nat(), fc.nat()),
}) as fc.Arbitrary<RecordPacket>;

/** Writes records at `base` (the batch area plus `shift`); returns their absolute offsets and the end. */
function place(raw: Raw, packets: RecordPacket[], shift: number): { offsets: number[]; base: number; end: number } {
  raw.bytes.fill(0xa5);   // poison: anything read outside the records is noticed by the model
  const base = raw.meta.batchOff + shift;
  const records = toRecords(packets);
  raw.bytes.set(records, base);
  const offsets: number[] = [];
  let off = base;
  for (const p of packets) { offsets.push(off); off += RECORD_HEADER_BYTES + p.bytes.length; }
  return { offsets, base, end: base + records.length };
}

function writeIndex(raw: Raw, at: number, entries: number[]): void {
  const view = new DataView(raw.bytes.buffer);
  entries.forEach((e, i) => { if (at + 4 * i + 4 <= raw.memBytes) view.setUint32(at + 4 * i, e >>> 0, true); });
}

describe('run_index', () => {
  it('gives run\'s results on corpus packets for the typical filters, in order, reversed and repeated', async (ctx) => {
    need(ctx, 'the tcpdump capture corpus', haveCorpus);
    const { records, packets } = corpusTrace(1, 3000, 1 << 20);
    const offsets: number[] = [];
    for (let off = 0; off < records.length; off += RECORD_HEADER_BYTES + new DataView(records.buffer).getUint32(off + 8, true)) offsets.push(off);
    expect(offsets.length).toBe(packets);
    for (const expr of [...TYPICAL_FILTERS, 'len > 100', 'ether[0] & 1 = 0 and ip[2:2] > 60']) {
      const f = await compileFilter(expr, { language: 'pcap', linkType: 1 });
      f.stageRecords(records);
      const walked = f.runStaged().slice();
      expect(walked.length, expr).toBe(packets);
      expect(f.stageIndexedRecords(records)).toBe(packets);
      expect([...f.runStagedIndex()], expr).toEqual([...walked]);
      const reversed = offsets.map((_, i) => offsets[offsets.length - 1 - i]!);
      f.stageIndex(reversed);
      expect([...f.runStagedIndex()], expr).toEqual([...walked].reverse());
      const picks = offsets.map((_, i) => (i * 7919) % packets);   // repeats and skips
      f.stageIndex(picks.map((j) => offsets[j]!));
      expect([...f.runStagedIndex()], expr).toEqual(picks.map((j) => walked[j]));
    }
  }, 60_000);

  it('runs the entries in index order (state carries from one entry to the next)', async () => {
    const f = await compileProgram({ ...probe, body: seq(setreg(0, bin('add', reg(0), c(1))), ret(bin('add', bin('shl', reg(0), c(8)), load(0, 1)))) });
    const records = toRecords([10, 11, 12].map((b) => ({ bytes: Uint8Array.of(b), wirelen: 1 })));
    f.stageRecords(records);
    f.stageIndex([34, 0, 34, 17]);
    expect([...f.runStagedIndex()]).toEqual([(1 << 8) + 12, (2 << 8) + 10, (3 << 8) + 12, (4 << 8) + 11]);
    expect(f.registers[0]).toBe(4);
    expect(f.packetsProcessed).toBe(4);
    f.stageIndex([0, 17, 51, 0]);   // 51 is the end of the staged records: the run stops there
    expect([...f.runStagedIndex()]).toEqual([(5 << 8) + 10, (6 << 8) + 11]);
  });

  it('fpl bench reports the indexed and the walking figure (a smoke run: the numbers are not judged)', async () => {
    const [row] = await benchExpressions(new URL('../../samples/web.pcap', import.meta.url).pathname, ['tcp port 80'], { rounds: 1 });
    expect(Object.keys(row!).sort()).toEqual(['compile_ms', 'expr', 'libpcap_ns_per_pkt', 'ns_per_pkt', 'ns_per_pkt_records', 'packets']);
    expect(row!.packets).toBe(191);
    expect(row!.ns_per_pkt).toBeGreaterThan(0);
    expect(row!.ns_per_pkt_records).toBeGreaterThan(0);
  });

  it('fpl bench runs every packet of a capture larger than the default batch area, each option checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-bench-'));
    try {
      const path = join(dir, 'big.pcap');
      const w = new PcapWriter(path, { linkType: 1, snaplen: 65535, nanoseconds: false });
      const frame = new Uint8Array(1500);
      frame.set([0x08, 0x00, 0x45], 12);   // IPv4, so that libpcap and fplc both look past the ethertype
      const n = 3500;   // 5.3 MB of records: more than the 4 MiB default
      for (let i = 0; i < n; i++) { frame[23] = i % 3 ? 6 : 17; w.writePacket(i, 0, frame); }
      w.close();
      const all = preload(path);
      expect(all.packets).toBe(n);
      expect(all.records.length).toBe(n * (RECORD_HEADER_BYTES + frame.length));
      expect(all.rest).toBeUndefined();
      const part = preload(path, 1 << 20);   // a cap keeps whole records only, and says it left some
      expect(part.records.length % (RECORD_HEADER_BYTES + frame.length)).toBe(0);
      expect(part.packets).toBeLessThan(n);
      expect(part.rest).toBe('size');
      const [row] = await benchExpressions(path, ['tcp'], { rounds: 1 });
      expect(row!.packets).toBe(n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await expect(compileFilter('tcp', { language: 'pcap', batchBytes: 1000 })).rejects.toThrow(/batchBytes must be a multiple of 65536/);
    const wide = await compileFilter('tcp', { language: 'pcap', batchBytes: 8 << 20 });
    expect(wide.meta.batchBytes).toBe(8 << 20);
  }, 30_000);

  it('rejects an index that does not fit or is not made of u32 offsets', async () => {
    const f = await compileProgram(probe, { batchBytes: MAX_CAPLEN + RECORD_HEADER_BYTES });
    expect(() => f.stageIndex([0, -1])).toThrow(/entry 1/);
    expect(() => f.stageIndex([0.5])).toThrow(/entry 0/);
    expect(() => f.stageIndex(new Array(f.meta.batchBytes / RECORD_HEADER_BYTES + 1).fill(0))).toThrow(/do not fit/);
    expect(() => f.stageIndexedRecords(Uint8Array.of(1, 2, 3))).toThrow(/no whole header/);
  });

  describe('trusts good entries and stops only at the memory\'s end, without trapping', () => {
    const raw = rawModule();
    const packets: RecordPacket[] = [3, 0, 5, 40, 2].map((n, i) => ({ bytes: Uint8Array.from({ length: n }, (_, j) => i * 16 + j), wirelen: n + 1, ts: [i, 7] }));
    const limit = MAX_CAPLEN;
    const setup = (shift = 0) => {
      const at = place(raw, packets, shift);
      return { ...at, index: raw.meta.resultsOff - 64 * 1024, out: raw.meta.resultsOff };
    };
    const run = (s: ReturnType<typeof setup>, entries: number[], over: Partial<Parameters<typeof agree>[1]> = {}) => {
      writeIndex(raw, over.index ?? s.index, entries);
      return agree(raw, { start: s.base, end: s.end, index: s.index, count: entries.length, out: s.out, limit, ...over });
    };

    it('good entries in any order, at unaligned offsets, through an unaligned index', () => {
      for (const shift of [0, 1, 2, 3]) {
        const s = setup(shift);
        const o = s.offsets;
        expect(run(s, [o[4]!, o[0]!, o[3]!, o[3]!, o[1]!, o[2]!])).toBe(6);
        expect(run(s, [o[2]!, o[0]!], { index: s.index + shift })).toBe(2);
      }
    });

    it('an index or result area that runs off the memory', () => {
      const s = setup(0);
      const o = s.offsets;
      expect(run(s, [o[0]!, o[1]!, o[2]!], { index: raw.memBytes - 8 })).toBe(2);
      expect(run(s, [o[0]!, o[1]!, o[2]!], { index: raw.memBytes - 7 })).toBe(1);
      expect(run(s, [o[0]!, o[1]!], { index: raw.memBytes + 100 })).toBe(0);
      expect(run(s, [o[0]!, o[1]!, o[2]!], { out: raw.memBytes - 4 })).toBe(1);
      expect(run(s, [o[0]!, o[1]!, o[2]!], { out: 0xfffffffc })).toBe(0);
      expect(run(s, [o[0]!], { count: 0 })).toBe(0);
    });

    it('runs a huge count only as far as the index and result slots lie in the memory', () => {
      const s = setup(0);
      // Every entry from the index area to the memory's end names record 0. The results go
      // before the entries, so a result overwrites only an entry already run (as in the layout).
      const index = raw.meta.indexOff!;
      const slots = (raw.memBytes - index) / 4;
      writeIndex(raw, index, new Array(slots).fill(s.offsets[0]!));
      const n = raw.runIndex(s.base, s.end, index, 0xffffffff, s.out);
      expect(n).toBe(slots);
      expect(raw.words[CTRL_BATCH_STOP / 4]).toBe(index + 4 * n);
    });
  });

  it('matches the spec on random records and good index entries', () => {
    const raw = rawModule();
    fc.assert(fc.property(
      fc.array(packetArb, { minLength: 1, maxLength: 12 }).chain((packets) => fc.record({
        packets: fc.constant(packets),
        shift: fc.nat({ max: 3 }),
        picks: fc.array(fc.nat({ max: packets.length - 1 }), { maxLength: 20 }),
        where: fc.constantFrom('apart', 'unaligned', 'memory end', 'results at memory end'),
      })),
      ({ packets, shift, picks, where }) => {
        const at = place(raw, packets, shift);
        const list = picks.map((j) => at.offsets[j]!);
        const index = where === 'memory end' ? raw.memBytes - 4 * Math.floor(list.length / 2) - 2 : raw.meta.resultsOff - 4096 + (where === 'unaligned' ? 1 : 0);
        writeIndex(raw, index, list);
        const out = where === 'results at memory end' ? raw.memBytes - 4 * Math.floor(list.length / 3) - 1 : raw.meta.resultsOff;
        agree(raw, { start: at.base, end: at.end, index, count: list.length, out, limit: MAX_CAPLEN });
      }), { numRuns: 150 });
  });

  it('a staged run stops exactly at the first entry that names no whole staged record', async () => {
    const f = await compileProgram(probe, { batchBytes: MAX_CAPLEN + RECORD_HEADER_BYTES });
    const entryArb = (n: number) => fc.oneof(
      { arbitrary: fc.nat({ max: Math.max(0, n - 1) }).map((j) => ({ record: j })), weight: 6 },
      { arbitrary: fc.integer({ min: 0, max: 300 }).map((d) => ({ at: d })), weight: 2 },
      { arbitrary: fc.nat().map((v) => ({ at: v * 2 })), weight: 1 },
    );
    await fc.assert(fc.asyncProperty(
      fc.array(packetArb, { minLength: 1, maxLength: 12 }).chain((packets) => fc.record({
        packets: fc.constant(packets),
        entries: fc.array(entryArb(packets.length), { maxLength: 20 }),
        hugeCaplen: fc.option(fc.nat({ max: packets.length - 1 }), { nil: undefined }),
      })),
      async ({ packets, entries, hugeCaplen }) => {
        const records = toRecords(packets);
        const offsets: number[] = [];
        for (let off = 0, i = 0; i < packets.length; i++) { offsets.push(off); off += RECORD_HEADER_BYTES + packets[i]!.bytes.length; }
        // A record whose caplen says more than MAX_CAPLEN: a header that lies about its size.
        if (hugeCaplen !== undefined) new DataView(records.buffer).setUint32(offsets[hugeCaplen]! + 8, MAX_CAPLEN + 1, true);
        const list = entries.map((e) => ('record' in e ? offsets[e.record]! : e.at));
        // The spec, over a memory holding the records at batchOff and the index apart.
        const mem = new Uint8Array(f.meta.batchOff + records.length + 4 * list.length + 16);
        mem.set(records, f.meta.batchOff);
        const index = f.meta.batchOff + records.length;
        list.forEach((e, i) => new DataView(mem.buffer).setUint32(index + 4 * i, (f.meta.batchOff + e) >>> 0, true));
        f.reset();
        const want = model(mem, { start: f.meta.batchOff, end: f.meta.batchOff + records.length, index, count: list.length, out: index, limit: MAX_CAPLEN });
        f.stageRecords(records);
        expect(f.stageIndex(list)).toBe(list.length);
        f.reset();
        expect([...f.runStagedIndex()]).toEqual(want.results);
        expect(f.registers[0]).toBe(want.results.length);   // the packets the filter really ran
      }), { numRuns: 150 });
  });

  it('a staged record longer than MAX_CAPLEN stops the staged run, as it stops the walk', async () => {
    const f = await compileProgram(probe, { batchBytes: 1 << 20 });
    const records = toRecords([{ bytes: new Uint8Array(MAX_CAPLEN + 1), wirelen: MAX_CAPLEN + 1 }, { bytes: Uint8Array.of(5), wirelen: 1 }]);
    f.stageRecords(records);
    expect(f.runStaged().length).toBe(0);
    f.stageIndex([RECORD_HEADER_BYTES + MAX_CAPLEN + 1, 0, RECORD_HEADER_BYTES + MAX_CAPLEN + 1]);
    expect(f.runStagedIndex().length).toBe(1);
  });

  it('a refused index leaves the staged one as it was', async () => {
    const f = await compileProgram(probe, { batchBytes: MAX_CAPLEN + RECORD_HEADER_BYTES });
    const records = toRecords([1, 2, 3].map((n) => ({ bytes: new Uint8Array(n).fill(n), wirelen: n })));
    f.stageIndexedRecords(records);
    const before = [...f.runStagedIndex()];
    expect(() => f.stageIndex([34, 17, -1])).toThrow(/entry 2/);
    expect([...f.runStagedIndex()]).toEqual(before);
  });

  it('other records in the batch area retire the staged ones and their index', async () => {
    const f = await compileProgram(probe, { batchBytes: MAX_CAPLEN + RECORD_HEADER_BYTES });
    const records = toRecords([1, 2, 3].map((n) => ({ bytes: new Uint8Array(n).fill(9), wirelen: n })));
    expect(f.stageIndexedRecords(records)).toBe(3);
    expect(f.runStagedIndex().length).toBe(3);
    expect(f.runRecords(toRecords([{ bytes: Uint8Array.of(1), wirelen: 1 }])).length).toBe(1);
    expect(f.runStagedIndex().length).toBe(0);
    expect(f.runStaged().length).toBe(0);
  });
});
