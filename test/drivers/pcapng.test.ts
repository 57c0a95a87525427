import { describe, expect, it } from 'vitest';
import { openCapture } from '../../drivers/capture.js';
import { CaptureError } from '../../drivers/types.js';
import { PcapngBuilder, readAll, seq } from './build.js';

/** Independent reference: timestamp units (hi, lo) at a resolution byte → [sec mod 2^32, ns]. */
function refTs(hi: number, lo: number, tsresol = 6, offset = 0): [number, number] {
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const units = tsresol & 0x80 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
  const sec = (t / units + BigInt(offset)) & 0xffffffffn;
  return [Number(sec), Number(((t % units) * 1000000000n) / units)];
}

describe('pcapng reader', () => {
  for (const bigEndian of [false, true]) {
    it(`reads ${bigEndian ? 'big' : 'little'}-endian sections with several interfaces, link types and resolutions`, () => {
      const b = new PcapngBuilder();
      b.shb({ bigEndian });
      b.other(4, seq(16));                                   // NRB: skipped
      b.idb(1, 65535);                                       // 0: Ethernet, µs
      b.idb(101, 100, { tsresol: 9 });                       // 1: raw IP, ns, snaplen 100
      b.idb(1, 0, { tsresol: 0x80 | 10, tsoffset: 1000 });   // 2: Ethernet, 2^-10 s, +1000 s
      b.idb(113, 65535, { tsresol: 3 });                     // 3: SLL, ms
      const ts: [number, number][] = [[0x5e3, 0x1234567], [0x17a2b3c4, 0xd5e6f708], [0, 5 * 1024 + 512], [0, 1700000000123]];
      b.epb(0, ts[0][0], ts[0][1], seq(60));
      b.epb(0, ts[0][0], ts[0][1] + 1, seq(61), { wirelen: 1000 });
      b.epb(1, ts[1][0], ts[1][1], seq(40, 9));
      b.other(5, seq(20));                                   // ISB: skipped
      b.epb(2, ts[2][0], ts[2][1], seq(3));
      b.other(0x40000bad, seq(12));                          // custom: skipped
      b.pb(3, ts[3][0], ts[3][1] % 2 ** 32, seq(10));
      b.spb(80, seq(80));                                    // interface 0
      const src = openCapture(b.bytes());
      expect(src.info).toEqual({ format: 'pcapng', linkType: 1, snaplen: 65535, nanoseconds: true, bigEndian });
      const r = readAll(src);
      expect(r.error).toBeUndefined();
      const rec = (t: [number, number], res: number, data: Uint8Array, wirelen = data.length, off = 0) => {
        const [sec, frac] = refTs(t[0], t[1], res, off);
        return { sec, frac, caplen: data.length, wirelen, data: Array.from(data) };
      };
      expect(r.records).toEqual([
        rec(ts[0], 6, seq(60)), rec([ts[0][0], ts[0][1] + 1], 6, seq(61), 1000),
        rec(ts[1], 9, seq(40, 9)),
        rec(ts[2], 0x80 | 10, seq(3), 3, 1000),
        rec([0, ts[3][1] % 2 ** 32], 3, seq(10)),
        { sec: 0, frac: 0, caplen: 80, wirelen: 80, data: Array.from(seq(80)) },
      ]);
      // Batches never mix link types.
      expect(r.batches).toEqual([{ linkType: 1, records: 2 }, { linkType: 101, records: 1 }, { linkType: 1, records: 1 },
        { linkType: 113, records: 1 }, { linkType: 1, records: 1 }]);
    });
  }

  it('converts timestamps exactly, including far-future and sub-ns resolutions', () => {
    const cases: [number, number, number][] = [
      [0xffffffff, 0xffffffff, 9], [0xffffffff, 0xffffffff, 6], [0xffffffff, 0xffffffff, 0], [0x12345678, 0x9abcdef0, 12],
      [0xffffffff, 0xffffffff, 19], [0x80000000, 1, 0x80 | 63], [123, 456, 0x80 | 32], [0x1bc16d67, 0x4ec80000, 9],
    ];
    for (const [hi, lo, res] of cases) {
      const b = new PcapngBuilder();
      b.shb(); b.idb(1, 0, { tsresol: res }); b.epb(0, hi, lo, seq(1));
      const [r] = readAll(openCapture(b.bytes())).records;
      expect([r.sec, r.frac], `${hi}:${lo}@${res}`).toEqual(refTs(hi, lo, res));
    }
  });

  it('a new section forgets its interfaces and may change byte order', () => {
    const b = new PcapngBuilder();
    b.shb(); b.idb(1); b.epb(0, 0, 1, seq(4));
    b.shb({ bigEndian: true, version: [1, 2] }); b.idb(101); b.epb(0, 0, 2, seq(5));
    const r = readAll(openCapture(b.bytes()));
    expect(r.error).toBeUndefined();
    expect(r.batches).toEqual([{ linkType: 1, records: 1 }, { linkType: 101, records: 1 }]);

    const c = new PcapngBuilder();
    c.shb(); c.idb(1); c.epb(0, 0, 1, seq(4));
    c.shb(); const off = c.epb(0, 0, 2, seq(4));
    const e = readAll(openCapture(c.bytes()));
    expect(e.records.length).toBe(1);
    expect([e.error?.recordIndex, e.error?.offset]).toEqual([1, off]);
    expect(e.error?.message).toMatch(/interface 0, which no Interface Description Block defines/);
  });

  it('simple packet blocks take caplen = min(wirelen, snaplen)', () => {
    const b = new PcapngBuilder();
    b.shb(); b.idb(1, 20); b.spb(60, seq(60)); b.spb(10, seq(12));
    const r = readAll(openCapture(b.bytes()));
    expect(r.error).toBeUndefined();
    expect(r.records.map((x) => [x.caplen, x.wirelen, x.data.length])).toEqual([[20, 60, 20], [10, 10, 10]]);
  });
});

describe('pcapng malformations', () => {
  /** A valid start (2 packets); `tail` appends the bad part and returns its offset. */
  function check(tail: (b: PcapngBuilder) => number, message: RegExp, atEnd = false, delivered = 2) {
    const b = new PcapngBuilder();
    b.shb(); b.idb(1, 1000); b.epb(0, 0, 1, seq(30)); b.epb(0, 0, 2, seq(31));
    const off = tail(b);
    if (!atEnd) b.epb(0, 0, 3, seq(32));
    const src = openCapture(b.bytes());
    const r = readAll(src);
    expect(r.records.length).toBe(delivered);
    expect(r.error).toBeInstanceOf(CaptureError);
    expect(r.error!.message).toMatch(message);
    expect([r.error!.recordIndex, r.error!.offset]).toEqual([delivered, off]);
    expect(src.nextBatch(new Uint8Array(4096), 0, 4096).records).toBe(0);
    expect(src.recordsRead).toBe(delivered);
  }

  it('block length below 12', () => check((b) => b.raw([9, 0, 0, 0, 8, 0, 0, 0]), /block length 8 is less than 12/));
  it('block length not a multiple of 4', () => check((b) => b.other(9, seq(4), { length: 17 }), /length 17 is not a multiple of 4/));
  it('block length beyond the file', () => check((b) => b.other(9, seq(4), { length: 1 << 20 }), /truncated pcapng block: length 1048576, 16 bytes left/, true));
  it('truncated packet block', () => check((b) => b.raw(Array.from(b.bytes().subarray(112, 112 + 60))), /truncated pcapng block: length 64, 60 bytes left/, true));
  it('block length above 16 MiB', () => check((b) => b.other(9, seq(4), { length: 32 << 20 }), /exceeds the maximum 16777216/));
  it('trailer disagrees with the header', () => check((b) => b.epb(0, 0, 9, seq(8), { trailer: 44 }), /length 40 does not match its trailer 44/));
  it('packet on an undefined interface', () => check((b) => b.epb(7, 0, 9, seq(8)), /interface 7, which no Interface/));
  it('caplen above the snaplen', () => check((b) => b.epb(0, 0, 9, seq(8), { caplen: 1001 }), /captured length 1001: larger than the interface's snaplen 1000/));
  it('caplen past the block', () => check((b) => b.epb(0, 0, 9, seq(8), { caplen: 12 }), /type 6 is too short \(40 bytes\) for its 12 captured bytes/));
  it('EPB shorter than its fixed part', () => check((b) => b.other(6, seq(8)), /type 6 is too short \(20 bytes\)/));
  it('simple packet block shorter than its wirelen', () => check((b) => b.spb(100, seq(40)), /type 3 is too short/));
  it('interface option running past its block', () => check((b) => b.other(1, Uint8Array.from([1, 0, 0, 0, 0xff, 0xff, 0, 0, 9, 0, 40, 0])), /interface description block: option 9 runs past/));
  it('truncated block header', () => check((b) => b.raw([6, 0, 0]), /truncated pcapng block header: 8 bytes needed, 3 left/, true));

  it('errors at open like libpcap: bad SHB, no interface, packet before any interface', () => {
    const open = (f: (b: PcapngBuilder) => void) => {
      const b = new PcapngBuilder(); f(b);
      try { openCapture(b.bytes()); return 'opened'; } catch (e) { expect(e).toBeInstanceOf(CaptureError); return (e as Error).message; }
    };
    expect(open((b) => { b.shb({ version: [1, 1] }); b.idb(1); })).toMatch(/unsupported pcapng version 1.1/);
    expect(open((b) => { b.shb({ version: [2, 0] }); b.idb(1); })).toMatch(/unsupported pcapng version 2.0/);
    expect(open((b) => { b.shb(); })).toMatch(/no Interface Description Block/);
    expect(open((b) => { b.shb(); b.epb(0, 0, 0, seq(4)); b.idb(1); })).toMatch(/packet block before any Interface Description Block \(file offset 28\)/);
    expect(open((b) => { b.shb(); b.raw([1, 0, 0, 0, 99, 0, 0, 0]); })).toMatch(/not a multiple of 4 \(file offset 28\)/);
    expect(open((b) => { b.raw([0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4]); })).toMatch(/unknown byte-order magic/);
  });
});
