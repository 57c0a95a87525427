/**
 * Agreement with libpcap over the whole tcpdump test corpus: the same packet count (oracle:
 * tcpdump --count, cached in corpus-oracle.json by gen-corpus-oracle.mjs), the same batches
 * from the chunked file reader, and, through our writers, files tcpdump and tshark read alike.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture, openCaptureFile } from '../../drivers/capture.js';
import { PcapWriter } from '../../drivers/pcap-writer.js';
import { PcapngWriter } from '../../drivers/pcapng-writer.js';
import { CaptureError } from '../../drivers/types.js';
import { readAll } from './build.js';
import { available, CORPUS, corpusPresent, hasTool, pool, run } from './tools.js';

interface Oracle { packets: number | null; ok: boolean; message?: string }
const oracle: Record<string, Oracle> = JSON.parse(readFileSync(new URL('./corpus-oracle.json', import.meta.url), 'utf8')).files;
const haveCorpus = available(`the capture corpus (${CORPUS})`, corpusPresent());
const haveTcpdump = haveCorpus && available('tcpdump', hasTool('tcpdump'));
const haveTshark = haveCorpus && available('tshark', hasTool('tshark', '-v'));
const tmp = mkdtempSync(join(tmpdir(), 'fplc-drivers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Reads a capture file and writes it back out as pcap or pcapng; returns the new path. */
function rewrite(file: string, format: 'pcap' | 'pcapng'): string {
  const src = openCaptureFile(join(CORPUS, file));
  const out = join(tmp, `${file}.${format}`);
  const { linkType, snaplen, nanoseconds } = src.info;
  const w = format === 'pcap' ? new PcapWriter(out, { linkType, snaplen, nanoseconds }) : new PcapngWriter(out, { linkType, snaplen, nanoseconds });
  const dst = new Uint8Array(1 << 20);
  for (let b = src.nextBatch(dst, 0, dst.length); b.records > 0; b = src.nextBatch(dst, 0, dst.length)) {
    for (let i = 0, off = 0; i < b.records; i++) {
      if (w instanceof PcapngWriter) w.writeRecord(dst, off, b.linkType); else w.writeRecord(dst, off);
      off += 16 + (dst[off + 8] | (dst[off + 9] << 8) | (dst[off + 10] << 16) | (dst[off + 11] << 24));
    }
  }
  w.close();
  src.close();
  return out;
}

describe.skipIf(!haveCorpus)('capture corpus', () => {
  const files = haveCorpus ? readdirSync(CORPUS).filter((f) => f in oracle).sort() : [];

  it('the oracle covers every capture of the corpus', () => {
    const captures = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng|cap)$/.test(f));
    expect(captures.filter((f) => !(f in oracle))).toEqual([]);
    expect(captures.length).toBeGreaterThan(800);
  });

  it('reads as many packets as libpcap from every file, and the chunked reader gives the same batches', () => {
    const disagree: string[] = [];
    for (const f of files) {
      const want = oracle[f];
      const bytes = readFileSync(join(CORPUS, f));
      let got: string, chunked: string;
      try {
        const r = readAll(openCapture(bytes), 256 << 10);
        got = `${r.records.length}${r.error ? ' error' : ''}`;
        // Whole-file and 4 KiB-chunk readers must produce identical batches.
        const c = readAll(openCaptureFile(join(CORPUS, f), { chunkBytes: 4096 }), 256 << 10);
        chunked = JSON.stringify(c) === JSON.stringify(r) ? 'same' : 'differs';
      } catch (e) {
        if (!(e instanceof CaptureError)) throw e;
        got = 'open error';
        chunked = 'same';
      }
      const expected = want.packets === null ? 'open error' : `${want.packets}${want.ok ? '' : ' error'}`;
      if (got !== expected || chunked !== 'same') disagree.push(`${f}: libpcap ${expected}, we ${got}, chunked reader ${chunked}`);
    }
    expect(disagree).toEqual([]);
    expect(files.length).toBeGreaterThan(800);
  });

  it.skipIf(!haveTcpdump)('files we rewrite as pcap print exactly like the originals in tcpdump -v', async () => {
    // Every pcapng file and every 6th pcap file keeps this to a few seconds.
    const sample = files.filter((f, i) => oracle[f].ok && (f.endsWith('.pcapng') || i % 6 === 0));
    const diffs = await pool(sample, 4, async (f) => {
      const copy = rewrite(f, 'pcap');
      const print = (path: string) => run('tcpdump', ['-nr', path, '-tt', '--nano', '-v', '-e']);
      const [a, b] = await Promise.all([print(join(CORPUS, f)), print(copy)]);
      return a.stdout === b.stdout && (a.stdout.length > 0 || oracle[f].packets === 0) ? '' : `${f}: tcpdump prints differently`;
    });
    expect(diffs.filter(Boolean)).toEqual([]);
    expect(sample.length).toBeGreaterThan(150);
  });

  it.skipIf(!haveTshark)('tshark reads our pcap and pcapng output with the original lengths and times', async () => {
    const picks = ['OSPFv2_Capture_FINAL.pcapng', 'bgp-orf.pcapng', 'isup.pcap', 'afs.pcap'];
    const fields = (path: string) => run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.time_epoch']);
    const jobs = picks.flatMap((f) => [join(CORPUS, f), rewrite(f, 'pcap'), rewrite(f, 'pcapng')]);
    const outs = await pool(jobs, 3, fields);
    for (let i = 0; i < picks.length; i++) {
      const [orig, pcap, ng] = outs.slice(3 * i, 3 * i + 3).map((o) => o.stdout);
      expect(orig.split('\n').length, picks[i]).toBeGreaterThan(1);
      expect(pcap, `${picks[i]} as pcap`).toBe(orig);
      expect(ng, `${picks[i]} as pcapng`).toBe(orig);
    }
  });
});
