/**
 * The WebAssembly walk of the pcapng direct path (drivers/pcapng-index-wasm.ts), on its own:
 * on random sequences of blocks, well-formed and not, it takes exactly the run of blocks a plain
 * model of its contract takes — EPBs on interfaces of the table that pass the JavaScript walk's
 * checks, and blocks the general reader skips — stops at the first other one, and converts
 * timestamps as convertTimestamp does. (pcapng-direct.test.ts checks the whole path against the
 * general reader; this checks that the WebAssembly walk is what does the work there.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IFACE_ENTRY_BYTES, ifaceEntry, pcapngIndexer } from '../../drivers/pcapng-index-wasm.js';
import { convertTimestamp, type TsResolution } from '../../drivers/timestamps.js';
import { PcapngBuilder } from './build.js';

const START = 65536, OUT = 1 << 20, TABLE = 2 << 20;
const memory = new WebAssembly.Memory({ initial: 48, maximum: 48 });
const bytes = new Uint8Array(memory.buffer), words = new Uint32Array(memory.buffer);

interface Iface extends TsResolution { snaplen: number; direct: boolean }
const ifaceArb: fc.Arbitrary<Iface> = fc.record({
  snaplen: fc.constantFrom(64, 1500, 65535),
  direct: fc.boolean(),
  decimal: fc.boolean(),
  exp: fc.integer({ min: 0, max: 12 }),
  offset: fc.constantFrom(0, 1, 0xfffffff0),
});

type Block =
  | { kind: 'epb'; iface: number; hi: number; lo: number; len: number; caplen?: number }
  | { kind: 'other'; type: number; len: number }
  | { kind: 'badLength'; length: number }
  | { kind: 'badTrailer' };
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const blockArb: fc.Arbitrary<Block> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('epb' as const), iface: fc.integer({ min: 0, max: 3 }),
    hi: fc.oneof(fc.integer({ min: 0, max: 0x60000 }), u32), lo: u32, len: fc.integer({ min: 0, max: 120 }),
    caplen: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('other' as const), type: fc.constantFrom(1, 2, 3, 4, 5, 10, 0xbad, 0x0a0d0d0a), len: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('badLength' as const), length: fc.constantFrom(0, 8, 13, 0x7ffffff0) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'badTrailer' as const }) },
);

function build(blocks: Block[]): Uint8Array {
  const b = new PcapngBuilder();
  for (const x of blocks) {
    if (x.kind === 'epb') b.epb(x.iface, x.hi, x.lo, new Uint8Array(x.len).fill(7), x.caplen === undefined ? {} : { caplen: x.caplen });
    else if (x.kind === 'other') b.other(x.type, new Uint8Array(x.len));
    else if (x.kind === 'badLength') b.other(0xbad, new Uint8Array(4), { length: x.length });
    else b.other(0xbad, new Uint8Array(4), { trailer: 1234 });
  }
  return b.bytes();
}

const le32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/** The contract, plainly: the offset where the walk stops and the records it lists (address, ts_sec, ts_frac). */
function model(chunk: Uint8Array, avail: number, fileRoom: number, ifaces: Iface[]): { off: number; records: number[][] } {
  const records: number[][] = [];
  const ts = new Uint32Array(2);
  let off = 0;
  for (;;) {
    if (avail - off < 8) break;
    const type = le32(chunk, off), len = le32(chunk, off + 4);
    if (len < 12 || len % 4 !== 0 || len > 16 * 1024 * 1024 || off + len > fileRoom || len > avail - off) break;
    if (le32(chunk, off + len - 4) !== len) break;
    if ([0x0a0d0d0a, 1, 2, 3].includes(type)) break;
    if (type === 6) {
      const id = le32(chunk, off + 8), caplen = le32(chunk, off + 20);
      const iface = ifaces[id];
      if (len < 32 || !iface || ifaceEntry(iface, iface.direct)[1] === 0 || caplen > iface.snaplen || caplen > len - 32) break;
      convertTimestamp(le32(chunk, off + 12), le32(chunk, off + 16), iface, ts);
      records.push([START + off + 12, ts[0]!, ts[1]!]);
    }
    off += len;
  }
  return { off, records };
}

describe('the WebAssembly pcapng walk', () => {
  it('takes the run of blocks its contract allows and stops at the first other one', () => {
    fc.assert(fc.property(fc.array(ifaceArb, { maxLength: 3 }), fc.array(blockArb, { maxLength: 30 }), fc.nat(64), fc.boolean(),
      (ifaces, blocks, cut, shortFile) => {
        const chunk = build(blocks);
        const avail = Math.max(0, chunk.length - cut);   // the chunk may end inside a block
        const fileRoom = shortFile ? Math.max(0, chunk.length - 4 * cut) : 0xffffffff;
        bytes.fill(0, START, START + chunk.length + 64);
        bytes.set(chunk.subarray(0, avail), START);
        ifaces.forEach((f, i) => words.set(ifaceEntry(f, f.direct), (TABLE + i * IFACE_ENTRY_BYTES) / 4));
        const want = model(bytes.slice(START, START + avail + 64), avail, fileRoom, ifaces);
        const ix = pcapngIndexer(memory);
        const off = ix.index(START, 0, avail, fileRoom, OUT, TABLE, ifaces.length);
        const n = ix.count.value as number;
        const got: number[][] = [];
        for (let i = 0; i < n; i++) {
          const at = words[OUT / 4 + i]!;
          got.push([at, words[at / 4]!, words[at / 4 + 1]!]);
        }
        expect({ off, records: got }).toEqual(want);
      }), { numRuns: 400 });
  });

  it('resumes from the offset it is given and does the work on ordinary files', () => {
    const b = new PcapngBuilder();
    const data = new Uint8Array(60).fill(1);
    for (let i = 0; i < 100; i++) b.epb(0, 0x5f000 + i, i * 1000, data);
    const idbAt = b.idb(1);
    for (let i = 0; i < 50; i++) b.epb(1, 0, i, data);
    const chunk = b.bytes();
    bytes.set(chunk, START);
    words.set(ifaceEntry({ snaplen: 65535, decimal: true, exp: 6, offset: 0 }, true), TABLE / 4);
    words.set(ifaceEntry({ snaplen: 65535, decimal: true, exp: 9, offset: 0 }, true), TABLE / 4 + 4);
    const ix = pcapngIndexer(memory);
    // One interface in the table: all 100 EPBs, then the IDB stops it.
    expect(ix.index(START, 0, chunk.length, 0xffffffff, OUT, TABLE, 1)).toBe(idbAt);
    expect(ix.count.value).toBe(100);
    // Past the IDB, with both interfaces: the 50 nanosecond EPBs, to the end of the chunk.
    const idbLen = le32(bytes, START + idbAt + 4);
    expect(ix.index(START, idbAt + idbLen, chunk.length, 0xffffffff, OUT, TABLE, 2)).toBe(chunk.length);
    expect(ix.count.value).toBe(50);
    const last = words[OUT / 4 + 49]!;
    expect([words[last / 4], words[last / 4 + 1]]).toEqual([0, 49]);
  });
});
