/**
 * pcapng files: sections (SHB, either byte order; a new section forgets its interfaces),
 * interfaces (IDB: link type, snaplen, if_tsresol, if_tsoffset), packets (EPB, SPB, and the
 * obsolete PB), everything else skipped by its length. Records come out with nanosecond
 * timestamps. A batch stops where the link type changes.
 *
 * Acceptance mirrors libpcap 1.10's sf-pcapng.c so counts agree with tcpdump, with one
 * deliberate widening: interfaces may differ in link type and snaplen (libpcap refuses).
 */
import { MAX_CAPLEN, RECORD_HEADER_BYTES } from '../abi/index.js';
import { copyBytes, putU32le, u16, u32, u32le } from './bytes.js';
import { RecordSource } from './source.js';
import { convertTimestamp, type TsResolution } from './timestamps.js';
import { CaptureError, type Batch } from './types.js';
import type { ByteWindow } from './window.js';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 1;
export const BT_PB = 2;
export const BT_SPB = 3;
export const BT_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** libpcap's limit on a block's length. */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;
/** Largest SHB/IDB whose options we read into memory; larger ones are errors (bounded memory). */
export const MAX_META_BLOCK_BYTES = 1024 * 1024;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

export interface PcapngInterface extends TsResolution { linkType: number; snaplen: number }

/**
 * An Interface Description Block of `len` bytes at b[h…] (whole in b unless its length is bad,
 * which is checked first), checked as strictly as libpcap: the interface, or the error's text.
 */
export function parseInterfaceBlock(b: Uint8Array, h: number, len: number, big: boolean): PcapngInterface | string {
  if (len < 20) return `pcapng interface description block length ${len} is less than 20`;
  if (len > MAX_META_BLOCK_BYTES) return `pcapng interface description block length ${len} exceeds ${MAX_META_BLOCK_BYTES}`;
  const linkType = u16(b, h + 8, big);
  const rawSnap = u32(b, h + 12, big);
  let decimal = true, exp = 6, offset = 0, seenResol = false, seenOffset = false;
  // Options: code u16, length u16, value padded to 4; opt_endofopt (0) ends them.
  const bad = (why: string) => `pcapng interface description block: ${why}`;
  for (let o = h + 16, end = h + len - 4; o < end;) {
    if (o + 4 > end) return bad('too short for its option header');
    const code = u16(b, o, big), olen = u16(b, o + 2, big);
    if (o + 4 + ((olen + 3) & ~3) > end) return bad(`option ${code} runs past the end of its block`);
    if (code === 0) {
      if (olen !== 0) return bad(`opt_endofopt has length ${olen}, not 0`);
      break;
    } else if (code === OPT_IF_TSRESOL) {
      if (olen !== 1) return bad(`if_tsresol has length ${olen}, not 1`);
      if (seenResol) return bad('more than one if_tsresol option');
      seenResol = true;
      const v = b[o + 4]!;
      decimal = (v & 0x80) === 0;
      exp = v & 0x7f;
      if (decimal ? exp > 19 : exp > 63) return bad(`time stamp resolution ${decimal ? `10^-${exp}` : `2^-${exp}`} is too fine`);
    } else if (code === OPT_IF_TSOFFSET) {
      if (olen !== 8) return bad(`if_tsoffset has length ${olen}, not 8`);
      if (seenOffset) return bad('more than one if_tsoffset option');
      seenOffset = true;
      // A signed 64-bit number of seconds; only its value mod 2^32 matters to a u32 ts_sec.
      offset = big ? u32(b, o + 8, big) : u32(b, o + 4, big);
    }
    o += 4 + ((olen + 3) & ~3);
  }
  const snaplen = rawSnap === 0 || rawSnap > MAX_CAPLEN ? MAX_CAPLEN : rawSnap;
  return { linkType, snaplen, decimal, exp, offset };
}

export const isPcapngMagic = (b: Uint8Array) => b.length >= 4 && u32le(b, 0) === BT_SHB;

export class PcapngSource extends RecordSource {
  private big = false;
  private ifaces: PcapngInterface[] = [];
  private readonly ts = new Uint32Array(2);
  /** The batch being filled; no batch while the constructor reads up to the first interface. */
  private batch = { out: 0, records: 0, linkType: -1 };
  private batchDst: Uint8Array | undefined;
  private limit = 0;
  /** The batch being filled; no batch while the constructor reads up to the first interface. */
  constructor(win: ByteWindow) {
    super({ format: 'pcapng', linkType: 1, snaplen: MAX_CAPLEN, nanoseconds: true, bigEndian: false }, win, 0);
    // As libpcap does at open: the section header, then blocks up to the first interface.
    while (this.ifaces.length === 0) {
      const pos = this.pos;
      if (pos >= win.size) {
        throw new CaptureError('pcapng file has no Interface Description Block', undefined, pos);
      }
      const type = this.block();
      if (this.error) throw new CaptureError(`${this.errorText} (file offset ${this.error.offset})`, undefined, this.error.offset);
      if (type === BT_EPB || type === BT_SPB || type === BT_PB) {
        throw new CaptureError(`pcapng packet block before any Interface Description Block (file offset ${pos})`, undefined, pos);
      }
    }
    const first = this.ifaces[0];
    Object.assign(this.info, { linkType: first.linkType, snaplen: first.snaplen, bigEndian: this.big });
  }

  protected fillBatch(dst: Uint8Array, dstOff: number, limit: number): Batch {
    const start = { out: dstOff, records: 0, linkType: -1 };
    this.batch = start;
    this.batchDst = dst;
    this.limit = limit;
    for (;;) {
      if (this.pos >= this.win.size) { this.done = true; break; }
      const type = this.block();
      if (type < 0 || this.error) break;   // batch full, link type changed, or error
    }
    return { records: start.records, bytes: start.out - dstOff, linkType: start.linkType < 0 ? this.info.linkType : start.linkType };
  }

  /**
   * Parses the block at pos. Packets are written to the current batch (none during open).
   * Returns the block type, or -1 when the block was left for the next batch.
   */
  private block(): number {
    const win = this.win, pos = this.pos;
    if (!win.fill(pos, 8)) {
      this.fail(`truncated pcapng block header: 8 bytes needed, ${win.size - pos} left in the file`, pos);
      return 0;
    }
    let b = win.buf, h = pos - win.start;
    if (u32le(b, h) === BT_SHB && win.fill(pos, 12)) {
      // A section header carries its own byte order.
      b = win.buf; h = pos - win.start;
      const magic = u32le(b, h + 8);
      if (magic === BYTE_ORDER_MAGIC) this.big = false;
      else if (magic === 0x4d3c2b1a) this.big = true;
      else { this.fail(`pcapng section header has an unknown byte-order magic 0x${magic.toString(16)}`, pos); return 0; }
    }
    const big = this.big;
    const type = u32(b, h, big), len = u32(b, h + 4, big);
    if (len < 12) { this.fail(`pcapng block length ${len} is less than 12`, pos); return 0; }
    if (len % 4 !== 0) { this.fail(`pcapng block length ${len} is not a multiple of 4`, pos); return 0; }
    if (len > MAX_BLOCK_BYTES) { this.fail(`pcapng block length ${len} exceeds the maximum ${MAX_BLOCK_BYTES}`, pos); return 0; }
    if (pos + len > win.size) {
      this.fail(`truncated pcapng block: length ${len}, ${win.size - pos} bytes left in the file`, pos);
      return 0;
    }
    // The trailing copy of the length must match (libpcap checks it for every block but the
    // file's first section header, which it reads separately).
    if (pos !== 0) {
      if (!win.fill(pos + len - 4, 4)) return 0;
      b = win.buf;
      const trailer = u32(b, pos + len - 4 - win.start, big);
      if (trailer !== len) { this.fail(`pcapng block length ${len} does not match its trailer ${trailer}`, pos); return 0; }
    }

    switch (type) {
      case BT_SHB: if (!this.sectionHeader(pos, len)) return 0; break;
      case BT_IDB: if (!this.interfaceDescription(pos, len)) return 0; break;
      case BT_EPB: case BT_PB: case BT_SPB:
        if (!this.batchDst) return type;   // during open: the caller reports it
        if (!this.packet(type, pos, len)) return -1;
        break;
      default: break;   // NRB, ISB, DSB, custom and unknown blocks: skipped by their length
    }
    this.pos = pos + len;
    return type;
  }

  private sectionHeader(pos: number, len: number): boolean {
    if (len < 28) { this.fail(`pcapng section header block length ${len} is less than 28`, pos); return false; }
    if (!this.win.fill(pos, 28)) return false;
    const b = this.win.buf, h = pos - this.win.start;
    const major = u16(b, h + 12, this.big), minor = u16(b, h + 14, this.big);
    if (!(major === 1 && (minor === 0 || minor === 2))) {
      this.fail(`unsupported pcapng version ${major}.${minor} (1.0 and 1.2 are supported)`, pos);
      return false;
    }
    this.ifaces = [];
    return true;
  }

  private interfaceDescription(pos: number, len: number): boolean {
    if (len >= 20 && len <= MAX_META_BLOCK_BYTES && !this.win.fill(pos, len)) return false;
    const iface = parseInterfaceBlock(this.win.buf, pos - this.win.start, len, this.big);
    if (typeof iface === 'string') { this.fail(iface, pos); return false; }
    this.ifaces.push(iface);
    return true;
  }

  /** Writes the packet block at pos into the batch; false when it must wait for the next batch or failed. */
  private packet(type: number, pos: number, len: number): boolean {
    const win = this.win, big = this.big, batch = this.batch, dst = this.batchDst!;
    const fixed = type === BT_SPB ? 12 : 28;   // block header + fixed fields
    if (len < fixed + 4) { this.fail(`pcapng block of type ${type} is too short (${len} bytes)`, pos); return false; }
    if (!win.fill(pos, fixed)) return false;
    let b = win.buf, h = pos - win.start;
    let ifaceId: number, hi = 0, lo = 0, caplen: number, wirelen: number;
    if (type === BT_SPB) {
      ifaceId = 0;
      wirelen = u32(b, h + 8, big);
    } else {
      ifaceId = type === BT_PB ? u16(b, h + 8, big) : u32(b, h + 8, big);
      hi = u32(b, h + 12, big); lo = u32(b, h + 16, big);
      caplen = u32(b, h + 20, big); wirelen = u32(b, h + 24, big);
    }
    const iface = this.ifaces[ifaceId];
    if (!iface) { this.fail(`packet on interface ${ifaceId}, which no Interface Description Block defines`, pos); return false; }
    if (type === BT_SPB) {
      caplen = wirelen < iface.snaplen ? wirelen : iface.snaplen;
    } else if (caplen! > iface.snaplen) {
      this.fail(`invalid captured length ${caplen!}: larger than the interface's snaplen ${iface.snaplen}`, pos);
      return false;
    }
    if (fixed + caplen! > len - 4) { this.fail(`pcapng block of type ${type} is too short (${len} bytes) for its ${caplen!} captured bytes`, pos); return false; }
    if (batch.records > 0 && iface.linkType !== batch.linkType) return false;   // a new batch for a new link type
    const recBytes = RECORD_HEADER_BYTES + caplen!;
    if (batch.out + recBytes > this.limit) {
      if (batch.records === 0) this.tooSmall(recBytes, this.limit - batch.out);
      return false;
    }
    if (!win.fill(pos, fixed + caplen!)) return false;
    b = win.buf; h = pos - win.start;
    const ts = this.ts, out = batch.out;
    convertTimestamp(hi, lo, iface, ts);
    putU32le(dst, out, ts[0]);
    putU32le(dst, out + 4, ts[1]);
    putU32le(dst, out + 8, caplen!);
    putU32le(dst, out + 12, wirelen);
    copyBytes(b, h + fixed, dst, out + RECORD_HEADER_BYTES, caplen!);
    batch.out += recBytes;
    batch.records++;
    batch.linkType = iface.linkType;
    this.recordsRead++;
    return true;
  }
}
