/** Where writers put bytes: a file (through a buffered fd) or memory. */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface ByteSink {
  /** Takes the bytes now (the caller reuses the array afterwards). */
  write(bytes: Uint8Array): void;
  close(): void;
}

export class FileSink implements ByteSink {
  private fd: number | undefined;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  write(bytes: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.path}: write after close`);
    for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }
  close(): void {
    if (this.fd !== undefined) { closeSync(this.fd); this.fd = undefined; }
  }
}

/** Collects everything written; `bytes()` returns the file so far. */
export class MemorySink implements ByteSink {
  private buf = new Uint8Array(4096);
  private len = 0;
  write(bytes: Uint8Array): void {
    if (this.len + bytes.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + bytes.length));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
  close(): void {}
}

/**
 * A staging buffer in front of a sink, so records are copied once into a large chunk and the
 * sink sees few, large writes.
 */
export class BufferedOutput {
  /** Staging bytes; `reserve` says where the next write goes. */
  readonly buf: Uint8Array;
  private len = 0;
  private closed = false;
  readonly sink: ByteSink;

  constructor(sink: string | ByteSink, bufferBytes = 1 << 20) {
    this.sink = typeof sink === 'string' ? new FileSink(sink) : sink;
    this.buf = new Uint8Array(bufferBytes);
  }

  /** Returns the offset in `buf` where `n` bytes may be written now (flushing first if needed). */
  reserve(n: number): number {
    if (this.closed) throw new Error('write after close');
    if (n > this.buf.length) throw new RangeError(`a ${n}-byte write exceeds the ${this.buf.length}-byte output buffer`);
    if (this.len + n > this.buf.length) this.flush();
    const off = this.len;
    this.len += n;
    return off;
  }

  flush(): void {
    if (this.len > 0) this.sink.write(this.buf.subarray(0, this.len));
    this.len = 0;
  }

  close(): void {
    if (this.closed) return;
    try { this.flush(); } finally { this.closed = true; this.sink.close(); }
  }
}
