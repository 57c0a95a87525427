/**
 * Properties of the readers and writers on random captures: mutations never crash, hang or
 * grow memory; records delivered are always well-formed; the chunked reader equals the
 * in-memory one; writers round-trip; and on mutated files we count packets like libpcap.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture, openCaptureFile } from '../../drivers/capture.js';
import { PcapWriter } from '../../drivers/pcap-writer.js';
import { PcapngWriter } from '../../drivers/pcapng-writer.js';
import { MemorySink } from '../../drivers/sink.js';
import { CaptureError, type CaptureSource } from '../../drivers/types.js';
import { MAX_CAPLEN } from '../../abi/index.js';
import { buildPcap, PcapngBuilder, readAll, type ReadResult } from './build.js';
import { available, hasTool, pool, run } from './tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'fplc-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const packetArb = (nanoseconds: boolean) => fc.record({
  sec: fc.nat({ max: 0xffffffff }),
  frac: fc.nat({ max: nanoseconds ? 999999999 : 999999 }),
  data: fc.uint8Array({ maxLength: 120 }),
  extra: fc.nat({ max: 2000 }),
}).map((p) => ({ sec: p.sec, frac: p.frac, data: p.data, wirelen: p.data.length + p.extra }));

const pcapArb = fc.record({
  bigEndian: fc.boolean(), nanoseconds: fc.boolean(), kuznetzov: fc.boolean(),
  snaplen: fc.constantFrom(0, 64, 65535, 262144), linkType: fc.constantFrom(1, 101, 113),
}).chain((opts) => fc.array(packetArb(opts.nanoseconds), { maxLength: 12 }).map((pk) => buildPcap(opts, pk).bytes));

const pcapngArb = fc.record({
  bigEndian: fc.boolean(),
  ifaces: fc.array(fc.record({ linkType: fc.constantFrom(1, 101, 113), snaplen: fc.constantFrom(0, 128, 65535), tsresol: fc.constantFrom(undefined, 3, 6, 9, 0x80 | 20) }), { minLength: 1, maxLength: 3 }),
  blocks: fc.array(fc.record({ kind: fc.constantFrom('epb', 'epb', 'spb', 'pb', 'other'), iface: fc.nat(2), hi: fc.nat({ max: 0xffffffff }), lo: fc.nat({ max: 0xffffffff }), data: fc.uint8Array({ maxLength: 100 }) }), { maxLength: 12 }),
}).map(({ bigEndian, ifaces, blocks }) => {
  const b = new PcapngBuilder();
  b.shb({ bigEndian });
  for (const i of ifaces) b.idb(i.linkType, i.snaplen, { tsresol: i.tsresol });
  for (const k of blocks) {
    const iface = k.iface % ifaces.length;
    if (k.kind === 'epb') b.epb(iface, k.hi, k.lo, k.data);
    else if (k.kind === 'pb') b.pb(iface, k.hi, k.lo, k.data);
    else if (k.kind === 'spb') b.spb(k.data.length, k.data);
    else b.other(5 + (k.hi % 3), k.data);
  }
  return b.bytes();
});

const captureArb = fc.oneof(pcapArb, pcapngArb);

/** Byte flips, 32-bit overwrites with extreme values, truncation and appended garbage. */
const mutatedArb = captureArb.chain((bytes) => fc.tuple(
  fc.constant(bytes),
  fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'word'), v: fc.constantFrom(0, 1, 3, 8, 12, 13, 0xff, 0xffff, 0x40000, 0x40001, 0xffffffff) }), { maxLength: 4 }),
  fc.option(fc.nat(), { nil: undefined }),
  fc.uint8Array({ maxLength: 24 }),
)).map(([orig, edits, cut, garbage]) => {
  let b = Uint8Array.from(orig);
  for (const e of edits) {
    if (b.length === 0) break;
    const at = e.at % b.length;
    if (e.kind === 'flip') b[at] ^= 1 << (e.v % 8);
    else for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (e.v >>> (8 * i)) & 0xff;
  }
  if (cut !== undefined && b.length > 0) b = b.subarray(0, cut % b.length);
  const out = new Uint8Array(b.length + garbage.length);
  out.set(b); out.set(garbage, b.length);
  return out;
});

/** Opens, or returns the CaptureError from open; anything else thrown fails the test. */
function tryOpen(open: () => CaptureSource): CaptureSource | CaptureError {
  try { return open(); } catch (e) { if (e instanceof CaptureError) return e; throw e; }
}

function checkWellFormed(src: CaptureSource, r: ReadResult) {
  // decodeBatch (in readAll) already checked that records tile each batch exactly.
  for (const x of r.records) {
    expect(x.caplen).toBeLessThanOrEqual(MAX_CAPLEN);
    expect(x.data.length).toBe(x.caplen);
  }
  for (const b of r.batches) expect(b.records).toBeGreaterThan(0);
  expect(src.recordsRead).toBe(r.records.length);
  if (r.error) {
    expect(r.error).toBeInstanceOf(CaptureError);
    expect(r.error.recordIndex).toBe(r.records.length);
    expect(r.error.offset).toBeGreaterThanOrEqual(0);
  }
}

describe('random captures', () => {
  it('mutated files never throw but CaptureError at open, and deliver well-formed records', () => {
    fc.assert(fc.property(mutatedArb, fc.integer({ min: MAX_CAPLEN + 16, max: MAX_CAPLEN + 4096 }), (bytes, batch) => {
      const src = tryOpen(() => openCapture(bytes));
      if (src instanceof CaptureError) return;
      const r = readAll(src, batch);
      checkWellFormed(src, r);
    }), { numRuns: 600 });
  });

  it('the chunked file reader equals the in-memory reader, with tiny chunks, and its buffer stays bounded', () => {
    let n = 0;
    fc.assert(fc.property(fc.oneof(captureArb, mutatedArb), fc.constantFrom(16, 64, 100, 4096), (bytes, chunkBytes) => {
      const path = join(tmp, `c${n++}`);
      writeFileSync(path, bytes);
      const mem = tryOpen(() => openCapture(bytes));
      const file = tryOpen(() => openCaptureFile(path, { chunkBytes }));
      if (mem instanceof CaptureError || file instanceof CaptureError) {
        expect(String(file)).toBe(String(mem).replace('the capture', path));
        return;
      }
      expect(file.info).toEqual(mem.info);
      const a = readAll(mem, MAX_CAPLEN + 16), b = readAll(file, MAX_CAPLEN + 16);
      expect(b).toEqual(a);
      // The window never grows past what one record or interface block needs.
      const win = (file as unknown as { win: { buf: Uint8Array } }).win;
      expect(win.buf.length).toBeLessThanOrEqual(Math.max(chunkBytes, 2 * (MAX_CAPLEN + 32)));
      file.close();
    }), { numRuns: 200 });
  });

  it('records pass through PcapWriter and PcapngWriter unchanged', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(fc.tuple(packetArb(true), fc.constantFrom(1, 101, 113)), { maxLength: 15 }), (ns, pk) => {
      const packets = pk.map(([p, lt]) => ({ ...p, frac: ns ? p.frac : p.frac % 1000000, lt }));
      // pcap: one link type per file.
      const sink = new MemorySink();
      const w = new PcapWriter(sink, { linkType: 101, nanoseconds: ns });
      for (const p of packets) w.writePacket(p.sec, p.frac, p.data, p.wirelen);
      w.close();
      const expected = packets.map((p) => ({ sec: p.sec, frac: p.frac, caplen: p.data.length, wirelen: p.wirelen, data: Array.from(p.data) }));
      const viaPcap = readAll(openCapture(sink.bytes()));
      expect(viaPcap.error).toBeUndefined();
      expect(viaPcap.records).toEqual(expected);
      // Re-writing the batches' records (writeRecord) gives the same file.
      const again = new MemorySink();
      const w2 = new PcapWriter(again, { linkType: 101, nanoseconds: ns });
      const src = openCapture(sink.bytes()), dst = new Uint8Array(1 << 16);
      for (let b = src.nextBatch(dst, 0, dst.length); b.records; b = src.nextBatch(dst, 0, dst.length)) {
        for (let i = 0, off = 0; i < b.records; i++) { w2.writeRecord(dst, off); off += 16 + (dst[off + 8] | (dst[off + 9] << 8)); }
      }
      w2.close();
      expect(again.bytes()).toEqual(sink.bytes());
      // pcapng: several link types, always read back as ns.
      const ngSink = new MemorySink();
      const ng = new PcapngWriter(ngSink, { nanoseconds: ns });
      for (const p of packets) ng.writePacket(p.sec, p.frac, p.data, p.wirelen, p.lt);
      ng.close();
      const viaNg = readAll(openCapture(ngSink.bytes()));
      expect(viaNg.error).toBeUndefined();
      expect(viaNg.records).toEqual(expected.map((e) => ({ ...e, frac: ns ? e.frac : e.frac * 1000 })));
      const lts = viaNg.batches.flatMap((b) => Array(b.records).fill(b.linkType));
      expect(lts).toEqual(packets.map((p) => p.lt));
    }), { numRuns: 200 });
  });

  const haveTcpdump = available('tcpdump', hasTool('tcpdump'));
  it.skipIf(!haveTcpdump)('on mutated files we count packets as libpcap does', async () => {
    // Sampled rather than fc.assert'ed so tcpdump runs in parallel; the seed is in the message.
    const seed = Date.now() % 1e9;
    const samples = fc.sample(mutatedArb, { numRuns: 300, seed });
    const verdicts = await pool(samples.map((bytes, i) => ({ bytes, i })), 4, async ({ bytes, i }) => {
      const path = join(tmp, `m${i}`);
      writeFileSync(path, bytes);
      const td = await run('tcpdump', ['-nr', path, '--count']);
      // libpcap refuses interfaces that differ in link type or snaplen; we read them (by design).
      if (/different from the (type|snapshot length) of the first interface/.test(td.stderr)) return '';
      // tcpdump (not libpcap) refuses link types it has no printer for.
      if (/unknown data link type/.test(td.stderr)) return '';
      const m = /^(\d+) packets?$/m.exec(td.stdout);
      const theirs = m ? `${m[1]}${td.code === 0 ? '' : ' error'}` : 'open error';
      const src = tryOpen(() => openCapture(bytes));
      let ours: string;
      if (src instanceof CaptureError) ours = 'open error';
      else { const r = readAll(src); ours = `${r.records.length}${r.error ? ' error' : ''}`; }
      return ours === theirs ? '' : `seed ${seed} sample ${i}: libpcap ${theirs} (${td.stderr.trim()}), we ${ours}; file ${Buffer.from(bytes).toString('hex')}`;
    });
    expect(verdicts.filter(Boolean)).toEqual([]);
  });
});
