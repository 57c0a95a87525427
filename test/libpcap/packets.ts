/**
 * Packets for differential tests against libpcap: hand-built edge cases (IPv4 options and bad
 * IHL, fragments, IPv6 extension headers, ARP, VLAN/QinQ, MPLS, PPPoE, LLC, Geneve) on each
 * link type, cut at every header boundary; records of the tcpdump corpus by link type; and the
 * ABI record layout both libpcap's interpreter and fplc consume.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture } from '../../drivers/capture.js';
import { corpusDir } from '../support/env.js';

export interface Packet { bytes: Uint8Array; wirelen: number; name: string }

export const DLT = { NULL: 0, EN10MB: 1, RAW: 101, LINUX_SLL: 113 } as const;

// ---- ABI records --------------------------------------------------------------------------

export { toRecords } from '../support/records.js';

/** The packets of an ABI batch (views into it). */
export function fromRecords(records: Uint8Array, name = 'record'): Packet[] {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const out: Packet[] = [];
  for (let off = 0; off + 16 <= records.length;) {
    const caplen = view.getUint32(off + 8, true);
    out.push({ bytes: records.subarray(off + 16, off + 16 + caplen), wirelen: view.getUint32(off + 12, true), name: `${name} #${out.length}` });
    off += 16 + caplen;
  }
  return out;
}

// ---- builders -------------------------------------------------------------------------------

const bytes = (...parts: (number[] | Uint8Array)[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const ip4 = (s: string) => s.split('.').map(Number);

function ip6(s: string): number[] {
  const [head, tail = ''] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = s.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}

export function tcp(sport: number, dport: number, flags = 0x02): number[] {
  return [...u16(sport), ...u16(dport), ...u32(1), ...u32(0), 0x50, flags, ...u16(8192), 0, 0, 0, 0];
}
export function udp(sport: number, dport: number, payload: number[] = [1, 2, 3, 4, 5, 6, 7, 8]): number[] {
  return [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
}
export const icmp = (type: number, code = 0) => [type, code, 0, 0, 0, 1, 0, 1];

/** IPv4 header (checksum left 0 on purpose: runtime divisions by ip[10] hit zero) + payload. */
export function ipv4(o: { proto: number; payload: number[]; src?: string; dst?: string; ihl?: number; frag?: number; mf?: boolean; df?: boolean; ttl?: number }): number[] {
  const ihl = o.ihl ?? 5;
  const optLen = Math.max(0, ihl - 5) * 4;
  const total = 20 + optLen + o.payload.length;
  const flags = (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | (o.frag ?? 0);
  return [0x40 | ihl, 0, ...u16(total), 0x12, 0x34, ...u16(flags), o.ttl ?? 64, o.proto, 0, 0,
    ...ip4(o.src ?? '10.0.0.1'), ...ip4(o.dst ?? '192.168.1.7'), ...Array(optLen).fill(1), ...o.payload];
}

/**
 * IPv6 header with a chain of extension headers (0 HBH, 60 dst opts, 43 routing, 44 fragment, 51 AH:
 * payload length 4, i.e. (4 + 2) * 4 = 24 bytes) before `proto`.
 */
export function ipv6(o: { proto: number; payload: number[]; ext?: number[]; src?: string; dst?: string }): number[] {
  const ext = o.ext ?? [];
  const chain: number[] = [];
  ext.forEach((h, i) => {
    const next = i + 1 < ext.length ? ext[i + 1] : o.proto;
    if (h === 51) chain.push(next, 4, 0, 0, ...u32(0x1000), ...u32(1), ...Array(12).fill(0xa5));
    else chain.push(...(h === 44 ? [next, 0, 0, 0, 0, 0, 0, 7] : [next, 0, 1, 4, 0, 0, 0, 0]));
  });
  const first = ext.length ? ext[0] : o.proto;
  return [0x60, 0, 0, 0, ...u16(chain.length + o.payload.length), first, 64,
    ...ip6(o.src ?? '2001:db8::1'), ...ip6(o.dst ?? '2001:db8::2'), ...chain, ...o.payload];
}

export const arp = (op: number, spa: string, tpa: string) =>
  [0, 1, 8, 0, 6, 4, ...u16(op), 2, 0, 0, 0, 0, 1, ...ip4(spa), 0, 0, 0, 0, 0, 0, ...ip4(tpa)];

interface L3 { ethertype: number; body: number[]; name: string; wirelen?: number }

const MAC_A = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
const MAC_B = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/** Network-layer packets that every link type can carry. */
function l3Packets(): L3[] {
  const tcp80 = tcp(8080, 80);
  const inner = bytes(MAC_B, MAC_A, u16(0x0800), ipv4({ proto: 6, payload: tcp(1234, 22) }));
  return [
    { name: 'ipv4 tcp 8080>80 syn', ethertype: 0x800, body: ipv4({ proto: 6, payload: tcp80 }) },
    { name: 'ipv4 tcp syn-ack 80>8080', ethertype: 0x800, body: ipv4({ proto: 6, payload: tcp(80, 8080, 0x12), src: '192.168.1.7', dst: '10.0.0.1' }) },
    { name: 'ipv4 ihl 6 tcp', ethertype: 0x800, body: ipv4({ proto: 6, payload: tcp80, ihl: 6 }) },
    { name: 'ipv4 ihl 4 tcp', ethertype: 0x800, body: ipv4({ proto: 6, payload: tcp80, ihl: 4 }) },
    { name: 'ipv4 udp 53', ethertype: 0x800, body: ipv4({ proto: 17, payload: udp(5353, 53) }) },
    { name: 'ipv4 icmp echo', ethertype: 0x800, body: ipv4({ proto: 1, payload: icmp(8) }) },
    { name: 'ipv4 first fragment tcp', ethertype: 0x800, body: ipv4({ proto: 6, payload: tcp80, mf: true }) },
    { name: 'ipv4 later fragment tcp', ethertype: 0x800, body: ipv4({ proto: 6, payload: tcp80, frag: 100 }) },
    { name: 'ipv4 multicast udp', ethertype: 0x800, body: ipv4({ proto: 17, payload: udp(1000, 2000), dst: '224.0.0.5' }) },
    { name: 'ipv4 broadcast udp', ethertype: 0x800, body: ipv4({ proto: 17, payload: udp(68, 67), dst: '255.255.255.255' }) },
    { name: 'ipv4 proto 7 ttl 32', ethertype: 0x800, body: ipv4({ proto: 7, payload: [0, 0, 0, 0], ttl: 32 }) },
    { name: 'ipv4 geneve', ethertype: 0x800, body: ipv4({ proto: 17, payload: udp(40000, 6081, [0, 0, 0x65, 0x58, 0, 0, 11, 0, ...inner]) }) },
    { name: 'ipv4 long (wirelen 1500)', ethertype: 0x800, body: ipv4({ proto: 6, payload: [...tcp80, ...Array(40).fill(0x47)] }), wirelen: 1500 },
    { name: 'ipv6 tcp 80', ethertype: 0x86dd, body: ipv6({ proto: 6, payload: tcp80 }) },
    { name: 'ipv6 udp 53', ethertype: 0x86dd, body: ipv6({ proto: 17, payload: udp(5353, 53) }) },
    { name: 'ipv6 icmp6 echo', ethertype: 0x86dd, body: ipv6({ proto: 58, payload: icmp(128) }) },
    { name: 'ipv6 hbh tcp 80', ethertype: 0x86dd, body: ipv6({ proto: 6, payload: tcp80, ext: [0] }) },
    { name: 'ipv6 frag tcp 80', ethertype: 0x86dd, body: ipv6({ proto: 6, payload: tcp80, ext: [44] }) },
    { name: 'ipv6 hbh dstopts frag udp', ethertype: 0x86dd, body: ipv6({ proto: 17, payload: udp(1, 53), ext: [0, 60, 44] }) },
    { name: 'ipv4 df tcp 80', ethertype: 0x800, body: ipv4({ proto: 6, payload: tcp80, df: true }) },
    { name: 'ipv4 ah udp 53', ethertype: 0x800, body: ipv4({ proto: 51, payload: [17, 4, 0, 0, ...u32(0x1000), ...u32(1), ...Array(12).fill(0xa5), ...udp(5353, 53)] }) },
    { name: 'ipv6 ah udp 53', ethertype: 0x86dd, body: ipv6({ proto: 17, payload: udp(5353, 53), ext: [51] }) },
    { name: 'ipv6 hbh ah tcp 80', ethertype: 0x86dd, body: ipv6({ proto: 6, payload: tcp80, ext: [0, 51] }) },
    { name: 'ipv6 ah dstopts udp', ethertype: 0x86dd, body: ipv6({ proto: 17, payload: udp(1, 53), ext: [51, 60] }) },
    { name: 'ipv6 multicast', ethertype: 0x86dd, body: ipv6({ proto: 17, payload: udp(546, 547), dst: 'ff02::1:2' }) },
    { name: 'arp request', ethertype: 0x806, body: arp(1, '10.0.0.1', '10.0.0.2') },
    { name: 'rarp', ethertype: 0x8035, body: arp(3, '10.0.0.9', '10.0.0.1') },
  ];
}

/** Ethernet-only framings: tags, MPLS, PPPoE, 802.3 LLC, broadcast. */
function ethernetExtras(): { name: string; frame: Uint8Array; wirelen?: number }[] {
  const v4 = ipv4({ proto: 6, payload: tcp(8080, 80) });
  return [
    { name: 'vlan 100 ipv4 tcp', frame: bytes(MAC_A, MAC_B, u16(0x8100), u16(100), u16(0x800), v4) },
    { name: 'vlan 200 ipv6 udp', frame: bytes(MAC_A, MAC_B, u16(0x8100), u16(200), u16(0x86dd), ipv6({ proto: 17, payload: udp(1, 53) })) },
    { name: 'qinq 200/100 ipv4', frame: bytes(MAC_A, MAC_B, u16(0x88a8), u16(200), u16(0x8100), u16(100), u16(0x800), v4) },
    { name: 'vlan 100 ipv4 df tcp', frame: bytes(MAC_A, MAC_B, u16(0x8100), u16(100), u16(0x800), ipv4({ proto: 6, payload: tcp(8080, 80), df: true })) },
    { name: 'pppoe session ipv4 df tcp', frame: bytes(MAC_A, MAC_B, u16(0x8864), [0x11, 0, 0, 0x3b], u16(v4.length + 2), u16(0x21), ipv4({ proto: 6, payload: tcp(8080, 80), df: true })) },
    { name: 'mpls ipv4', frame: bytes(MAC_A, MAC_B, u16(0x8847), u32((16 << 12) | 0x100 | 64), v4) },
    { name: 'pppoe session ipv4', frame: bytes(MAC_A, MAC_B, u16(0x8864), [0x11, 0, 0, 0x3b], u16(v4.length + 2), u16(0x21), v4) },
    { name: 'pppoe discovery', frame: bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], MAC_B, u16(0x8863), [0x11, 0x09, 0, 0, 0, 0]) },
    { name: 'stp llc', frame: bytes([0x01, 0x80, 0xc2, 0, 0, 0], MAC_B, u16(38), [0x42, 0x42, 0x03], Array(35).fill(0)) },
    { name: 'broadcast arp', frame: bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], MAC_A, u16(0x806), arp(1, '10.0.0.1', '10.0.0.7')) },
    { name: 'multicast ipv4', frame: bytes([0x01, 0x00, 0x5e, 0, 0, 5], MAC_A, u16(0x800), ipv4({ proto: 17, payload: udp(1, 2), dst: '224.0.0.5' })) },
  ];
}

/** The link header for a network-layer packet, per link type (NULL carries AF in host byte order: little-endian here). */
function frame(linkType: number, p: L3): { frame: Uint8Array; l2: number } | undefined {
  switch (linkType) {
    case DLT.EN10MB: return { frame: bytes(MAC_A, MAC_B, u16(p.ethertype), p.body), l2: 14 };
    case DLT.RAW: return p.ethertype === 0x800 || p.ethertype === 0x86dd ? { frame: bytes(p.body), l2: 0 } : undefined;
    case DLT.LINUX_SLL: return { frame: bytes(u16(0), u16(1), u16(6), MAC_A, [0, 0], u16(p.ethertype), p.body), l2: 16 };
    case DLT.NULL: {
      const af = p.ethertype === 0x800 ? 2 : p.ethertype === 0x86dd ? 10 : undefined;
      return af === undefined ? undefined : { frame: bytes([af, 0, 0, 0], p.body), l2: 4 };
    }
  }
  return undefined;
}

/** Capture lengths that stop at (and one byte around) every header boundary of a frame. */
function cutPoints(frameLen: number, l2: number): number[] {
  const rel = [-1, 0, 1, 2, 9, 10, 19, 20, 21, 22, 23, 24, 25, 33, 34, 35, 40, 41, 42, 44, 48, 54, 60, 62];
  const cuts = new Set<number>([0, 1, 12, 13, 14, 15, 16, 17, ...rel.map((r) => l2 + r)]);
  return [...cuts].filter((n) => n >= 0 && n < frameLen).sort((a, b) => a - b);
}

/** Every edge packet for a link type: the whole frames, then each cut short at header boundaries (wire length kept). */
export function edgePackets(linkType: number): Packet[] {
  const whole: { name: string; frame: Uint8Array; wirelen?: number; l2: number }[] = [];
  for (const p of l3Packets()) {
    const f = frame(linkType, p);
    if (f) whole.push({ name: p.name, frame: f.frame, l2: f.l2, ...(p.wirelen ? { wirelen: p.wirelen } : {}) });
  }
  if (linkType === DLT.EN10MB) whole.push(...ethernetExtras().map((e) => ({ ...e, l2: 14 })));
  if (linkType === DLT.NULL) {
    // BSD/macOS AF_INET6 values and a big-endian AF_INET, which libpcap on Linux does not recognise.
    const v6 = ipv6({ proto: 6, payload: tcp(1, 80) });
    for (const af of [24, 28, 30]) whole.push({ name: `null af ${af}`, frame: bytes([af, 0, 0, 0], v6), l2: 4 });
    whole.push({ name: 'null af_inet big-endian', frame: bytes([0, 0, 0, 2], ipv4({ proto: 6, payload: tcp(1, 80) })), l2: 4 });
  }
  const out: Packet[] = [];
  for (const w of whole) {
    const wirelen = Math.max(w.wirelen ?? 0, w.frame.length);
    out.push({ bytes: w.frame, wirelen, name: w.name });
    for (const cut of cutPoints(w.frame.length, w.l2)) out.push({ bytes: w.frame.subarray(0, cut), wirelen, name: `${w.name} cut at ${cut}` });
  }
  return out;
}

// ---- corpus ---------------------------------------------------------------------------------

let corpusIndex: Map<number, Packet[]> | undefined;

/** Packets of the tcpdump corpus grouped by link type (read once per process; malformed tails dropped). */
export function corpusPackets(linkType: number, max = Infinity): Packet[] {
  if (!corpusIndex) {
    corpusIndex = new Map();
    const dst = new Uint8Array(1 << 20);
    for (const file of readdirSync(corpusDir).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort()) {
      let src;
      try {
        src = openCapture(readFileSync(join(corpusDir, file)));
      } catch {
        continue;
      }
      for (let b = src.nextBatch(dst, 0, dst.length); b.records > 0; b = src.nextBatch(dst, 0, dst.length)) {
        const list = corpusIndex.get(b.linkType) ?? [];
        const copy = dst.slice(0, b.bytes);
        for (const p of fromRecords(copy, file)) list.push(p);
        corpusIndex.set(b.linkType, list);
      }
      src.close();
    }
  }
  const all = corpusIndex.get(linkType) ?? [];
  if (all.length <= max) return all;
  const step = all.length / max;   // an even sample across files
  return Array.from({ length: max }, (_, i) => all[Math.floor(i * step)]);
}
