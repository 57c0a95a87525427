/**
 * Direct reading of classic pcap files whose records are already in the ABI's layout
 * (little-endian, 16-byte record headers, version 2.4): the runtime reads file chunks straight
 * into a module's batch area and the module walks the records in place, with no copy and no
 * per-record work in JavaScript. Anything else — other byte order or version, records cut to
 * the snaplen, malformed or truncated records — is left to the general reader (capture.ts),
 * which the runtime switches to at the record where the direct path stopped.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { u16, u32 } from './bytes.js';
import { PCAP_FILE_HEADER_BYTES, pcapMagic } from './pcap.js';
import type { CaptureInfo } from './types.js';
import { MAX_CAPLEN } from '../abi/index.js';

export class DirectPcapFile {
  /** File offset of the next byte `read` returns. */
  pos = PCAP_FILE_HEADER_BYTES;

  private constructor(readonly path: string, private fd: number | undefined, readonly size: number, readonly info: CaptureInfo) {}

  /** Opens `path` for direct reading, or returns undefined when the file needs the general reader. */
  static open(path: string): DirectPcapFile | undefined {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const head = new Uint8Array(PCAP_FILE_HEADER_BYTES);
      if (readSync(fd, head, 0, head.length, 0) !== head.length) { closeSync(fd); return undefined; }
      const flavour = pcapMagic(head);
      if (!flavour || flavour.bigEndian || flavour.kuznetzov || u16(head, 4, false) !== 2 || u16(head, 6, false) !== 4) {
        closeSync(fd);
        return undefined;
      }
      const raw = u32(head, 16, false);
      const snaplen = raw === 0 || raw > MAX_CAPLEN ? MAX_CAPLEN : raw;
      const linkType = u32(head, 20, false) & 0x03ffffff;
      return new DirectPcapFile(path, fd, size, { format: 'pcap', linkType, snaplen, nanoseconds: flavour.nanoseconds, bigEndian: false });
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Reads up to `len` bytes at `pos` into dst[off…]; returns how many (0 at the end of the file). */
  read(dst: Uint8Array, off: number, len: number): number {
    if (this.fd === undefined) throw new Error('capture file is closed');
    const got = readRange(this.fd, dst, off, len, this.pos, this.size);
    this.pos += got;
    return got;
  }

  close(): void {
    if (this.fd !== undefined) { closeSync(this.fd); this.fd = undefined; }
  }
}

/** Reads up to `len` bytes of the file at [pos, size) into dst[off…]; returns how many (0 at the end). */
export function readRange(fd: number, dst: Uint8Array, off: number, len: number, pos: number, size: number): number {
  let got = 0;
  while (got < len && pos + got < size) {
    const n = readSync(fd, dst, off + got, Math.min(len - got, size - pos - got), pos + got);
    if (n <= 0) break;
    got += n;
  }
  return got;
}
