/**
 * Compile-time name lookups, as libpcap does them through the C library: port names from
 * /etc/services, IP protocol names from /etc/protocols, and the built-in ether-proto and LLC
 * tables of nametoaddr.c. A missing file means "no such name" (never a crash).
 */
import { readFileSync } from 'node:fs';
import { parseIPv6 } from './lexer.js';

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

// ---- host, network and ether names --------------------------------------------------------

/**
 * Where names come from. libpcap asks the C library (getaddrinfo, getnetbyname,
 * ether_hostton); fplc reads the same files and never asks DNS, so a compile does not depend
 * on the network. Tests inject their own tables instead of editing /etc.
 */
export interface NameResolver {
  /** Addresses of a host name in the order they are tried: IPv4 as a u32, IPv6 as 16 bytes. */
  host(name: string): (number | Uint8Array)[];
  /** getnetbyname's network number (host order, as inet_network gives it: `127` → 0x7f), or undefined. */
  network(name: string): number | undefined;
  /** The MAC address of an /etc/ethers name, or undefined. */
  ether(name: string): number[] | undefined;
  /** What was consulted, for messages ("/etc/hosts"). */
  readonly sources: { hosts: string; networks: string; ethers: string };
}

/** Tables built from text in the formats of /etc/hosts, /etc/networks and /etc/ethers. */
export function tableResolver(text: { hosts?: string; networks?: string; ethers?: string },
  sources = { hosts: 'the hosts table', networks: 'the networks table', ethers: 'the ethers table' }): NameResolver {
  let hosts: Map<string, (number | Uint8Array)[]> | undefined;
  let networks: Map<string, number> | undefined;
  let ethers: Map<string, number[]> | undefined;
  const words = (line: string) => line.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
  return {
    sources,
    host(name) {
      if (!hosts) {
        hosts = new Map();
        for (const line of (text.hosts ?? '').split('\n')) {
          const [addrText, ...names] = words(line);
          if (!addrText || names.length === 0) continue;
          const addr = parseHostsAddress(addrText);
          if (addr === undefined) continue;
          // glibc's files backend matches names case-insensitively and returns every matching line.
          for (const n of new Set(names.map((s) => s.toLowerCase()))) {
            const list = hosts.get(n) ?? [];
            list.push(addr);
            hosts.set(n, list);
          }
        }
      }
      return hosts.get(name.toLowerCase()) ?? [];
    },
    network(name) {
      if (!networks) {
        networks = new Map();
        for (const line of (text.networks ?? '').split('\n')) {
          const [n, num, ...aliases] = words(line);
          const v = num === undefined ? undefined : inetNetwork(num);
          if (v === undefined) continue;
          for (const a of [n, ...aliases]) if (!networks.has(a.toLowerCase())) networks.set(a.toLowerCase(), v);
        }
      }
      return networks.get(name.toLowerCase());
    },
    ether(name) {
      if (!ethers) {
        ethers = new Map();
        for (const line of (text.ethers ?? '').split('\n')) {
          const [mac, n] = words(line);
          const bytes = mac?.split(':');
          if (!n || !bytes || bytes.length !== 6 || bytes.some((b) => !/^[0-9A-Fa-f]{1,2}$/.test(b))) continue;
          if (!ethers.has(n.toLowerCase())) ethers.set(n.toLowerCase(), bytes.map((b) => parseInt(b, 16)));
        }
      }
      return ethers.get(name.toLowerCase());
    },
  };
}

/** The files of this machine, read once per resolver (a resolver lives for one compile). */
export function systemResolver(): NameResolver {
  let r: NameResolver | undefined;
  const files = { hosts: '/etc/hosts', networks: '/etc/networks', ethers: '/etc/ethers' };
  const get = () => (r ??= tableResolver({
    hosts: readLines(files.hosts).join('\n'), networks: readLines(files.networks).join('\n'), ethers: readLines(files.ethers).join('\n'),
  }, files));
  return { sources: files, host: (n) => get().host(n), network: (n) => get().network(n), ether: (n) => get().ether(n) };
}

/** An address field of /etc/hosts: a dotted quad or an IPv6 address (a `%scope` suffix is dropped). */
function parseHostsAddress(s: string): number | Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m) {
    const parts = m.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
  }
  return parseIPv6(s.replace(/%.*$/, ''));
}

/** inet_network: 1–4 dot-separated parts (decimal, 0x hex, 0 octal), packed right-aligned. */
export function inetNetwork(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length > 4) return undefined;
  let v = 0;
  for (const p of parts) {
    const n = /^0[xX][0-9A-Fa-f]+$/.test(p) ? parseInt(p.slice(2), 16) : /^0[0-7]*$/.test(p) ? parseInt(p || '0', 8) : /^[1-9]\d*$/.test(p) ? Number(p) : NaN;
    if (!Number.isFinite(n) || n > 255) return undefined;
    v = ((v << 8) | n) >>> 0;
  }
  return v;
}

/** libpcap's LLC frame-type names (grammar.y.in's llc_s_subtypes and llc_u_subtypes). */
export const LLC_S_SUBTYPES: Record<string, number> = { rr: 0x01, rnr: 0x05, rej: 0x09 };
export const LLC_U_SUBTYPES: Record<string, number> = { ui: 0x03, ua: 0x63, disc: 0x43, dm: 0x0f, sabme: 0x6f, test: 0xe3, xid: 0xaf, frmr: 0x87 };
