/** Builders of small pcap and pcapng files for tests, in either byte order, plus batch decoding. */
import { RECORD_HEADER_BYTES } from '../../abi/index.js';
import type { CaptureSource } from '../../drivers/types.js';

class Bytes {
  private parts: number[] = [];
  constructor(private big = false) {}
  get length() { return this.parts.length; }
  setOrder(big: boolean) { this.big = big; }
  u8(v: number) { this.parts.push(v & 0xff); return this; }
  u16(v: number) {
    const b = [v & 0xff, (v >>> 8) & 0xff];
    this.parts.push(...(this.big ? b.reverse() : b));
    return this;
  }
  u32(v: number) {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    this.parts.push(...(this.big ? b.reverse() : b));
    return this;
  }
  raw(b: ArrayLike<number>) { for (let i = 0; i < b.length; i++) this.parts.push(b[i]); return this; }
  pad4() { while (this.parts.length % 4) this.parts.push(0); return this; }
  bytes() { return Uint8Array.from(this.parts); }
}

export interface PcapPacket {
  sec: number;
  frac: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  wirelen?: number;
  /** Header caplen; defaults to data.length (set it to lie). */
  caplen?: number;
}

export interface PcapOptions {
  bigEndian?: boolean;
  nanoseconds?: boolean;
  kuznetzov?: boolean;
  snaplen?: number;
  linkType?: number;
  version?: [number, number];
}

/** A pcap file; `offsets[i]` is the file offset of packet i's record. */
export function buildPcap(opts: PcapOptions, packets: PcapPacket[]): { bytes: Uint8Array; offsets: number[] } {
  const w = new Bytes(opts.bigEndian);
  w.u32(opts.kuznetzov ? 0xa1b2cd34 : opts.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4);
  const [major, minor] = opts.version ?? [2, 4];
  w.u16(major).u16(minor).u32(0).u32(0).u32(opts.snaplen ?? 65535).u32(opts.linkType ?? 1);
  const offsets: number[] = [];
  for (const p of packets) {
    offsets.push(w.length);
    w.u32(p.sec).u32(p.frac).u32(p.caplen ?? p.data.length).u32(p.wirelen ?? p.data.length);
    if (opts.kuznetzov) w.u32(3).u16(0x0800).u8(0).u8(0);   // ifindex, protocol, pkt_type, pad
    w.raw(p.data);
  }
  return { bytes: w.bytes(), offsets };
}

/** A pcapng file built block by block; each method returns the block's file offset. */
export class PcapngBuilder {
  private w = new Bytes(false);

  private block(type: number, body: (w: Bytes) => void, opts: { length?: number; trailer?: number } = {}): number {
    const off = this.w.length;
    const inner = new Bytes(this.bigNow);
    body(inner);
    inner.pad4();
    const len = opts.length ?? 12 + inner.length;
    this.w.u32(type).u32(len).raw(inner.bytes()).u32(opts.trailer ?? len);
    return off;
  }
  private bigNow = false;

  shb(opts: { bigEndian?: boolean; version?: [number, number] } = {}): number {
    this.bigNow = opts.bigEndian ?? false;
    this.w.setOrder(this.bigNow);
    const [major, minor] = opts.version ?? [1, 0];
    return this.block(0x0a0d0d0a, (w) => w.u32(0x1a2b3c4d).u16(major).u16(minor).u32(0xffffffff).u32(0xffffffff));
  }

  /** tsresol is the raw option byte (e.g. 9 for ns, 0x80|10 for 2^-10); tsoffset in seconds. */
  idb(linkType: number, snaplen = 65535, opts: { tsresol?: number; tsoffset?: number } = {}): number {
    return this.block(1, (w) => {
      w.u16(linkType).u16(0).u32(snaplen);
      if (opts.tsresol !== undefined) w.u16(9).u16(1).u8(opts.tsresol).pad4();
      if (opts.tsoffset !== undefined) {
        w.u16(14).u16(8);
        const lo = opts.tsoffset >>> 0, hi = opts.tsoffset < 0 ? 0xffffffff : 0;
        // A u64 in the section's byte order.
        if (this.bigNow) w.u32(hi).u32(lo); else w.u32(lo).u32(hi);
      }
      if (opts.tsresol !== undefined || opts.tsoffset !== undefined) w.u16(0).u16(0);
    });
  }

  epb(iface: number, tsHi: number, tsLo: number, data: Uint8Array, opts: { caplen?: number; wirelen?: number; length?: number; trailer?: number } = {}): number {
    return this.block(6, (w) => w.u32(iface).u32(tsHi).u32(tsLo).u32(opts.caplen ?? data.length).u32(opts.wirelen ?? data.length).raw(data), opts);
  }

  /** The obsolete Packet Block (type 2). */
  pb(iface: number, tsHi: number, tsLo: number, data: Uint8Array): number {
    return this.block(2, (w) => w.u16(iface).u16(0).u32(tsHi).u32(tsLo).u32(data.length).u32(data.length).raw(data));
  }

  spb(wirelen: number, data: Uint8Array): number {
    return this.block(3, (w) => w.u32(wirelen).raw(data));
  }

  /** Any block (NRB = 4, ISB = 5, DSB = 10, custom 0xbad, unknown …). */
  other(type: number, body: Uint8Array, opts: { length?: number; trailer?: number } = {}): number {
    return this.block(type, (w) => w.raw(body), opts);
  }

  /** Appends raw bytes (for truncations and garbage). */
  raw(b: ArrayLike<number>): number {
    const off = this.w.length;
    this.w.raw(b);
    return off;
  }

  get length() { return this.w.length; }
  bytes(): Uint8Array { return this.w.bytes(); }
}

export interface DecodedRecord { sec: number; frac: number; caplen: number; wirelen: number; data: number[] }
export interface ReadResult {
  records: DecodedRecord[];
  /** Link type and record count of each batch. */
  batches: { linkType: number; records: number }[];
  error: CaptureSource['error'];
}

const le32 = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

/** Decodes the ABI records of one batch, checking they tile [off, off+bytes) exactly. */
export function decodeBatch(dst: Uint8Array, off: number, bytes: number, count: number): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let p = off;
  for (let i = 0; i < count; i++) {
    const caplen = le32(dst, p + 8);
    if (p + RECORD_HEADER_BYTES + caplen > off + bytes) throw new Error(`record ${i} runs past the batch`);
    out.push({ sec: le32(dst, p), frac: le32(dst, p + 4), caplen, wirelen: le32(dst, p + 12),
      data: Array.from(dst.subarray(p + RECORD_HEADER_BYTES, p + RECORD_HEADER_BYTES + caplen)) });
    p += RECORD_HEADER_BYTES + caplen;
  }
  if (p !== off + bytes) throw new Error(`batch says ${bytes} bytes but its records use ${p - off}`);
  return out;
}

/** Reads a whole source with batches of at most batchBytes (bounded loop). */
export function readAll(src: CaptureSource, batchBytes = 1 << 20, dstOff = 0): ReadResult {
  const dst = new Uint8Array(dstOff + batchBytes);
  const res: ReadResult = { records: [], batches: [], error: undefined };
  for (let guard = 0; guard < 1e7; guard++) {
    const b = src.nextBatch(dst, dstOff, batchBytes);
    if (b.records === 0) {
      if (b.bytes !== 0) throw new Error('an empty batch with bytes');
      break;
    }
    res.batches.push({ linkType: b.linkType, records: b.records });
    res.records.push(...decodeBatch(dst, dstOff, b.bytes, b.records));
  }
  res.error = src.error;
  return res;
}

export const bytesOf = (...v: number[]) => Uint8Array.from(v);
export const seq = (n: number, start = 0) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

/** `n` deterministic record sizes from empty to 70,000 bytes: many batch chunks, many carried partial records. */
export function recordSizes(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return [0, 1, 60, 1514, 9000, 70000][s % 6]!; });
}
