/** Packs packets as ABI records (abi/index.ts): LE u32 ts_sec, ts_frac, caplen, wirelen, then the bytes. */
import { RECORD_HEADER_BYTES } from '../../abi/index.js';

export interface RecordPacket { bytes: Uint8Array; wirelen: number; ts?: readonly [number, number] }

/** `ts` gives the timestamp of packet i when the packet has none (default: seconds = i). */
export function toRecords(packets: readonly RecordPacket[], ts: (i: number) => readonly [number, number] = (i) => [i, 0]): Uint8Array {
  const out = new Uint8Array(packets.reduce((n, p) => n + RECORD_HEADER_BYTES + p.bytes.length, 0));
  const view = new DataView(out.buffer);
  let off = 0;
  packets.forEach((p, i) => {
    const [sec, frac] = p.ts ?? ts(i);
    view.setUint32(off, sec, true);
    view.setUint32(off + 4, frac, true);
    view.setUint32(off + 8, p.bytes.length, true);
    view.setUint32(off + 12, p.wirelen, true);
    out.set(p.bytes, off + RECORD_HEADER_BYTES);
    off += RECORD_HEADER_BYTES + p.bytes.length;
  });
  return out;
}
