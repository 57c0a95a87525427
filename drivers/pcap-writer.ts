/** Writes classic pcap files (little-endian, version 2.4, µs or ns magic). */
import { MAX_CAPLEN, RECORD_HEADER_BYTES, recordCaplen } from '../abi/index.js';
import { copyBytes, putU16le, putU32le, u32le } from './bytes.js';
import { BufferedOutput, type ByteSink } from './sink.js';

export interface PcapWriterOptions {
  linkType: number;
  /** Written in the file header; default 262144. */
  snaplen?: number;
  /** Timestamps' sub-second unit: ns (true) or µs (default). Must match the records written. */
  nanoseconds?: boolean;
}

export class PcapWriter {
  private readonly out: BufferedOutput;
  /** Records written so far. */
  records = 0;

  constructor(sink: string | ByteSink, readonly opts: PcapWriterOptions) {
    this.out = new BufferedOutput(sink);
    const off = this.out.reserve(24), b = this.out.buf;
    putU32le(b, off, opts.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4);
    putU16le(b, off + 4, 2);
    putU16le(b, off + 6, 4);
    putU32le(b, off + 8, 0);    // thiszone
    putU32le(b, off + 12, 0);   // sigfigs
    putU32le(b, off + 16, opts.snaplen ?? MAX_CAPLEN);
    putU32le(b, off + 20, opts.linkType);
  }

  /** Writes the ABI record (16-byte little-endian header + bytes) found at buf[recOff]. */
  writeRecord(buf: Uint8Array, recOff: number): void {
    const n = RECORD_HEADER_BYTES + recordCaplen(buf, recOff);
    const off = this.out.reserve(n);
    copyBytes(buf, recOff, this.out.buf, off, n);
    this.records++;
  }

  writePacket(tsSec: number, tsFrac: number, bytes: Uint8Array, wirelen = bytes.length): void {
    if (bytes.length > MAX_CAPLEN) throw new RangeError(`writePacket: ${bytes.length} bytes exceed the ${MAX_CAPLEN}-byte bound`);
    const off = this.out.reserve(RECORD_HEADER_BYTES + bytes.length), b = this.out.buf;
    putU32le(b, off, tsSec);
    putU32le(b, off + 4, tsFrac);
    putU32le(b, off + 8, bytes.length);
    putU32le(b, off + 12, wirelen);
    copyBytes(bytes, 0, b, off + RECORD_HEADER_BYTES, bytes.length);
    this.records++;
  }

  close(): void {
    this.out.close();
  }
}
