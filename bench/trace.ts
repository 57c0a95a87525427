/**
 * The benchmark trace: real packets from the tcpdump test corpus (Ethernet captures), read
 * with fplc's drivers, as ABI records, repeated until `count` packets. Cache-resident by design.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCapture } from '../drivers/capture.js';
import { RECORD_HEADER_BYTES } from '../vm/abi.js';

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
          const caplen = buf[off + 8]! | (buf[off + 9]! << 8) | (buf[off + 10]! << 16);
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
