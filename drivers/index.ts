/** Capture-file drivers: readers (pcap, pcapng) behind CaptureSource, and writers. */
export { openCapture, openCaptureFile } from './capture.js';
export { PcapWriter, type PcapWriterOptions } from './pcap-writer.js';
export { PcapngWriter, type PcapngWriterOptions } from './pcapng-writer.js';
export { FileSink, MemorySink, type ByteSink } from './sink.js';
export { CaptureError, type Batch, type CaptureInfo, type CaptureSource } from './types.js';
