/**
 * Writes the P2 trace: `packets` corpus packets (Ethernet) repeated, as one pcap file, with
 * fplc's own writer. Default 1,000,000 packets (~360 MB with the corpus' size mix).
 */
import { PcapWriter } from '../drivers/pcap-writer.js';
import { corpusTrace } from './trace.js';
import { recordCaplenAt } from '../abi/index.js';

export function writeBigTrace(path: string, packets = 1_000_000): { packets: number; bytes: number } {
  const { records, packets: distinct } = corpusTrace(1, 20000, 8 << 20);
  const w = new PcapWriter(path, { linkType: 1, snaplen: 262144 });
  let written = 0;
  let bytes = 24;
  while (written < packets) {
    let off = 0;
    for (let i = 0; i < distinct && written < packets; i++) {
      const caplen = recordCaplenAt(records, off);
      w.writeRecord(records, off);
      bytes += 16 + caplen;
      off += 16 + caplen;
      written++;
    }
  }
  w.close();
  return { packets: written, bytes };
}
