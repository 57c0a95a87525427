/** What the pcap and pcapng readers share: error state, counters and argument checks. */
import { RECORD_HEADER_BYTES } from '../abi/index.js';
import { CaptureError, type Batch, type CaptureInfo, type CaptureSource } from './types.js';
import type { ByteWindow } from './window.js';

export abstract class RecordSource implements CaptureSource {
  error: CaptureError | undefined;
  recordsRead = 0;
  /** The error's message without its location. */
  protected errorText = '';
  /** File offset of the next record or block to parse. */
  protected pos: number;
  protected done = false;

  constructor(readonly info: CaptureInfo, protected readonly win: ByteWindow, startPos: number) {
    this.pos = startPos;
  }

  nextBatch(dst: Uint8Array, dstOff: number, maxBytes: number): Batch {
    if (!Number.isInteger(dstOff) || !Number.isInteger(maxBytes) || dstOff < 0 || maxBytes < 0 ||
        dstOff + maxBytes > dst.length) {
      throw new RangeError(`nextBatch: [dstOff=${dstOff}, dstOff+maxBytes=${dstOff + maxBytes}) is not inside dst (length ${dst.length})`);
    }
    if (this.done || this.error) return { records: 0, bytes: 0, linkType: this.info.linkType };
    return this.fillBatch(dst, dstOff, dstOff + maxBytes);
  }

  protected abstract fillBatch(dst: Uint8Array, dstOff: number, limit: number): Batch;

  /** Records the error for the packet at recordsRead, at file offset `offset`. */
  protected fail(message: string, offset: number): void {
    this.errorText = message;
    this.error = new CaptureError(`${message} (packet ${this.recordsRead}, file offset ${offset})`, this.recordsRead, offset);
  }

  /** A record that cannot fit even an empty batch is a caller error, not a capture error. */
  protected tooSmall(recordBytes: number, room: number): never {
    throw new RangeError(`nextBatch: the next record needs ${recordBytes} bytes (${RECORD_HEADER_BYTES}-byte header + data) but maxBytes is ${room}`);
  }

  close(): void {
    this.done = true;
    this.win.close();
  }
}
