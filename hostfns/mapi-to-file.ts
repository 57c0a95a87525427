/**
 * TO_FILE(int format, char* path, unsigned long long count) — writes the packets that reach it
 * to a capture file. MFF_PCAP (0) and MFF_RAW (1) write pcap (the device's snaplen and link
 * type; the µs magic, or the ns magic when the trace has ns timestamps, so nothing is rounded);
 * MFF_PCAPNG (fplc's extension, 16) writes pcapng. Any other format → 7006. Applying it checks
 * that the file could be written (failure → 6155) and changes nothing; the file is created
 * (truncated) when the first packet reaches the function, or when its flow finishes without
 * one (hostfns/lib/lazy-file.ts), never when a program is only compiled or checked.
 * count: stop after that many packets (0 = no limit). Result: int 11 while writing, 0 once the
 * limit is hit — which it becomes when the packet after the last written one arrives (spec §2.1).
 * Always passes. The write runs in JavaScript for the packets that reach it only.
 */
import { writeSync } from 'node:fs';
import { c, seq } from '../lang/ir/ir.js';
import { add64, setS, type MapiFunctionDef } from './lib/types.js';
import { const64, lt64, state64 } from './lib/u64.js';
import { closeLazy, openLazy, unwritable, type LazyFile } from './lib/lazy-file.js';

export const MFF_PCAPNG = 16;
export const TO_FILE_WRITING = 11;

export interface ToFileConfig extends LazyFile { format: number; count: bigint; nanoseconds: boolean; header: Uint8Array }

const u32le = (b: Uint8Array, off: number, v: number): void => { new DataView(b.buffer, b.byteOffset).setUint32(off, v >>> 0, true); };

function pcapHeader(linkType: number, snaplen: number, nanoseconds: boolean): Uint8Array {
  const h = new Uint8Array(24);
  u32le(h, 0, nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4);
  h[4] = 2; h[6] = 4;
  u32le(h, 16, snaplen); u32le(h, 20, linkType);
  return h;
}

function pcapngHeader(linkType: number, snaplen: number, nanoseconds: boolean): Uint8Array {
  const shb = new Uint8Array(28);
  u32le(shb, 0, 0x0a0d0d0a); u32le(shb, 4, 28); u32le(shb, 8, 0x1a2b3c4d); shb[12] = 1;   // v1.0
  u32le(shb, 16, 0xffffffff); u32le(shb, 20, 0xffffffff); u32le(shb, 24, 28);           // section length unknown
  // IDB with if_tsresol (option 9) = 6 (µs) or 9 (ns)
  const idb = new Uint8Array(32);
  u32le(idb, 0, 1); u32le(idb, 4, 32); idb[8] = linkType & 0xff; idb[9] = linkType >> 8; u32le(idb, 12, snaplen);
  idb[16] = 9; idb[18] = 1; idb[20] = nanoseconds ? 9 : 6;   // option 9, length 1, padded to 4
  u32le(idb, 28, 32);                                        // end-of-options is implied by the block end (bytes 24..27 = 0)
  const out = new Uint8Array(shb.length + idb.length);
  out.set(shb); out.set(idb, shb.length);
  return out;
}

const scratch = new Uint8Array(28);

function writePacket(config: ToFileConfig, sec: number, frac: number, bytes: Uint8Array, off: number, caplen: number, wirelen: number): void {
  const fd = openLazy(config);
  if (fd === undefined) return;
  if (config.format === MFF_PCAPNG) {
    const pad = (4 - (caplen & 3)) & 3;
    const total = 28 + caplen + pad + 4;
    const unitsPerSec = config.nanoseconds ? 1_000_000_000n : 1_000_000n;
    const ts = BigInt(sec) * unitsPerSec + BigInt(frac);
    u32le(scratch, 0, 6); u32le(scratch, 4, total); u32le(scratch, 8, 0);
    u32le(scratch, 12, Number(ts >> 32n)); u32le(scratch, 16, Number(ts & 0xffffffffn));
    u32le(scratch, 20, caplen); u32le(scratch, 24, wirelen);
    writeSync(fd, scratch, 0, 28);
    writeSync(fd, bytes, off, caplen);
    const tail = new Uint8Array(pad + 4);
    u32le(tail, pad, total);
    writeSync(fd, tail);
    return;
  }
  u32le(scratch, 0, sec); u32le(scratch, 4, frac); u32le(scratch, 8, caplen); u32le(scratch, 12, wirelen);
  writeSync(fd, scratch, 0, 16);
  writeSync(fd, bytes, off, caplen);
}

export const TO_FILE: MapiFunctionDef<ToFileConfig> = {
  name: 'TO_FILE',
  argdescr: 'iwl',
  filters: false,
  summary: 'writes packets to a pcap (or pcapng) file; int 11 while writing, 0 after `count` packets',
  instance: (args, ctx) => {
    const [format, path, count] = args as [number, string, number | bigint];
    if (format !== 0 && format !== 1 && format !== MFF_PCAPNG) {
      return { ok: false, code: 7006, message: `TO_FILE: argument 1 (format) ${String(format)} is not supported: MFF_PCAP (0), MFF_RAW (1, written as pcap) or MFF_PCAPNG (16)` };
    }
    if (path === '') return { ok: false, code: 6155, message: 'TO_FILE: argument 2 (file name) must not be empty' };
    const header = format === MFF_PCAPNG ? pcapngHeader(ctx.linkType, ctx.snaplen, ctx.nanoseconds) : pcapHeader(ctx.linkType, ctx.snaplen, ctx.nanoseconds);
    const why = unwritable(path);
    if (why) return { ok: false, code: 6155, message: `TO_FILE: argument 2 (file name): cannot write ${JSON.stringify(path)}: ${why}` };
    return { ok: true, config: { format, path, count: BigInt(count), fd: undefined, nanoseconds: ctx.nanoseconds, header } };
  },
  // [written lo, written hi, limit reached]
  stateWords: () => 3,
  lower: (config, at) => {
    const b = at.stateBase;
    const write = seq(
      { k: 'eval', e: at.externCall('TO_FILE', (x) => {
        writePacket(config, x.tsSec, x.tsFrac, x.bytes, x.offset, x.caplen, x.wirelen);
        return 1;
      }, []) },
      add64(b, c(1), at.local()),
    );
    if (config.count === 0n) return write;
    return { k: 'if', cond: lt64(state64(b), const64(config.count)), then: write, else: setS(b + 2, c(1)) };
  },
  result: (_config, state) => ({ res: state[2] ? 0 : TO_FILE_WRITING, size: 4 }),
  // A flow that ran without a packet reaching the function still leaves a capture file (its header).
  finish: (config) => { openLazy(config); },
  cleanup: (config) => closeLazy(config),
};
