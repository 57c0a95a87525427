/**
 * A window of bytes over a capture file: the whole file in memory, or a reusable buffer that
 * slides over a file descriptor. Parsers see only this, so both readers share one parser.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ByteWindow {
  /** File bytes [start, end) live in buf[0, end - start). */
  readonly buf: Uint8Array;
  readonly start: number;
  readonly end: number;
  /** Size of the whole file. */
  readonly size: number;
  /**
   * Makes file bytes [off, off + len) present in buf; false when the file ends before
   * off + len. May discard bytes before `off`, so callers copy out what they still need
   * first. Callers bound len (the record-size bound), which bounds the window's memory.
   */
  fill(off: number, len: number): boolean;
  close(): void;
}

export class MemoryWindow implements ByteWindow {
  readonly start = 0;
  readonly end: number;
  readonly size: number;
  constructor(readonly buf: Uint8Array) {
    this.end = this.size = buf.length;
  }
  fill(off: number, len: number): boolean {
    return off + len <= this.size;
  }
  close(): void {}
}

export const DEFAULT_CHUNK_BYTES = 1 << 20;

export class FileWindow implements ByteWindow {
  buf: Uint8Array;
  start = 0;
  end = 0;
  readonly size: number;
  private fd: number | undefined;

  constructor(path: string, chunkBytes = DEFAULT_CHUNK_BYTES) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 16) {
      throw new RangeError(`openCaptureFile: chunkBytes must be an integer >= 16, got ${chunkBytes}`);
    }
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    this.buf = new Uint8Array(chunkBytes);
  }

  fill(off: number, len: number): boolean {
    if (off + len > this.size) return false;
    if (off >= this.start && off + len <= this.end) return true;
    if (this.fd === undefined) throw new Error('capture file is closed');
    if (len > this.buf.length) {
      // A record larger than the chunk: grow, but only to what the caller asked (bounded by it).
      const grown = new Uint8Array(Math.max(len, Math.min(this.buf.length * 2, len * 2)));
      this.keepFrom(off, grown);
      this.buf = grown;
    } else {
      this.keepFrom(off, this.buf);
    }
    // Refill the rest of the buffer from the file.
    let have = this.end - this.start;
    while (have < this.buf.length && this.end < this.size) {
      const n = readSync(this.fd, this.buf, have, this.buf.length - have, this.end);
      if (n <= 0) break;
      have += n;
      this.end += n;
    }
    return off + len <= this.end;
  }

  /** Moves the still-wanted bytes [off, end) to the front of `into` and rebases the window at off. */
  private keepFrom(off: number, into: Uint8Array): void {
    if (off >= this.start && off < this.end) {
      const from = off - this.start, to = this.end - this.start;
      if (into === this.buf) into.copyWithin(0, from, to);
      else into.set(this.buf.subarray(from, to), 0);
      this.start = off;
    } else {
      this.start = this.end = off;
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
