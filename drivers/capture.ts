/** Opening captures: the format is chosen by the first bytes, the rest is the shared parser. */
import { hex } from './bytes.js';
import { PcapSource, pcapMagic } from './pcap.js';
import { isPcapngMagic, PcapngSource } from './pcapng.js';
import { CaptureError, type CaptureSource } from './types.js';
import { FileWindow, MemoryWindow, type ByteWindow } from './window.js';

function openWindow(win: ByteWindow, what: string): CaptureSource {
  try {
    win.fill(0, Math.min(4, win.size));
    const head = win.buf.subarray(0, Math.min(4, win.end - win.start));
    if (head.length >= 4 && pcapMagic(head)) return new PcapSource(win);
    if (head.length >= 4 && isPcapngMagic(head)) return new PcapngSource(win);
    throw new CaptureError(
      `${what} is not a capture file: it starts with ${head.length ? `bytes ${hex(head, 4)}` : 'nothing (it is empty)'}; ` +
      'pcap (magic a1b2c3d4, a1b23c4d, a1b2cd34, either byte order) and pcapng (0a0d0d0a) are supported', undefined, 0);
  } catch (e) {
    win.close();
    throw e;
  }
}

/** Reads a capture held in memory. Throws CaptureError when the bytes are not a pcap/pcapng capture. */
export function openCapture(bytes: Uint8Array): CaptureSource {
  return openWindow(new MemoryWindow(bytes), 'the capture');
}

/**
 * Reads a capture file in chunks of `chunkBytes` (default 1 MiB) through one reusable buffer,
 * so memory stays bounded whatever the file's size. Throws CaptureError for a non-capture and
 * the fs error when the file cannot be opened.
 */
export function openCaptureFile(path: string, opts: { chunkBytes?: number } = {}): CaptureSource {
  return openWindow(new FileWindow(path, opts.chunkBytes), path);
}
