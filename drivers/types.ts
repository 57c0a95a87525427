/**
 * The contract between capture-file drivers and the runtime. A source hands out batches of
 * whole records already in the ABI's layout (abi/index.ts: little-endian pcap records), copied
 * into a destination buffer — normally the module's memory.
 */
export interface CaptureInfo {
  format: 'pcap' | 'pcapng';
  /** Link type of the first interface (pcapng) or the file (pcap). */
  linkType: number;
  snaplen: number;
  /** Record timestamps' sub-second unit: nanoseconds (true) or microseconds. pcapng batches are always ns. */
  nanoseconds: boolean;
  /** File byte order. */
  bigEndian: boolean;
}

export interface Batch {
  /** Records written and bytes used in dst. `records` is 0 only at the end (or after an error). */
  records: number;
  bytes: number;
  /** Link type of every record in this batch (a batch never mixes link types). */
  linkType: number;
}

/** A malformed capture: names the record (0-based index of the packet) and the byte offset in the file. */
export class CaptureError extends Error {
  constructor(message: string, readonly recordIndex?: number, readonly offset?: number) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface CaptureSource {
  readonly info: CaptureInfo;
  /**
   * Copies as many whole records as fit into dst[dstOff, dstOff+maxBytes). Stops early at a
   * link-type change. Returns records: 0 at the end of the capture or once `error` is set.
   */
  nextBatch(dst: Uint8Array, dstOff: number, maxBytes: number): Batch;
  /** Set when a malformed record stopped reading; the records before it were delivered. */
  readonly error: CaptureError | undefined;
  /** Records delivered so far. */
  readonly recordsRead: number;
  close(): void;
}
