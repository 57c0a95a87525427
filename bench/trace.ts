/**
 * The benchmark trace: real packets from the tcpdump test corpus (Ethernet captures), read
 * with fplc's drivers, as ABI records, repeated until `count` packets. Cache-resident by design.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCapture } from '../drivers/capture.js';
import { RECORD_HEADER_BYTES, recordCaplenAt } from '../abi/index.js';

export const corpusDir = [process.env.FPLC_CORPUS, resolve(import.meta.dirname, '../../../shared/corpus/tcpdump-tests'), '/work/shared/corpus/tcpdump-tests']
  .find((d): d is string => !!d && existsSync(d)) ?? resolve(import.meta.dirname, '../../../shared/corpus/tcpdump-tests');

export function corpusTrace(linkType: number, count: number, maxBytes = 3 << 20): { records: Uint8Array; packets: number } {
  const chunks: Uint8Array[] = [];
  let packets = 0;
  let bytes = 0;
  const buf = new Uint8Array(4 << 20);
  for (const name of readdirSync(corpusDir).sort()) {
    if (!/\.(pcap|pcapng)$/.test(name)) continue;
    let src;
    try { src = openCapture(readFileSync(join(corpusDir, name))); } catch { continue; }
    try {
      for (;;) {
        const b = src.nextBatch(buf, 0, buf.length);
        if (b.records === 0) break;
        if (b.linkType !== linkType) continue;
        let off = 0;
        for (let i = 0; i < b.records; i++) {
          const caplen = recordCaplenAt(buf, off);
          const rec = RECORD_HEADER_BYTES + caplen;
          if (caplen <= 1514 && bytes + rec <= maxBytes) {
            chunks.push(buf.slice(off, off + rec));
            bytes += rec;
            packets++;
          }
          off += rec;
        }
      }
    } finally { src.close(); }
    if (packets >= count) break;
  }
  if (!packets) throw new Error(`no link type ${linkType} packets under ${corpusDir}`);
  // Repeat the distinct packets until the trace has `count` of them.
  const base = chunks.slice();
  for (let i = 0; packets < count && bytes < maxBytes; i++) {
    const c = base[i % base.length]!;
    if (bytes + c.length > maxBytes) break;
    chunks.push(c);
    bytes += c.length;
    packets++;
  }
  const records = new Uint8Array(bytes);
  let off = 0;
  for (const c of chunks) { records.set(c, off); off += c.length; }
  return { records, packets };
}

/**
 * The same records in an order shuffled with a fixed seed, as the packets of many conversations
 * interleave on a link. The corpus trace comes file by file, long runs of similar packets, which
 * a branch predictor learns: the best case for an interpreter's dispatch. Interleaved, libpcap's
 * cost per packet grows 1.5-3x on the P1 filters while compiled code's barely moves.
 */
export function interleaved(records: Uint8Array, seed = 1): Uint8Array {
  const starts: number[] = [];
  for (let off = 0; off < records.length;) {
    starts.push(off);
    off += RECORD_HEADER_BYTES + recordCaplenAt(records, off);
  }
  starts.push(records.length);
  const order = starts.slice(0, -1).map((_, i) => i);
  // Fisher-Yates driven by xorshift32: deterministic, so runs and machines shuffle alike.
  let x = seed >>> 0 || 1;
  for (let i = order.length - 1; i > 0; i--) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const out = new Uint8Array(records.length);
  let at = 0;
  for (const i of order) {
    const rec = records.subarray(starts[i]!, starts[i + 1]!);
    out.set(rec, at);
    at += rec.length;
  }
  return out;
}

