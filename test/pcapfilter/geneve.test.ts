/**
 * `geneve [vni]`: libpcap 1.10 computes the inner offsets at run time (scratch registers);
 * fplc keeps them in IR locals. Both must agree packet by packet on Geneve packets built here —
 * outer IPv4 (with and without options) and IPv6 over Ethernet, raw IP, Linux cooked and BSD
 * loopback; Geneve versions 0 and 1, 0–2 option words, Ethernet (TEB) and bare IPv4 inside, a
 * VLAN-tagged inner frame, wrong ports — each also cut short at every byte of the outer
 * headers and the Geneve header.
 */
import { describe, expect, it } from 'vitest';
import { CompileError } from '../../lang/diagnostics.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { oracleReady } from '../libpcap/oracle.js';
import { ipv4, ipv6, tcp, udp, type Packet } from '../libpcap/packets.js';
import { compare, LINK_TYPES, toRecords } from './harness.js';

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const MAC_IN_DST = [0x02, 0x00, 0x00, 0x00, 0x00, 0x09];
const MAC_IN_SRC = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];

/** A Geneve header: version, option words (filled with 0x77), protocol type and VNI. */
function geneveHeader(o: { version?: number; optWords?: number; proto: number; vni: number }): number[] {
  const words = o.optWords ?? 0;
  return [((o.version ?? 0) << 6) | words, 0, ...u16(o.proto), (o.vni >>> 16) & 0xff, (o.vni >>> 8) & 0xff, o.vni & 0xff, 0,
    ...Array(words * 4).fill(0x77)];
}

function innerPayloads(): { name: string; proto: number; bytes: number[] }[] {
  const v4tcp = ipv4({ proto: 6, payload: tcp(1234, 22), src: '10.9.0.1', dst: '10.9.0.2' });
  const v6udp = ipv6({ proto: 17, payload: udp(5353, 53) });
  return [
    { name: 'eth ipv4 tcp 22', proto: 0x6558, bytes: [...MAC_IN_DST, ...MAC_IN_SRC, ...u16(0x800), ...v4tcp] },
    { name: 'eth ipv6 udp 53', proto: 0x6558, bytes: [...MAC_IN_DST, ...MAC_IN_SRC, ...u16(0x86dd), ...v6udp] },
    { name: 'eth broadcast arp-type', proto: 0x6558, bytes: [...Array(6).fill(0xff), ...MAC_IN_SRC, ...u16(0x806), ...Array(28).fill(1)] },
    { name: 'eth vlan 7 ipv4', proto: 0x6558, bytes: [...MAC_IN_DST, ...MAC_IN_SRC, ...u16(0x8100), ...u16(7), ...u16(0x800), ...v4tcp] },
    { name: 'bare ipv4 tcp 22', proto: 0x0800, bytes: v4tcp },
  ];
}

/** Outer IP + UDP + Geneve packets (network layer only), each with its name. */
function outerPackets(): { name: string; v6: boolean; bytes: number[]; geneveAt: number }[] {
  const out: { name: string; v6: boolean; bytes: number[]; geneveAt: number }[] = [];
  const variants = [
    { tag: 'v0 vni 11', version: 0, optWords: 0, vni: 11, port: 6081 },
    { tag: 'v0 vni 0xabcdef 2 opts', version: 0, optWords: 2, vni: 0xabcdef, port: 6081 },
    { tag: 'v0 vni 11 1 opt', version: 0, optWords: 1, vni: 11, port: 6081 },
    { tag: 'v1 vni 11', version: 1, optWords: 0, vni: 11, port: 6081 },
    { tag: 'port 6082', version: 0, optWords: 0, vni: 11, port: 6082 },
  ];
  for (const inner of innerPayloads()) {
    for (const v of variants) {
      const payload = udp(40000, v.port, [...geneveHeader({ version: v.version, optWords: v.optWords, proto: inner.proto, vni: v.vni }), ...inner.bytes]);
      out.push({ name: `ipv4 ${v.tag} ${inner.name}`, v6: false, bytes: ipv4({ proto: 17, payload }), geneveAt: 28 });
      if (v.optWords === 0 && v.version === 0) {
        out.push({ name: `ipv4 ihl 6 ${v.tag} ${inner.name}`, v6: false, bytes: ipv4({ proto: 17, payload, ihl: 6 }), geneveAt: 32 });
        out.push({ name: `ipv6 ${v.tag} ${inner.name}`, v6: true, bytes: ipv6({ proto: 17, payload }), geneveAt: 48 });
      }
    }
  }
  return out;
}

/** Frames for a link type, whole and cut at every byte from the UDP header to 30 bytes past the Geneve header. */
function framed(dlt: number): Packet[] {
  const packets: Packet[] = [];
  for (const p of outerPackets()) {
    let head: number[];
    switch (dlt) {
      case LINK_TYPES.EN10MB: head = [...MAC_IN_SRC, ...MAC_IN_DST, ...u16(p.v6 ? 0x86dd : 0x800)]; break;
      case LINK_TYPES.LINUX_SLL: head = [0, 0, 0, 1, 0, 6, ...MAC_IN_SRC, 0, 0, ...u16(p.v6 ? 0x86dd : 0x800)]; break;
      case LINK_TYPES.NULL: head = [p.v6 ? 10 : 2, 0, 0, 0]; break;
      default: head = [];
    }
    const bytes = Uint8Array.from([...head, ...p.bytes]);
    packets.push({ bytes, wirelen: bytes.length, name: p.name });
    const from = head.length + p.geneveAt - 8;
    for (let cut = from; cut < Math.min(bytes.length, from + 8 + 16 + 30); cut++) {
      packets.push({ bytes: bytes.subarray(0, cut), wirelen: bytes.length, name: `${p.name} cut at ${cut}` });
    }
  }
  return packets;
}

/**
 * Expressions whose later primitives run only after `geneve` matched. (After a failed `geneve`,
 * libpcap's code reads scratch registers it never wrote — bpf_filter leaves them uninitialised —
 * where fplc reads zeros; see docs/pcap-filter.md.)
 */
export const GENEVE_EXPRESSIONS = [
  'geneve', 'geneve 11', 'geneve 0xabcdef', 'geneve 12', 'not geneve', 'geneve and tcp', 'geneve and ip', 'geneve and ip6',
  'geneve and udp', 'geneve 11 and tcp port 22', 'geneve and tcp dst port 22', 'geneve and udp port 53',
  'geneve and host 10.9.0.1', 'geneve and src net 10.9.0.0/16', 'geneve and ip6 host 2001:db8::2', 'geneve and arp',
  'geneve and ether host 02:00:00:00:00:09', 'geneve and ether src 00:11:22:33:44:55', 'geneve and ether broadcast',
  'geneve and multicast', 'geneve and vlan and ip', 'geneve and vlan 7 and tcp port 22', 'geneve and ip[9] = 6',
  'geneve and tcp[13] & 2 != 0', 'geneve and ether[12:2] = 0x800', 'geneve and link[0] = 2', 'geneve and ip6[6] = 17',
  'geneve and llc', 'geneve and not tcp', 'geneve and (tcp or udp)', 'udp and geneve', 'ip and geneve 11',
  'geneve and geneve', 'geneve and portrange 20-25', 'geneve and ip proto \\tcp', 'geneve and mpls', 'geneve and pppoes and ip',
  'geneve and icmp6', 'geneve and len > 100',
];

describe.skipIf(!oracleReady())('geneve: fplc = libpcap, packet for packet', () => {
  for (const [name, dlt] of Object.entries({ EN10MB: LINK_TYPES.EN10MB, RAW: LINK_TYPES.RAW, LINUX_SLL: LINK_TYPES.LINUX_SLL, NULL: LINK_TYPES.NULL })) {
    it(`on ${name}`, () => {
      const packets = framed(dlt);
      const records = toRecords(packets);
      const problems: string[] = [];
      let discriminating = 0;
      for (const expr of GENEVE_EXPRESSIONS) {
        const r = compare(expr, dlt, packets, records);
        problems.push(...r.mismatches);
        if (r.distinct > 1) discriminating++;
      }
      expect(problems).toEqual([]);
      expect(discriminating).toBeGreaterThan(GENEVE_EXPRESSIONS.length * 0.7);
    });
  }
});

describe('geneve: errors', () => {
  const error = (expr: string, dlt = 1) => {
    try {
      compilePcapFilter(expr, { linkType: dlt });
    } catch (e) {
      if (e instanceof CompileError) return e.diagnostics[0].message;
      throw e;
    }
    return 'compiled';
  };
  it('rejects a VNI over 24 bits, protochain after geneve and too many geneve levels', () => {
    expect(error('geneve 0x1000000')).toBe('Geneve VNI 16777216 greater than maximum 16777215');
    expect(error('geneve and ip6 protochain 6')).toBe("'protochain' not supported with variable length headers");
    expect(error(Array(6).fill('geneve').join(' and '))).toBe('too many registers needed to evaluate expression');
    expect(error(Array(5).fill('geneve').join(' and '))).toBe('compiled');
  });
});
