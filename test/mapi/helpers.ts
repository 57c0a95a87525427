/** Shared helpers of the MAPI tests: records of a capture (through the drivers), pcap writing, device runs. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureFile } from '../../drivers/capture.js';

export interface Rec { sec: number; frac: number; caplen: number; wlen: number; bytes: Uint8Array }

/** Every record of a capture, as the drivers deliver them (stops at a malformed record). */
export function readRecords(path: string): { records: Rec[]; linkType: number; nanoseconds: boolean } {
  const src = openCaptureFile(path);
  const buf = new Uint8Array(1 << 20);
  const out: Rec[] = [];
  const dv = new DataView(buf.buffer);
  try {
    for (;;) {
      const b = src.nextBatch(buf, 0, buf.length);
      if (b.records === 0) break;
      let off = 0;
      for (let i = 0; i < b.records; i++) {
        const caplen = dv.getUint32(off + 8, true);
        out.push({ sec: dv.getUint32(off, true), frac: dv.getUint32(off + 4, true), caplen, wlen: dv.getUint32(off + 12, true), bytes: buf.slice(off + 16, off + 16 + caplen) });
        off += 16 + caplen;
      }
    }
    return { records: out, linkType: src.info.linkType, nanoseconds: src.info.nanoseconds };
  } finally {
    src.close();
  }
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'fplc-mapi-'));

/** Writes a little-endian µs pcap file (written here, independently of the drivers' writer). */
export function writePcap(path: string, packets: { sec: number; usec: number; bytes: Uint8Array; wlen?: number }[], linkType = 1): string {
  const size = 24 + packets.reduce((n, p) => n + 16 + p.bytes.length, 0);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true); dv.setUint16(4, 2, true); dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true); dv.setUint32(20, linkType, true);
  let off = 24;
  for (const p of packets) {
    dv.setUint32(off, p.sec, true); dv.setUint32(off + 4, p.usec, true);
    dv.setUint32(off + 8, p.bytes.length, true); dv.setUint32(off + 12, p.wlen ?? p.bytes.length, true);
    b.set(p.bytes, off + 16);
    off += 16 + p.bytes.length;
  }
  writeFileSync(path, b);
  return path;
}

/** tcpdump's count of packets matching `expr` in `path` (undefined when tcpdump fails on the file). */
export function tcpdumpCount(path: string, expr: string): number | undefined {
  try {
    const out = execFileSync('tcpdump', ['-r', path, '--count', expr], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    const m = /(\d+) packets?/.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** An Ethernet/IPv4 frame with a transport header and payload (checksums left 0). */
export function ipv4Frame(proto: number, payload: Uint8Array, opts: {
  sport?: number; dport?: number; ihl?: number; tcpHl?: number;
  /** Addresses (default 10.0.0.1 → 10.0.0.2), the IPv4 id, the TCP flags. */
  src?: readonly number[]; dst?: readonly number[]; id?: number; flags?: number;
} = {}): Uint8Array {
  const ihl = opts.ihl ?? 5;
  const l4len = proto === 6 ? (opts.tcpHl ?? 5) * 4 : proto === 17 || proto === 1 ? 8 : 0;
  const total = 14 + ihl * 4 + l4len + payload.length;
  const f = new Uint8Array(total);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, 0x0800);
  f[14] = 0x40 | ihl; dv.setUint16(16, total - 14); dv.setUint16(18, opts.id ?? 0); f[22] = 64; f[23] = proto;
  f.set(opts.src ?? [10, 0, 0, 1], 26); f.set(opts.dst ?? [10, 0, 0, 2], 30);
  const l4 = 14 + ihl * 4;
  if (proto === 6 || proto === 17) { dv.setUint16(l4, opts.sport ?? 1234); dv.setUint16(l4 + 2, opts.dport ?? 80); }
  if (proto === 6) { f[l4 + 12] = (opts.tcpHl ?? 5) << 4; f[l4 + 13] = opts.flags ?? 0; }
  f.set(payload, l4 + l4len);
  return f;
}
