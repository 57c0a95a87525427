/**
 * Host, network and ether names, resolved as libpcap resolves them: /etc/hosts (every IPv4 and
 * IPv6 address of a name), /etc/networks (getnetbyname's number, left-justified), /etc/ethers —
 * never DNS. Two oracles:
 * - names of this machine compiled by libpcap and by fplc, compared packet by packet;
 * - names from an injected table, compared with libpcap compiling the same filter written
 *   with the addresses themselves (libpcap's name expansion is `or` over the addresses).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CompileError } from '../../lang/diagnostics.js';
import { compilePcapFilter, tableResolver } from '../../lang/pcapfilter/index.js';
import { inetNetwork, systemResolver } from '../../lang/pcapfilter/names.js';
import { libpcapVerdicts, oracleReady } from '../libpcap/oracle.js';
import { arp, ipv4, ipv6, tcp, type Packet } from '../libpcap/packets.js';
import { newState, runPacket } from '../cbpf/ir-interp.js';
import { compare, LINK_TYPES, packetsFor, toRecords } from './harness.js';

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const ETH = (type: number) => [0, 0x11, 0x22, 0x33, 0x44, 0x55, 2, 0, 0, 0, 0, 1, ...u16(type)];

/** Packets with the addresses the name tables below (and this machine's files) use. */
function namePackets(dlt: number): Packet[] {
  const v4 = (src: string, dst: string) => ipv4({ proto: 6, payload: tcp(1, 80), src, dst });
  const l3: [number, number[]][] = [
    [0x800, v4('127.0.0.1', '127.0.0.1')], [0x800, v4('10.1.2.3', '127.0.0.0')], [0x800, v4('169.254.0.0', '192.168.1.9')],
    [0x800, v4('192.168.1.9', '10.0.0.1')], [0x86dd, ipv6({ proto: 6, payload: tcp(1, 80), src: '2001:db8::7', dst: '::1' })],
    [0x806, arp(1, '127.0.0.1', '10.1.2.3')], [0x8035, arp(3, '192.168.1.9', '127.0.0.1')],
  ];
  const out: Packet[] = [];
  for (const [type, body] of l3) {
    let head: number[] | undefined;
    if (dlt === LINK_TYPES.EN10MB) head = ETH(type);
    else if (dlt === LINK_TYPES.LINUX_SLL) head = [0, 0, 0, 1, 0, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, ...u16(type)];
    else if (dlt === LINK_TYPES.RAW) head = type === 0x800 || type === 0x86dd ? [] : undefined;
    else if (dlt === LINK_TYPES.NULL) head = type === 0x800 ? [2, 0, 0, 0] : type === 0x86dd ? [10, 0, 0, 0] : undefined;
    if (!head) continue;
    const bytes = Uint8Array.from([...head, ...body]);
    out.push({ bytes, wirelen: bytes.length, name: `names ${type.toString(16)} #${out.length}` });
    for (const cut of [head.length + 14, head.length + 20, head.length + 30]) {
      if (cut < bytes.length) out.push({ bytes: bytes.subarray(0, cut), wirelen: bytes.length, name: `names #${out.length} cut at ${cut}` });
    }
  }
  return out;
}

const TABLE = tableResolver({
  hosts: '# test table\n10.1.2.3 four\n10.1.2.3 both Both-Alias\n2001:db8::7 both\n::1 six\n192.168.1.9 four  # a second address\n',
  networks: 'tennet 10\nlan 192.168.1\nexact 127.0.0.0\nzero 0\n',
  ethers: '0:11:22:33:44:55 boxa\n02:00:00:00:00:01 boxb\n',
});

/** Filters with names (resolved by TABLE) and the same filters written with addresses. */
const EQUIVALENT: [string, string][] = [
  ['host four', 'host 10.1.2.3 or host 192.168.1.9'],
  ['host both', 'host 10.1.2.3 or host 2001:db8::7'],
  ['src host both-alias', 'src host 10.1.2.3'],
  ['dst host BOTH', 'dst host 10.1.2.3 or dst host 2001:db8::7'],
  ['ip host both', 'ip host 10.1.2.3'],
  ['ip6 host both', 'ip6 host 2001:db8::7'],
  ['arp host four', 'arp host 10.1.2.3 or arp host 192.168.1.9'],
  ['host six', 'host ::1'],
  ['host four and tcp', '(host 10.1.2.3 or host 192.168.1.9) and tcp'],
  ['host four or six', 'host 10.1.2.3 or host 192.168.1.9 or host ::1'],
  ['net tennet', 'net 10'],
  ['src net lan', 'src net 192.168.1'],
  ['net exact', 'net 127.0.0.0/32'],
  ['ip net tennet or lan', 'ip net 10 or ip net 192.168.1'],
  ['ether host boxa', 'ether host 00:11:22:33:44:55'],
  ['ether src boxb or boxa', 'ether src 02:00:00:00:00:01 or ether src 00:11:22:33:44:55'],
];

describe.skipIf(!oracleReady())('names from an injected table = libpcap on the addresses', () => {
  for (const [label, dlt] of Object.entries({ EN10MB: LINK_TYPES.EN10MB, RAW: LINK_TYPES.RAW, LINUX_SLL: LINK_TYPES.LINUX_SLL, NULL: LINK_TYPES.NULL })) {
    it(`on ${label}`, () => {
      const packets = [...namePackets(dlt), ...packetsFor(dlt, 40)];
      const records = toRecords(packets);
      const problems: string[] = [];
      let discriminating = 0;
      for (const [named, literal] of EQUIVALENT) {
        const oracle = libpcapVerdicts(literal, dlt, records, false);
        let program;
        try {
          program = compilePcapFilter(named, { linkType: dlt, resolver: TABLE, capture: 'live' }).program;  // the addon's rules (pcap_open_dead)
        } catch (e) {
          if (oracle.ok) problems.push(`${named}: libpcap compiles ${literal}, fplc: ${(e as Error).message.split('\n')[0]}`);
          continue;
        }
        if (!oracle.ok) { problems.push(`${named}: libpcap rejects ${literal} (${oracle.error}), fplc compiles`); continue; }
        if (new Set(oracle.verdicts).size > 1) discriminating++;
        const state = newState(program);
        packets.forEach((p, i) => {
          const got = runPacket(program, state, p.bytes, p.wirelen);
          if (got !== oracle.verdicts[i]) problems.push(`${named} on ${p.name}: libpcap(${literal}) ${oracle.verdicts[i]}, fplc ${got}`);
        });
      }
      expect(problems.slice(0, 10)).toEqual([]);
      expect(discriminating).toBeGreaterThan(dlt === LINK_TYPES.EN10MB ? 10 : 5);
    });
  }
});

/** Names of this machine: the first names of /etc/hosts and /etc/networks lines, plus aliases. */
function machineNames(): { hosts: string[]; networks: string[] } {
  const read = (f: string) => { try { return readFileSync(f, 'latin1').split('\n'); } catch { return []; } };
  const hosts = read('/etc/hosts').map((l) => l.replace(/#.*/, '').trim().split(/\s+/)).filter((w) => w.length > 1)
    .flatMap((w) => w.slice(1)).filter((n) => /^[A-Za-z][-_.A-Za-z0-9]*$/.test(n));
  const networks = read('/etc/networks').map((l) => l.replace(/#.*/, '').trim().split(/\s+/)).filter((w) => w.length > 1)
    .map((w) => w[0]).filter((n) => /^[A-Za-z][-_.A-Za-z0-9]*$/.test(n));
  return { hosts: [...new Set(hosts)].slice(0, 6), networks: [...new Set(networks)].slice(0, 6) };
}

describe.skipIf(!oracleReady())("this machine's names: fplc = libpcap", () => {
  const { hosts, networks } = machineNames();
  const exprs = [
    ...hosts.flatMap((h) => [`host ${h}`, `src host ${h}`, `ip host ${h}`, `ip6 host ${h}`, `arp dst host ${h}`, `tcp and dst ${h}`]),
    ...networks.flatMap((n) => [`net ${n}`, `dst net ${n}`, `ip net ${n}`]),
  ];
  for (const [label, dlt] of Object.entries({ EN10MB: LINK_TYPES.EN10MB, RAW: LINK_TYPES.RAW, LINUX_SLL: LINK_TYPES.LINUX_SLL, NULL: LINK_TYPES.NULL })) {
    it(`on ${label} (${exprs.length} expressions)`, () => {
      if (exprs.length === 0) console.warn('no names in /etc/hosts or /etc/networks on this machine');
      const packets = [...namePackets(dlt), ...packetsFor(dlt, 40)];
      const records = toRecords(packets);
      const problems = exprs.flatMap((e) => compare(e, dlt, packets, records).mismatches);
      expect(problems).toEqual([]);
    });
  }
});

describe('name errors', () => {
  const error = (expr: string, dlt = 1, resolver = TABLE) => {
    try {
      compilePcapFilter(expr, { linkType: dlt, resolver, file: 'f' });
    } catch (e) {
      if (e instanceof CompileError) return e.diagnostics[0];
      throw e;
    }
    return undefined;
  };
  it('names the files consulted, with the position of the name', () => {
    const sys = systemResolver();
    expect(error('tcp and host no-such-host.invalid', 1, sys)?.message).toBe("unknown host 'no-such-host.invalid' (looked in /etc/hosts; fplc does not ask DNS)");
    expect(error('tcp and host no-such-host.invalid', 1, sys)?.col).toBe(14);
    expect(error('net no-such-net', 1, sys)?.message).toBe("unknown network 'no-such-net' (looked in /etc/networks)");
    expect(error('ether host no-such-box', 1, sys)?.message).toBe("unknown ether host 'no-such-box' (looked in /etc/ethers)");
    expect(error('host nobody')?.message).toMatch(/unknown host 'nobody' \(looked in the hosts table/);
  });
  it('rejects what libpcap rejects for names that exist', () => {
    expect(error('ip6 host four')?.message).toBe("unknown host 'four' for specified address family");
    expect(error('ip host six')?.message).toBe("unknown host 'six' for specified address family");
    expect(error('tcp host four')?.message).toBe("'tcp' modifier applied to host");
    expect(error('arp host six')?.message).toBe("'arp' modifier applied to ip6 host");
    expect(error('net zero')?.message).toMatch(/^unknown network 'zero'/);
    expect(error('ether host boxa', LINK_TYPES.RAW)?.message).toBe('only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name');
    expect(error('decnet host four')?.message).toBe("decnet name support not included, 'four' cannot be translated");
    expect(error('gateway four')?.message).toBe("'gateway' not supported in this configuration");
  });
  it('parses network numbers as inet_network does', () => {
    expect(inetNetwork('127')).toBe(0x7f);
    expect(inetNetwork('127.0.0.0')).toBe(0x7f000000);
    expect(inetNetwork('0x0a.010')).toBe(0x0a08);
    expect(inetNetwork('1.2.3.4.5')).toBeUndefined();
    expect(inetNetwork('256')).toBeUndefined();
  });
});
