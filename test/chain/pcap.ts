// A plain pcap reader for the tests' oracles (little-endian, µs; the sample traces).
import { readFileSync } from 'node:fs';

export interface Rec { data: Uint8Array; wirelen: number }

export function readPcap(path: string): Rec[] {
  const b = readFileSync(path);
  const out: Rec[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const caplen = b.readUInt32LE(off + 8), wirelen = b.readUInt32LE(off + 12);
    out.push({ data: b.subarray(off + 16, off + 16 + caplen), wirelen });
    off += 16 + caplen;
  }
  return out;
}

export const contains = (hay: Uint8Array, needle: string): boolean => Buffer.from(hay).includes(Buffer.from(needle, 'latin1'));

/** IPv4 over Ethernet, TCP, destination port (undefined when not captured). */
export function tcpDstPort(p: Uint8Array): number | undefined {
  if (p.length < 34 || p[12] !== 0x08 || p[13] !== 0 || p[23] !== 6) return undefined;
  if (((p[20]! & 0x1f) << 8 | p[21]!) !== 0) return undefined;   // not a first fragment
  const l4 = 14 + 4 * (p[14]! & 0xf);
  return p.length >= l4 + 4 ? (p[l4 + 2]! << 8) | p[l4 + 3]! : undefined;
}
