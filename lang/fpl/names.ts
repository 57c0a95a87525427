/**
 * FPL's named fields and constants (spec/fpl.md, "Packet access"), mapped to the IR's field
 * names (lang/ir/fields.ts), plus a "did you mean" helper for misspelt names.
 */
import type { FieldName } from '../ir/fields.js';

/** `PKT.<name>` → IR field. Transport fields use the `l4` base: FPL's IPv4/IPv6 rule. */
export const FPL_FIELDS: Readonly<Record<string, FieldName>> = {
  ETH_TYPE: 'link.type',
  IP_VER: 'ip4.ver', IP_HL: 'ip4.hl', IP_TOS: 'ip4.tos', IP_LEN: 'ip4.len', IP_ID: 'ip4.id',
  IP_FLAGS: 'ip4.flags', IP_FRAGOFF: 'ip4.fragoff', IP_TTL: 'ip4.ttl', IP_PROTO: 'ip4.proto',
  IP_CHKSUM: 'ip4.chksum', IP_SRC: 'ip4.src', IP_DEST: 'ip4.dst', IP_DST: 'ip4.dst',
  TCP_SPORT: 'l4.sport', TCP_DPORT: 'l4.dport', TCP_SEQ: 'l4.tcp.seq', TCP_ACK: 'l4.tcp.ack',
  TCP_HL: 'l4.tcp.hl', TCP_FLAGS: 'l4.tcp.flags', TCP_WIN: 'l4.tcp.win',
  UDP_SPORT: 'l4.sport', UDP_DPORT: 'l4.dport', UDP_LEN: 'l4.udp.len',
  ICMP_TYPE: 'l4.icmp.type', ICMP_CODE: 'l4.icmp.code',
  PAYLOAD_OFF: 'payload_off',
};

/** "Either direction" pseudo-fields (source field, destination field): only one side of == or !=. */
export const FPL_EITHER_FIELDS: Readonly<Record<string, readonly [string, string]>> = {
  TCP_PORT: ['TCP_SPORT', 'TCP_DPORT'],
  UDP_PORT: ['UDP_SPORT', 'UDP_DPORT'],
  IP_ADDR: ['IP_SRC', 'IP_DEST'],
};

/** Raw loads PKT.B/W/DW[e]: size in bytes. */
export const FPL_RAW_LOADS: Readonly<Record<string, 1 | 2 | 4>> = { B: 1, W: 2, DW: 4 };

/** Per-packet values PKT.LEN / PKT.WIRELEN. */
export const FPL_META: Readonly<Record<string, 'caplen' | 'wirelen'>> = { LEN: 'caplen', WIRELEN: 'wirelen' };

/** Sub-fields of a raw load: width in bits (`.U4[m]` is nibble m from the most significant end). */
export const FPL_SUBFIELDS: Readonly<Record<string, number>> = { U1: 1, U4: 4, U8: 8, U16: 16 };

export const FPL_CONSTANTS: Readonly<Record<string, number>> = {
  PROTO_ICMP: 1, PROTO_IGMP: 2, PROTO_TCP: 6, PROTO_UDP: 17, PROTO_SCTP: 132, PROTO_ICMP6: 58,
  ETH_IP: 0x0800, ETH_IP6: 0x86dd, ETH_ARP: 0x0806, ETH_VLAN: 0x8100,
  FLAG_FIN: 1, FLAG_SYN: 2, FLAG_RST: 4, FLAG_PSH: 8, FLAG_ACK: 16, FLAG_URG: 32, FLAG_ECE: 64, FLAG_CWR: 128,
};

/** Every name that may follow `PKT.`. */
export const PKT_MEMBER_NAMES: readonly string[] = [
  ...Object.keys(FPL_FIELDS), ...Object.keys(FPL_EITHER_FIELDS), ...Object.keys(FPL_RAW_LOADS), ...Object.keys(FPL_META),
];

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidate closest to `name` (case-insensitive), if it is close enough to be a likely typo. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const upper = name.toUpperCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(upper, c.toUpperCase());
    if (d < bestDistance) { best = c; bestDistance = d; }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(upper.length / 3)) ? best : undefined;
}
