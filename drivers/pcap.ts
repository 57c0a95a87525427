/**
 * Classic pcap files: both byte orders, µs (a1b2c3d4) and ns (a1b23c4d) magics, and the
 * modified ("Kuznetzov", a1b2cd34) format whose records carry 8 extra header bytes.
 *
 * Acceptance mirrors libpcap 1.10's sf-pcap.c so packet counts agree with tcpdump: versions
 * 2.0–2.4 and 543.0; caplen/wirelen swapped in files older than 2.3 (and in 2.3 when caplen >
 * wirelen); a caplen above the file's snaplen but within the 256 KiB bound is accepted and
 * cut to the snaplen; a caplen above the bound is an error.
 */
import { MAX_CAPLEN, RECORD_HEADER_BYTES } from '../abi/index.js';
import { copyBytes, putU32le, u16, u32, u32le } from './bytes.js';
import { RecordSource } from './source.js';
import { CaptureError, type Batch } from './types.js';
import type { ByteWindow } from './window.js';

export const PCAP_FILE_HEADER_BYTES = 24;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_KUZNETZOV = 0xa1b2cd34;
const swap32 = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

/** Returns the pcap flavour a file's first four bytes announce, or undefined. */
export function pcapMagic(b: Uint8Array): { bigEndian: boolean; nanoseconds: boolean; kuznetzov: boolean } | undefined {
  if (b.length < 4) return undefined;
  const m = u32le(b, 0);
  for (const magic of [MAGIC_US, MAGIC_NS, MAGIC_KUZNETZOV]) {
    if (m === magic || m === swap32(magic)) {
      return { bigEndian: m !== magic, nanoseconds: magic === MAGIC_NS, kuznetzov: magic === MAGIC_KUZNETZOV };
    }
  }
  return undefined;
}

const enum Lengths { NotSwapped, Swapped, MaybeSwapped }

export class PcapSource extends RecordSource {
  private readonly big: boolean;
  private readonly hdrBytes: number;
  private readonly snapshot: number;
  private readonly lengths: Lengths;

  constructor(win: ByteWindow) {
    if (!win.fill(0, PCAP_FILE_HEADER_BYTES)) {
      throw new CaptureError(`truncated pcap file header: ${PCAP_FILE_HEADER_BYTES} bytes needed, the file has ${win.size}`, undefined, 0);
    }
    const b = win.buf;
    const flavour = pcapMagic(b)!;
    const big = flavour.bigEndian;
    const major = u16(b, 4, big), minor = u16(b, 6, big);
    if (major < 2) throw new CaptureError(`archaic pcap file format version ${major}.${minor}`, undefined, 4);
    if (!((major === 2 && minor <= 4) || (major === 543 && minor === 0))) {
      throw new CaptureError(`unsupported pcap file version ${major}.${minor} (2.0–2.4 are supported)`, undefined, 4);
    }
    const rawSnaplen = u32(b, 16, big);
    const linkType = u32(b, 20, big) & 0x03ffffff;   // upper bits carry FCS information
    const snapshot = rawSnaplen === 0 || rawSnaplen > MAX_CAPLEN ? MAX_CAPLEN : rawSnaplen;
    super({ format: 'pcap', linkType, snaplen: snapshot, nanoseconds: flavour.nanoseconds, bigEndian: big },
      win, PCAP_FILE_HEADER_BYTES);
    this.big = big;
    this.hdrBytes = flavour.kuznetzov ? 24 : 16;
    this.snapshot = snapshot;
    this.lengths = major === 2 && minor < 3 ? Lengths.Swapped : major === 2 && minor === 3 ? Lengths.MaybeSwapped : Lengths.NotSwapped;
  }

  protected fillBatch(dst: Uint8Array, dstOff: number, limit: number): Batch {
    const win = this.win, big = this.big, hdrBytes = this.hdrBytes;
    // Records that need no rewriting (little-endian, 16-byte header, kept whole) are copied as
    // one contiguous run with a single dst.set per run.
    const identityPossible = !big && hdrBytes === RECORD_HEADER_BYTES && this.lengths === Lengths.NotSwapped;
    let out = dstOff, records = 0;
    let runFrom = -1, runDst = 0;
    const flushRun = () => {
      if (runFrom < 0) return;
      dst.set(win.buf.subarray(runFrom - win.start, this.pos - win.start), runDst);
      runFrom = -1;
    };
    for (;;) {
      const pos = this.pos;
      if (pos >= win.size) { this.done = true; break; }
      if (pos + hdrBytes > win.end) {
        flushRun();
        if (!win.fill(pos, hdrBytes)) {
          this.fail(`truncated record header: ${hdrBytes} bytes needed, ${win.size - pos} left in the file`, pos);
          break;
        }
      }
      const h = pos - win.start, b = win.buf;
      let caplen = u32(b, h + 8, big), wirelen = u32(b, h + 12, big);
      if (this.lengths === Lengths.Swapped || (this.lengths === Lengths.MaybeSwapped && caplen > wirelen)) {
        const t = caplen; caplen = wirelen; wirelen = t;
      }
      if (caplen > MAX_CAPLEN) {
        this.fail(`invalid captured length ${caplen}: larger than ${caplen > this.snapshot && this.snapshot < MAX_CAPLEN ? `the snaplen ${this.snapshot} and ` : ''}the ${MAX_CAPLEN}-byte bound`, pos);
        break;
      }
      const kept = caplen > this.snapshot ? this.snapshot : caplen;
      const recBytes = RECORD_HEADER_BYTES + kept;
      if (out + recBytes > limit) {
        if (records === 0) this.tooSmall(recBytes, limit - dstOff);
        break;
      }
      const need = hdrBytes + caplen;
      if (pos + need > win.end) {
        flushRun();
        if (!win.fill(pos, need)) {
          this.fail(`truncated record data: ${caplen} captured bytes announced, ${win.size - pos - hdrBytes} left in the file`, pos);
          break;
        }
      }
      if (identityPossible && kept === caplen) {
        if (runFrom < 0) { runFrom = pos; runDst = out; }
      } else {
        flushRun();
        const s = pos - win.start, wb = win.buf;
        putU32le(dst, out, u32(wb, s, big));
        putU32le(dst, out + 4, u32(wb, s + 4, big));
        putU32le(dst, out + 8, kept);
        putU32le(dst, out + 12, wirelen);
        copyBytes(wb, s + hdrBytes, dst, out + RECORD_HEADER_BYTES, kept);
      }
      out += recBytes;
      records++;
      this.recordsRead++;
      this.pos = pos + need;
    }
    flushRun();
    return { records, bytes: out - dstOff, linkType: this.info.linkType };
  }
}
