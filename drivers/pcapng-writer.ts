/**
 * Writes pcapng files (little-endian): a section header, one interface per link type on first
 * use, and an Enhanced Packet Block per record. Nanosecond records get if_tsresol = 9.
 */
import { MAX_CAPLEN, RECORD_HEADER_BYTES, recordCaplen } from '../abi/index.js';
import { copyBytes, putU16le, putU32le, u32le } from './bytes.js';
import { BT_EPB, BT_IDB, BT_SHB } from './pcapng.js';
import { BufferedOutput, type ByteSink } from './sink.js';

export interface PcapngWriterOptions {
  /** Link type of records written without one; default 1 (Ethernet). */
  linkType?: number;
  snaplen?: number;
  /** Timestamps' sub-second unit of the records: ns (true) or µs (default). */
  nanoseconds?: boolean;
}

const TWO32 = 4294967296;
const EPB_FIXED = 28;

export class PcapngWriter {
  private readonly out: BufferedOutput;
  private readonly ifaceOf = new Map<number, number>();
  private readonly units: number;
  records = 0;

  constructor(sink: string | ByteSink, readonly opts: PcapngWriterOptions = {}) {
    this.out = new BufferedOutput(sink);
    this.units = opts.nanoseconds ? 1e9 : 1e6;
    const off = this.out.reserve(28), b = this.out.buf;
    putU32le(b, off, BT_SHB);
    putU32le(b, off + 4, 28);
    putU32le(b, off + 8, 0x1a2b3c4d);
    putU16le(b, off + 12, 1);
    putU16le(b, off + 14, 0);
    putU32le(b, off + 16, 0xffffffff);   // section length unknown (-1)
    putU32le(b, off + 20, 0xffffffff);
    putU32le(b, off + 24, 28);
    // Readers (libpcap among them) refuse a file without an interface, even an empty one.
    this.iface(opts.linkType ?? 1);
  }

  private iface(linkType: number): number {
    let id = this.ifaceOf.get(linkType);
    if (id !== undefined) return id;
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) throw new RangeError(`PcapngWriter: link type ${linkType} is not a u16`);
    id = this.ifaceOf.size;
    this.ifaceOf.set(linkType, id);
    const ns = this.opts.nanoseconds === true;
    const len = ns ? 32 : 20;
    const off = this.out.reserve(len), b = this.out.buf;
    putU32le(b, off, BT_IDB);
    putU32le(b, off + 4, len);
    putU16le(b, off + 8, linkType);
    putU16le(b, off + 10, 0);
    putU32le(b, off + 12, this.opts.snaplen ?? MAX_CAPLEN);
    if (ns) {
      putU16le(b, off + 16, 9); putU16le(b, off + 18, 1);   // if_tsresol: 10^-9
      putU32le(b, off + 20, 9);
      putU32le(b, off + 24, 0);                             // opt_endofopt
    }
    putU32le(b, off + len - 4, len);
    return id;
  }

  /** Writes the ABI record at buf[recOff] as an EPB on the interface for `linkType`. */
  writeRecord(buf: Uint8Array, recOff: number, linkType = this.opts.linkType ?? 1): void {
    const caplen = recordCaplen(buf, recOff);
    this.epb(linkType, u32le(buf, recOff), u32le(buf, recOff + 4), buf, recOff + RECORD_HEADER_BYTES, caplen, u32le(buf, recOff + 12));
  }

  writePacket(tsSec: number, tsFrac: number, bytes: Uint8Array, wirelen = bytes.length, linkType = this.opts.linkType ?? 1): void {
    if (bytes.length > MAX_CAPLEN) throw new RangeError(`writePacket: ${bytes.length} bytes exceed the ${MAX_CAPLEN}-byte bound`);
    this.epb(linkType, tsSec, tsFrac, bytes, 0, bytes.length, wirelen);
  }

  private epb(linkType: number, sec: number, frac: number, src: Uint8Array, srcOff: number, caplen: number, wirelen: number): void {
    const id = this.iface(linkType);
    const padded = (caplen + 3) & ~3;
    const len = EPB_FIXED + padded + 4;
    const off = this.out.reserve(len), b = this.out.buf;
    // t = sec * units + frac as two u32 words, exactly: sec = sh * 2^16 + sl.
    const units = this.units, sh = Math.floor(sec / 65536), sl = sec % 65536;
    const low = sl * units + frac;            // < 2^53
    const mid = sh * units;                   // multiplied by 2^16 below
    const c = (mid % 65536) * 65536 + low;    // < 2^53
    const hi = Math.floor(mid / 65536) + Math.floor(c / TWO32);
    putU32le(b, off, BT_EPB);
    putU32le(b, off + 4, len);
    putU32le(b, off + 8, id);
    putU32le(b, off + 12, hi);
    putU32le(b, off + 16, c % TWO32);
    putU32le(b, off + 20, caplen);
    putU32le(b, off + 24, wirelen);
    copyBytes(src, srcOff, b, off + EPB_FIXED, caplen);
    for (let i = caplen; i < padded; i++) b[off + EPB_FIXED + i] = 0;
    putU32le(b, off + len - 4, len);
    this.records++;
  }

  close(): void {
    this.out.close();
  }
}
