import { describe, expect, it } from 'vitest';
import { openCapture } from '../../drivers/capture.js';
import { CaptureError } from '../../drivers/types.js';
import { MAX_CAPLEN } from '../../abi/index.js';
import { buildPcap, readAll, seq, type PcapPacket } from './build.js';

const packets: PcapPacket[] = [
  { sec: 1700000000, frac: 123456, data: seq(60) },
  { sec: 1700000001, frac: 999999, data: seq(14, 7), wirelen: 1514 },
  { sec: 0xfffffffe, frac: 0, data: new Uint8Array(0), wirelen: 0 },
  { sec: 5, frac: 42, data: seq(1500, 3) },
];
const expected = packets.map((p) => ({ sec: p.sec, frac: p.frac, caplen: p.data.length, wirelen: p.wirelen ?? p.data.length, data: Array.from(p.data) }));

describe('pcap reader', () => {
  for (const bigEndian of [false, true]) {
    for (const nanoseconds of [false, true]) {
      it(`reads ${bigEndian ? 'big' : 'little'}-endian ${nanoseconds ? 'ns' : 'µs'} files record for record`, () => {
        const { bytes } = buildPcap({ bigEndian, nanoseconds, linkType: 101, snaplen: 2000 }, packets);
        const src = openCapture(bytes);
        expect(src.info).toEqual({ format: 'pcap', linkType: 101, snaplen: 2000, nanoseconds, bigEndian });
        const r = readAll(src);
        expect(r.error).toBeUndefined();
        expect(r.records).toEqual(expected);
        expect(r.batches).toEqual([{ linkType: 101, records: 4 }]);
        expect(src.recordsRead).toBe(4);
      });
    }
  }

  it('reads modified (Kuznetzov) pcap, dropping its 8 extra header bytes', () => {
    for (const bigEndian of [false, true]) {
      const r = readAll(openCapture(buildPcap({ kuznetzov: true, bigEndian }, packets).bytes));
      expect(r.error).toBeUndefined();
      expect(r.records).toEqual(expected);
    }
  });

  it("masks the FCS bits out of the file's link type", () => {
    expect(openCapture(buildPcap({ linkType: 0x14000001 }, []).bytes).info.linkType).toBe(1);
  });

  it('splits into batches at maxBytes and writes at dstOff', () => {
    const { bytes } = buildPcap({}, packets);
    const whole = readAll(openCapture(bytes));
    const small = readAll(openCapture(bytes), 16 + 1500, 100);
    expect(small.records).toEqual(whole.records);
    expect(small.batches.length).toBeGreaterThan(1);
    expect(() => openCapture(bytes).nextBatch(new Uint8Array(100), 0, 60)).toThrow(RangeError);
    expect(() => openCapture(bytes).nextBatch(new Uint8Array(100), 50, 60)).toThrow(/not inside dst/);
  });

  it('cuts a caplen above the snaplen (within the bound) to the snaplen, as libpcap does', () => {
    const r = readAll(openCapture(buildPcap({ snaplen: 20 }, [packets[0], packets[1]]).bytes));
    expect(r.error).toBeUndefined();
    expect(r.records.map((x) => [x.caplen, x.wirelen, x.data.length])).toEqual([[20, 60, 20], [14, 1514, 14]]);
    expect(r.records[0].data).toEqual(Array.from(seq(20)));
  });

  it('treats snaplen 0 or above the bound as the bound', () => {
    expect(openCapture(buildPcap({ snaplen: 0 }, []).bytes).info.snaplen).toBe(MAX_CAPLEN);
    expect(openCapture(buildPcap({ snaplen: 0x7fffffff }, []).bytes).info.snaplen).toBe(MAX_CAPLEN);
  });

  it('swaps caplen and wirelen in files before version 2.3, and in 2.3 when caplen > wirelen', () => {
    const swapped = [{ sec: 1, frac: 2, data: seq(30), caplen: 60, wirelen: 30 }];
    const old = readAll(openCapture(buildPcap({ version: [2, 2] }, swapped).bytes));
    expect(old.records.map((x) => [x.caplen, x.wirelen])).toEqual([[30, 60]]);
    const maybe = readAll(openCapture(buildPcap({ version: [2, 3] }, [...swapped, { sec: 1, frac: 2, data: seq(10), wirelen: 40 }]).bytes));
    expect(maybe.records.map((x) => [x.caplen, x.wirelen])).toEqual([[30, 60], [10, 40]]);
  });
});

describe('pcap malformations', () => {
  const ok = packets.slice(0, 2);

  function expectError(bytes: Uint8Array, delivered: number, offset: number, message: RegExp) {
    const src = openCapture(bytes);
    const r = readAll(src);
    expect(r.records).toEqual(expected.slice(0, delivered));
    expect(r.error).toBeInstanceOf(CaptureError);
    expect(r.error!.recordIndex).toBe(delivered);
    expect(r.error!.offset).toBe(offset);
    expect(r.error!.message).toMatch(message);
    expect(r.error!.message).toContain(`packet ${delivered}, file offset ${offset}`);
    // Once failed, the source stays finished.
    expect(src.nextBatch(new Uint8Array(4096), 0, 4096).records).toBe(0);
  }

  it('truncated record header', () => {
    const { bytes, offsets } = buildPcap({}, ok);
    expectError(bytes.subarray(0, offsets[1] + 7), 1, offsets[1], /truncated record header: 16 bytes needed, 7 left/);
  });

  it('truncated record data', () => {
    const { bytes, offsets } = buildPcap({}, ok);
    expectError(bytes.subarray(0, bytes.length - 1), 1, offsets[1], /truncated record data: 14 captured bytes announced, 13 left/);
  });

  it('caplen above the 256 KiB bound', () => {
    const { bytes, offsets } = buildPcap({}, [ok[0], { sec: 0, frac: 0, data: seq(4), caplen: MAX_CAPLEN + 1 }]);
    expectError(bytes, 1, offsets[1], /invalid captured length 262145/);
  });

  it('caplen exactly at the bound is accepted', () => {
    const big = new Uint8Array(MAX_CAPLEN);
    const r = readAll(openCapture(buildPcap({ snaplen: 0 }, [{ sec: 0, frac: 0, data: big }]).bytes), MAX_CAPLEN + 16);
    expect(r.error).toBeUndefined();
    expect(r.records[0].caplen).toBe(MAX_CAPLEN);
  });

  it('errors at open: not a capture, truncated header, unsupported versions', () => {
    const open = (b: Uint8Array) => { try { openCapture(b); return 'opened'; } catch (e) { expect(e).toBeInstanceOf(CaptureError); return (e as Error).message; } };
    expect(open(new TextEncoder().encode('GIF89a...'))).toMatch(/starts with bytes 47 49 46 38; pcap .* and pcapng .* are supported/);
    expect(open(new Uint8Array(0))).toMatch(/it is empty/);
    expect(open(buildPcap({}, []).bytes.subarray(0, 20))).toMatch(/truncated pcap file header: 24 bytes needed, the file has 20/);
    expect(open(buildPcap({ version: [1, 4] }, []).bytes)).toMatch(/archaic/);
    expect(open(buildPcap({ version: [2, 5] }, []).bytes)).toMatch(/unsupported pcap file version 2.5/);
    expect(open(buildPcap({ version: [543, 0] }, []).bytes)).toBe('opened');
  });
});
