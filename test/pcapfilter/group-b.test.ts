/**
 * `llc [type]` and `decnet src|dst|host A.N` against libpcap 1.10, packet for packet, on
 * 802.2 LLC frames of every I/S/U type (with and without the poll bit, and NetWare's raw
 * 802.3) and DECnet routing headers in their four forms (short/long, padded or not), each
 * also cut short; on every link type in scope (where libpcap rejects, fplc must too).
 */
import { describe, expect, it } from 'vitest';
import { oracleReady } from '../libpcap/oracle.js';
import type { Packet } from '../libpcap/packets.js';
import { compare, LINK_TYPES, packetsFor, toRecords } from './harness.js';

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const MACS = [0x01, 0x80, 0xc2, 0, 0, 0, 0x02, 0, 0, 0, 0, 1];

function llcFrames(): { name: string; bytes: number[] }[] {
  const frames: { name: string; bytes: number[] }[] = [];
  const controls: [string, number[]][] = [
    ['I', [0x00, 0x02]], ['I odd ns', [0x0e, 0x03]], ['RR', [0x01, 0x00]], ['RNR', [0x05, 0x01]], ['REJ', [0x09, 0x00]],
    ['UI', [0x03]], ['UI poll', [0x13]], ['UA', [0x63]], ['DISC', [0x43]], ['DM', [0x0f]], ['SABME', [0x6f]],
    ['TEST', [0xe3]], ['TEST poll', [0xf3]], ['XID', [0xaf]], ['FRMR', [0x87]], ['S reserved', [0x0d, 0]],
  ];
  for (const [name, control] of controls) {
    const llc = [0x42, 0x42, ...control, ...Array(20).fill(0x5a)];
    frames.push({ name: `llc ${name}`, bytes: [...MACS, ...u16(llc.length), ...llc] });
  }
  frames.push({ name: 'netware raw 802.3', bytes: [...MACS, ...u16(30), 0xff, 0xff, 0x03, ...Array(27).fill(0)] });
  frames.push({ name: 'ethernet ii ipv4', bytes: [...MACS, ...u16(0x800), 0x45, ...Array(19).fill(0)] });
  frames.push({ name: '802.3 length 1500', bytes: [...MACS, ...u16(1500), 0xaa, 0xaa, 0x03, ...Array(20).fill(0)] });
  frames.push({ name: 'type 1501', bytes: [...MACS, ...u16(1501), 0xaa, 0xaa, 0x03, ...Array(20).fill(0)] });
  return frames;
}

/** DECnet routing headers after the 2-byte length: addresses are 16-bit little-endian (area << 10 | node). */
function decnetPayloads(): { name: string; bytes: number[] }[] {
  const le = (area: number, node: number) => { const a = (area << 10) | node; return [a & 0xff, a >> 8]; };
  const hiord = [0xaa, 0x00, 0x04, 0x00];
  const short = (dst: number[], src: number[]) => [0x02, ...dst, ...src, 0x00];
  const long = (dst: number[], src: number[]) => [0x06, 0, 0, ...hiord, ...dst, 0, 0, ...hiord, ...src, 0, 0, 0, 0];
  const a12 = le(1, 2);
  const a34 = le(3, 4);
  const out = [
    { name: 'short 1.2 > 3.4', body: short(a34, a12) },
    { name: 'short 3.4 > 1.2', body: short(a12, a34) },
    { name: 'short padded 1.2 > 3.4', body: [0x81, ...short(a34, a12)] },
    { name: 'long 1.2 > 3.4', body: long(a34, a12) },
    { name: 'long 3.4 > 1.2', body: long(a12, a34) },
    { name: 'long padded 3.4 > 1.2', body: [0x81, ...long(a12, a34)] },
    { name: 'long 1.2 > 1.2', body: long(a12, a12) },
    { name: 'short 63.1023 > 1.2', body: short(a12, le(63, 1023)) },
    { name: 'flags 0x07 (neither form)', body: [0x07, ...a12, ...a12, 0] },
  ];
  return out.map((p) => ({ name: `decnet ${p.name}`, bytes: [...u16(p.body.length).reverse(), ...p.body, ...Array(10).fill(0)] }));
}

function packets(dlt: number): Packet[] {
  const out: Packet[] = [];
  const add = (name: string, bytes: number[], cuts: number[]) => {
    const b = Uint8Array.from(bytes);
    out.push({ bytes: b, wirelen: b.length, name });
    for (const cut of cuts) if (cut < b.length) out.push({ bytes: b.subarray(0, cut), wirelen: b.length, name: `${name} cut at ${cut}` });
  };
  if (dlt === LINK_TYPES.EN10MB) {
    for (const f of llcFrames()) add(f.name, f.bytes, [13, 14, 15, 16, 17]);
    for (const p of decnetPayloads()) add(p.name, [...MACS, ...u16(0x6003), ...p.bytes], [16, 17, 18, 20, 22, 24, 29, 31, 33]);
  } else if (dlt === LINK_TYPES.LINUX_SLL) {
    for (const p of decnetPayloads()) add(p.name, [0, 0, 0, 1, 0, 6, ...MACS.slice(0, 6), 0, 0, ...u16(0x6003), ...p.bytes], [18, 19, 20, 24, 33]);
  }
  return [...out, ...packetsFor(dlt, 60)];
}

const EXPRESSIONS = [
  'llc', 'llc i', 'llc s', 'llc u', 'llc rr', 'llc rnr', 'llc rej', 'llc ui', 'llc ua', 'llc disc', 'llc dm', 'llc sabme',
  'llc test', 'llc xid', 'llc frmr', 'llc RR', 'llc Test', 'llc rulenum', 'llc \\i', 'not llc', 'llc and stp', 'llc u or llc s',
  'vlan and llc', 'llc and ether[14] = 0x42', 'llc foo', 'llc 3', 'llc tcp',
  'decnet', 'decnet host 1.2', 'decnet src 1.2', 'decnet dst 1.2', 'decnet src and dst 1.2', 'decnet dst or src 3.4',
  'decnet host 1026', 'decnet src 3.4 or 1.2', 'decnet net 1.2', 'decnet host 1.2.3.4', 'decnet host 63.1023',
  'decnet host 64.2', 'decnet dst 1.2 and decnet src 3.4', 'not decnet src 1.2', 'decnet host 0x10.2', 'decnet addr1 1.2',
  'decnet host 1.2/8', 'decnet net 1.0/8', 'decnet host 1.2 and tcp',
];

describe.skipIf(!oracleReady())('llc and decnet: fplc = libpcap, packet for packet', () => {
  for (const [name, dlt] of Object.entries(LINK_TYPES)) {
    it(`on ${name}`, () => {
      const ps = packets(dlt);
      const records = toRecords(ps);
      const problems: string[] = [];
      let discriminating = 0;
      for (const expr of EXPRESSIONS) {
        const r = compare(expr, dlt, ps, records);
        problems.push(...r.mismatches);
        if (r.distinct > 1) discriminating++;
      }
      expect(problems).toEqual([]);
      if (dlt === LINK_TYPES.EN10MB) expect(discriminating).toBeGreaterThan(EXPRESSIONS.length * 0.75);
    });
  }
});
