/**
 * Direct reading of pcapng files: the runtime reads file chunks straight into a module's batch
 * area, and `index` turns each Enhanced Packet Block there into a pcap record in place — the 16
 * bytes before the packet data (ts_high, ts_low, caplen, origlen) become ts_sec, ts_nsec,
 * caplen, wirelen; caplen and origlen are already where a record header has them — and lists
 * the records' offsets for the module's `run_index` entry. No packet is copied.
 *
 * Only what is certain to match the general reader (pcapng.ts) is taken in place: a
 * little-endian section opened by a section header and an interface description, more
 * interface descriptions, EPBs on interfaces of the filter's link type whose captured length
 * is within the interface's snaplen, and blocks the general reader skips (statistics, name
 * resolution, custom, unknown), each with the same length and trailer checks. Anything else —
 * a new section, a Simple or obsolete Packet Block, another link type, any malformed or
 * truncated block — is left to the general reader, which the runtime switches to at that block.
 * The runs of plain blocks (EPBs on interfaces with decimal timestamps, skipped blocks) are
 * walked in WebAssembly (pcapng-index-wasm.ts); this file's loop decides every other block.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { u16le, u32le } from './bytes.js';
import { readRange } from './pcap-direct.js';
import { BT_EPB, BT_IDB, BT_PB, BT_SHB, BT_SPB, MAX_BLOCK_BYTES, MAX_META_BLOCK_BYTES, parseInterfaceBlock, type PcapngInterface } from './pcapng.js';
import { convertTimestamp } from './timestamps.js';
import { IFACE_ENTRY_BYTES, ifaceEntry, pcapngIndexer } from './pcapng-index-wasm.js';
import type { CaptureInfo } from './types.js';
import { linkTypeName } from '../abi/index.js';

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** EPB: type, length, interface, ts_high, ts_low, caplen, origlen; the record header starts at ts_high. */
const EPB_FIXED = 28;
const EPB_RECORD_AT = 12;

interface Iface extends PcapngInterface {
  /** The filter's link type: its packets may be run in place. */
  readonly direct: boolean;
}

/**
 * A little-endian IDB as the general reader parses it; undefined where it would report an error.
 * Without `filterLinkType`, its packets are direct (the first interface of a device's file).
 */
function parseInterface(b: Uint8Array, h: number, len: number, filterLinkType?: number): Iface | undefined {
  const iface = parseInterfaceBlock(b, h, len, false);
  return typeof iface === 'string' ? undefined : { ...iface, direct: linkTypeName(iface.linkType) === linkTypeName(filterLinkType ?? iface.linkType) };
}

export class DirectPcapngFile {
  /** File offset of the next byte `read` returns. */
  pos: number;
  /** After `index`: bytes of whole blocks it went through, from the start of the chunk. */
  consumed = 0;
  /** After `index`: the block at `consumed` needs the general reader. */
  handover = false;
  private readonly ifaces: Iface[];
  private readonly ts = new Uint32Array(2);

  private constructor(readonly path: string, private fd: number | undefined, readonly size: number,
    readonly info: CaptureInfo, first: Iface, start: number, private readonly filterLinkType: number) {
    this.ifaces = [first];
    this.pos = start;
  }

  /**
   * Opens `path` for direct reading by a filter for `filterLinkType`, or returns undefined when
   * the file needs the general reader from its start: not a little-endian pcapng file that opens
   * with a well-formed section header immediately followed by an interface description.
   * Without `filterLinkType`, the reader is for the first interface's link type (a MAPI device's).
   */
  static open(path: string, filterLinkType?: number): DirectPcapngFile | undefined {
    const fd = openSync(path, 'r');
    let keep = false;
    try {
      const size = fstatSync(fd).size;
      const at = (off: number, len: number): Uint8Array | undefined => {
        if (off + len > size) return undefined;
        const b = new Uint8Array(len);
        return readSync(fd, b, 0, len, off) === len ? b : undefined;
      };
      const shb = at(0, 16);
      if (!shb || u32le(shb, 0) !== BT_SHB || u32le(shb, 8) !== BYTE_ORDER_MAGIC) return undefined;
      const shbLen = u32le(shb, 4), major = u16le(shb, 12), minor = u16le(shb, 14);
      // The general reader does not check the first section header's trailer.
      if (shbLen < 28 || shbLen % 4 !== 0 || shbLen > MAX_BLOCK_BYTES || shbLen > size) return undefined;
      if (!(major === 1 && (minor === 0 || minor === 2))) return undefined;
      const idbHead = at(shbLen, 8);
      if (!idbHead || u32le(idbHead, 0) !== BT_IDB) return undefined;
      const idbLen = u32le(idbHead, 4);
      if (idbLen < 20 || idbLen % 4 !== 0 || idbLen > MAX_META_BLOCK_BYTES) return undefined;
      const idb = at(shbLen, idbLen);
      if (!idb || u32le(idb, idbLen - 4) !== idbLen) return undefined;
      const first = parseInterface(idb, 0, idbLen, filterLinkType);
      if (!first) return undefined;
      const info: CaptureInfo = { format: 'pcapng', linkType: first.linkType, snaplen: first.snaplen, nanoseconds: true, bigEndian: false };
      keep = true;
      return new DirectPcapngFile(path, fd, size, info, first, shbLen + idbLen, filterLinkType ?? first.linkType);
    } finally {
      if (!keep) closeSync(fd);
    }
  }

  /** Reads up to `len` bytes at `pos` into dst[off…]; returns how many (0 at the end of the file). */
  read(dst: Uint8Array, off: number, len: number): number {
    if (this.fd === undefined) throw new Error('capture file is closed');
    const got = readRange(this.fd, dst, off, len, this.pos, this.size);
    this.pos += got;
    return got;
  }

  /**
   * Walks the blocks of the chunk just read, bytes[start, start + avail) of `memory` (its first
   * byte is the start of a block, `start` a multiple of 4; `bytes` and `words` view the memory),
   * rewriting every EPB it takes into a record in place and writing the record's address to
   * words[indexWord + i]. Returns the number of records. Stops at the end of the chunk or at a
   * partial block (`consumed` tells where; the caller carries the rest over), or at a block the
   * general reader must take (`handover`). [tableOff, tableOff + tableBytes) is scratch memory
   * for the interface table of the WebAssembly walk (pcapng-index-wasm.ts), which takes runs of
   * plain blocks; this loop decides every other block, one at a time.
   */
  index(memory: WebAssembly.Memory, bytes: Uint8Array, words: Uint32Array, start: number, avail: number, indexWord: number,
    tableOff: number, tableBytes: number): number {
    if (tableOff % 4 !== 0) throw new RangeError(`the interface table's offset ${tableOff} is not a multiple of 4`);
    const ifaces = this.ifaces, ts = this.ts;
    const fileStart = this.pos - avail;
    const fast = pcapngIndexer(memory);
    const tableCap = Math.floor(tableBytes / IFACE_ENTRY_BYTES);
    for (let i = 0; i < ifaces.length && i < tableCap; i++) this.writeEntry(words, tableOff, i);
    const fileRoom = Math.min(this.size - fileStart, 0xffffffff);
    let off = 0, n = 0;
    this.handover = false;
    for (;;) {
      off = fast.index(start, off, avail, fileRoom, (indexWord + n) * 4, tableOff, Math.min(ifaces.length, tableCap));
      n += fast.count.value as number;
      if (avail - off < 8) break;
      const w = (start + off) >>> 2;
      const type = words[w]!, len = words[w + 1]!;
      if (len < 12 || (len & 3) !== 0 || len > MAX_BLOCK_BYTES || fileStart + off + len > this.size || type === BT_SHB) {
        this.handover = true;
        break;
      }
      if (len > avail - off) break;   // carried to the next chunk
      if (words[w + (len >>> 2) - 1] !== len) { this.handover = true; break; }
      if (type === BT_EPB) {
        const id = words[w + 2]!, caplen = words[w + 5]!;
        const iface = id < ifaces.length ? ifaces[id]! : undefined;
        if (len < EPB_FIXED + 4 || !iface || !iface.direct || caplen > iface.snaplen || EPB_FIXED + caplen > len - 4) {
          this.handover = true;
          break;
        }
        convertTimestamp(words[w + 3]!, words[w + 4]!, iface, ts);
        words[w + 3] = ts[0]!;
        words[w + 4] = ts[1]!;
        words[indexWord + n++] = start + off + EPB_RECORD_AT;
      } else if (type === BT_IDB) {
        const iface = parseInterface(bytes, start + off, len, this.filterLinkType);
        if (!iface) { this.handover = true; break; }
        ifaces.push(iface);
        if (ifaces.length <= tableCap) this.writeEntry(words, tableOff, ifaces.length - 1);
      } else if (type === BT_SPB || type === BT_PB) {
        this.handover = true;
        break;
      }   // any other block is skipped by its length, as the general reader does
      off += len;
    }
    this.consumed = off;
    return n;
  }

  private writeEntry(words: Uint32Array, tableOff: number, i: number): void {
    const iface = this.ifaces[i]!;
    words.set(ifaceEntry(iface, iface.direct), (tableOff + i * IFACE_ENTRY_BYTES) >>> 2);
  }

  close(): void {
    if (this.fd !== undefined) { closeSync(this.fd); this.fd = undefined; }
  }
}
