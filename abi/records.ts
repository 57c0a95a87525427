/**
 * Reading batch records (abi/index.ts): little-endian pcap records, a 16-byte header
 * (u32 ts_sec, ts_frac, caplen, wirelen) then caplen bytes. The one reader of a record's
 * caplen for the runtime and the drivers.
 */
export const RECORD_HEADER_BYTES = 16;
/** Largest caplen a record may carry (pcap's own limit for huge snaplens is 256 KiB). */
export const MAX_CAPLEN = 262144;

/** The caplen field of the record header at off. Unchecked: callers know the header is inside b. */
export function recordCaplenAt(b: Uint8Array, off: number): number {
  return (b[off + 8]! | (b[off + 9]! << 8) | (b[off + 10]! << 16) | (b[off + 11]! << 24)) >>> 0;
}

/** Checks that buf holds a whole record at recOff (caplen within MAX_CAPLEN) and returns its caplen. */
export function recordCaplen(buf: Uint8Array, recOff: number): number {
  if (!Number.isInteger(recOff) || recOff < 0 || recOff + RECORD_HEADER_BYTES > buf.length) {
    throw new RangeError(`writeRecord: no 16-byte record header at offset ${recOff} (buffer length ${buf.length})`);
  }
  const caplen = recordCaplenAt(buf, recOff);
  if (caplen > MAX_CAPLEN || recOff + RECORD_HEADER_BYTES + caplen > buf.length) {
    throw new RangeError(`writeRecord: record at offset ${recOff} claims ${caplen} captured bytes, past the buffer (length ${buf.length}) or the ${MAX_CAPLEN}-byte bound`);
  }
  return caplen;
}
