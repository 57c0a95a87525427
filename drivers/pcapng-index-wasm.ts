/**
 * The hot loop of the pcapng direct path (pcapng-direct.ts) in WebAssembly: it walks the blocks
 * of a chunk in a filter's memory, turns each Enhanced Packet Block on a plain interface into a
 * pcap record in place and lists it in the index, and skips the blocks the general reader skips.
 * It stops at the first block it does not take on the same terms (an interface description, a
 * new section, another packet block, an EPB on an interface outside the table or with an
 * unusual timestamp resolution, anything malformed, the end of the chunk); the JavaScript walk
 * decides about that block and calls it again. So its result is the JavaScript walk's by
 * construction, which test/drivers/pcapng-index-wasm.test.ts checks on real and random files.
 *
 * The module is a few dozen instructions, written out here in bytes: the driver needs no
 * compiler (binaryen is loaded only to compile filters). It imports the filter's memory.
 *
 *   index(start, off, avail, fileRoom, out, table, ifaces) -> off'
 *     start     address of the chunk; blocks from start + off on, avail bytes in all
 *     fileRoom  bytes of the file from the chunk's start (clamped to 2^32 - 1)
 *     out       address of the next index entry (the record's address is written there)
 *     table     `ifaces` interface entries of IFACE_ENTRY_BYTES: u32 snaplen, units (0: not
 *               taken here), nsMul, offset
 *   returns the offset of the block it stopped at; the exported global `count` holds the
 *   number of records it listed.
 */
import { BT_EPB, BT_IDB, BT_PB, BT_SHB, BT_SPB, MAX_BLOCK_BYTES } from './pcapng.js';
import type { TsResolution } from './timestamps.js';

export const IFACE_ENTRY_BYTES = 16;

/** An interface's table entry; units = 0 leaves its packets to the JavaScript walk. */
export function ifaceEntry(iface: TsResolution & { snaplen: number }, direct: boolean): [number, number, number, number] {
  if (!direct || !iface.decimal || iface.exp > 9) return [0, 0, 0, 0];
  return [iface.snaplen >>> 0, 10 ** iface.exp, 10 ** (9 - iface.exp), iface.offset >>> 0];
}

// --- a minimal WebAssembly encoder: just what the function below uses ---
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do { let b = n & 0x7f; n >>>= 7; if (n !== 0) b |= 0x80; out.push(b); } while (n !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
};
const utf8 = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];

const I32 = 0x7f, I64 = 0x7e, VOID = 0x40;
const get = (l: number) => [0x20, ...uleb(l)];
const set = (l: number) => [0x21, ...uleb(l)];
const tee = (l: number) => [0x22, ...uleb(l)];
const i32 = (v: number) => [0x41, ...sleb(v | 0)];
const load = (offset: number) => [0x28, 2, ...uleb(offset)];    // i32.load align=4
const store = (offset: number) => [0x36, 2, ...uleb(offset)];   // i32.store align=4
const brIf = (depth: number) => [0x0d, ...uleb(depth)];
const [ADD, SUB, MUL, AND, EQZ, EQ, NE, LT_U, GT_U, GE_U] = [0x6a, 0x6b, 0x6c, 0x71, 0x45, 0x46, 0x47, 0x49, 0x4b, 0x4f];
const [I64_EXTEND_U, I64_SHL, I64_OR, I64_DIV_U, I64_MUL, I64_SUB, WRAP] = [0xad, 0x86, 0x84, 0x80, 0x7e, 0x7d, 0xa7];
const i64 = (v: number) => [0x42, ...sleb(v)];
const END = 0x0b;

// Parameters, then locals.
const START = 0, OFF = 1, AVAIL = 2, ROOM = 3, OUT = 4, TABLE = 5, IFACES = 6;
const P = 7, TYPE = 8, LEN = 9, E = 10, CAPLEN = 11, N = 12, T = 13 /* i64 */, SEC = 14 /* i64 */;

function body(): number[] {
  // Inside `block $stop (loop $next …)`: depth 0 is the loop, 1 the block. In the EPB `if`, one more.
  const stopIf = (cond: number[], depth = 1) => [...cond, ...brIf(depth)];
  const epb = [
    ...stopIf([...get(LEN), ...i32(32), LT_U], 2),
    // The interface's entry: inside the table, and taken here (units != 0).
    ...stopIf([...get(P), ...load(8), ...get(IFACES), GE_U], 2),
    ...get(TABLE), ...get(P), ...load(8), ...i32(IFACE_ENTRY_BYTES), MUL, ADD, ...set(E),
    ...stopIf([...get(E), ...load(4), EQZ], 2),
    ...stopIf([...get(P), ...load(20), ...tee(CAPLEN), ...get(E), ...load(0), GT_U], 2),
    ...stopIf([...get(CAPLEN), ...get(LEN), ...i32(32), SUB, GT_U], 2),
    // t = ts_high:ts_low in units; sec = t / units; the record gets sec + offset (mod 2^32) and
    // the remainder in nanoseconds.
    ...get(P), ...load(12), I64_EXTEND_U, ...i64(32), I64_SHL, ...get(P), ...load(16), I64_EXTEND_U, I64_OR, ...set(T),
    ...get(T), ...get(E), ...load(4), I64_EXTEND_U, I64_DIV_U, ...set(SEC),
    ...get(P), ...get(SEC), WRAP, ...get(E), ...load(12), ADD, ...store(12),
    ...get(P), ...get(T), ...get(SEC), ...get(E), ...load(4), I64_EXTEND_U, I64_MUL, I64_SUB, WRAP, ...get(E), ...load(8), MUL, ...store(16),
    // The index entry: the record's address (its header starts at the EPB's ts_high).
    ...get(OUT), ...get(P), ...i32(12), ADD, ...store(0),
    ...get(OUT), ...i32(4), ADD, ...set(OUT),
    ...get(N), ...i32(1), ADD, ...set(N),
  ];
  const loop = [
    ...stopIf([...get(AVAIL), ...get(OFF), SUB, ...i32(8), LT_U]),
    ...get(START), ...get(OFF), ADD, ...set(P),
    ...get(P), ...load(0), ...set(TYPE),
    ...get(P), ...load(4), ...set(LEN),
    ...stopIf([...get(LEN), ...i32(12), LT_U]),
    ...stopIf([...get(LEN), ...i32(3), AND]),
    ...stopIf([...get(LEN), ...i32(MAX_BLOCK_BYTES), GT_U]),
    ...stopIf([...get(OFF), ...get(LEN), ADD, ...get(ROOM), GT_U]),   // no wrap: off < 2^23, len <= 2^24
    ...stopIf([...get(LEN), ...get(AVAIL), ...get(OFF), SUB, GT_U]),
    ...stopIf([...get(P), ...get(LEN), ADD, ...i32(4), SUB, ...load(0), ...get(LEN), NE]),
    ...stopIf([...get(TYPE), ...i32(BT_SHB), EQ]),
    ...stopIf([...get(TYPE), ...i32(BT_IDB), EQ]),
    ...stopIf([...get(TYPE), ...i32(BT_PB), EQ]),
    ...stopIf([...get(TYPE), ...i32(BT_SPB), EQ]),
    ...get(TYPE), ...i32(BT_EPB), EQ, 0x04, VOID, ...epb, END,   // if EPB … end; other blocks are skipped
    ...get(OFF), ...get(LEN), ADD, ...set(OFF),
    0x0c, 0,   // br $next
  ];
  const code = [
    0x02, VOID, 0x03, VOID, ...loop, END, END,   // block $stop (loop $next …)
    ...get(N), 0x24, 0,                          // count = n
    ...get(OFF), END,                            // return off
  ];
  const locals = vec([[...uleb(6), I32], [...uleb(2), I64]]);
  return [...locals, ...code];
}

let compiled: WebAssembly.Module | undefined;

/** The compiled indexer module (compiled once per process). */
export function pcapngIndexModule(): WebAssembly.Module {
  if (compiled) return compiled;
  const fn = body();
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...uleb(7), ...new Array(7).fill(I32), 1, I32]])),
    ...section(2, vec([[...utf8('env'), ...utf8('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec([[0]])),
    ...section(6, vec([[I32, 1, ...i32(0), END]])),
    ...section(7, vec([[...utf8('index'), 0x00, 0], [...utf8('count'), 0x03, 0]])),
    ...section(10, vec([[...uleb(fn.length), ...fn]])),
  ];
  compiled = new WebAssembly.Module(new Uint8Array(bytes));
  return compiled;
}

export interface PcapngIndexer {
  index(start: number, off: number, avail: number, fileRoom: number, out: number, table: number, ifaces: number): number;
  readonly count: WebAssembly.Global;
}

const instances = new WeakMap<WebAssembly.Memory, PcapngIndexer>();

/** The indexer on `memory` (one instance per memory). */
export function pcapngIndexer(memory: WebAssembly.Memory): PcapngIndexer {
  let ix = instances.get(memory);
  if (!ix) {
    ix = new WebAssembly.Instance(pcapngIndexModule(), { env: { memory } }).exports as unknown as PcapngIndexer;
    instances.set(memory, ix);
  }
  return ix;
}
