/**
 * Compile-time name lookups, as libpcap does them through the C library: port names from
 * /etc/services, IP protocol names from /etc/protocols, and the built-in ether-proto and LLC
 * tables of nametoaddr.c. A missing file means "no such name" (never a crash).
 */
import { readFileSync } from 'node:fs';

export const PROTO_UNDEF = -1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

let services: Map<string, { tcp?: number; udp?: number }> | undefined;
let protocols: Map<string, number> | undefined;

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'latin1').split('\n');
  } catch {
    return [];
  }
}

function serviceTable(): Map<string, { tcp?: number; udp?: number }> {
  if (services) return services;
  services = new Map();
  for (const line of readLines('/etc/services')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/(tcp|udp)$/.exec(words[1] ?? '');
    if (!m) continue;
    for (const name of [words[0], ...words.slice(2)]) {
      const e = services.get(name) ?? {};
      const proto = m[2] as 'tcp' | 'udp';
      if (e[proto] === undefined) e[proto] = Number(m[1]);   // getservbyname returns the first entry
      services.set(name, e);
    }
  }
  return services;
}

/** pcap_nametoport: the port and the protocol it is for (PROTO_UNDEF when both tcp and udp agree). */
export function nameToPort(name: string): { port: number; proto: number } | undefined {
  const e = serviceTable().get(name);
  if (!e) return undefined;
  if (e.tcp !== undefined) return { port: e.tcp, proto: e.udp === e.tcp ? PROTO_UNDEF : IPPROTO_TCP };
  if (e.udp !== undefined) return { port: e.udp, proto: IPPROTO_UDP };
  return undefined;
}

/** pcap_nametoportrange: "a-b" with numbers (sscanf "%d-%d") or two port names. */
export function nameToPortRange(name: string): { p1: number; p2: number; proto: number } | undefined {
  const m = /^\s*([+-]?\d+)-\s*([+-]?\d+)/.exec(name);
  if (m) return { p1: Number(m[1]) >>> 0, p2: Number(m[2]) >>> 0, proto: PROTO_UNDEF };
  const dash = name.indexOf('-');
  if (dash < 0) return undefined;
  const a = nameToPort(name.slice(0, dash));
  if (!a) return undefined;
  const b = nameToPort(name.slice(dash + 1));
  if (!b) return undefined;
  return { p1: a.port, p2: b.port, proto: a.proto === b.proto ? b.proto : PROTO_UNDEF };
}

/** getprotobyname (names and aliases of /etc/protocols). */
export function nameToProto(name: string): number | undefined {
  if (!protocols) {
    protocols = new Map();
    for (const line of readLines('/etc/protocols')) {
      const words = line.replace(/#.*/, '').trim().split(/\s+/);
      if (words.length < 2 || !/^\d+$/.test(words[1])) continue;
      for (const n of [words[0], ...words.slice(2)]) if (!protocols.has(n)) protocols.set(n, Number(words[1]));
    }
  }
  return protocols.get(name);
}

/** nametoaddr.c's eproto_db (pcap_nametoeproto). */
export const ETHER_PROTOS: Record<string, number> = {
  aarp: 0x80f3, arp: 0x0806, atalk: 0x809b, decnet: 0x6003, ip: 0x0800, ip6: 0x86dd, lat: 0x6004,
  loopback: 0x9000, mopdl: 0x6001, moprc: 0x6002, rarp: 0x8035, sca: 0x6007,
};

/** nametoaddr.c's llc_db (pcap_nametollc). */
export const LLC_SAPS: Record<string, number> = { iso: 0xfe, stp: 0x42, ipx: 0xe0, netbeui: 0xf0 };
