/**
 * Expressions libpcap rejects: fplc must reject them too, with a CompileError whose diagnostic
 * points into the expression (line:col and caret) — and it must never crash on odd input.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CompileError } from '../../lang/diagnostics.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { pcapCompile } from '../../drivers/libpcap.js';
import { oracleReady } from '../libpcap/oracle.js';
import { LINK_TYPES } from './harness.js';

const REJECTED: [string, number][] = [
  ['ip proto tcp', 1], ['tcp port 80 host 10.0.0.1', 1], ['vxlan', 1], ['ip[0:3] = 1', 1], ['ip[0] / 0 = 1', 1],
  ['ip[0] % 0 = 1', 1], ['ip[0] << 32 = 1', 1], ['ip[0] >> 40 = 1', 1], ['ip[0] / (0 + 1) = 1', 1], ['ip[0] / ip[0] = 1', 1],
  ['net 10.0.0.1/8', 1], ['host 10.0.0.0/8', 1], ['net 10.0.0.0/33', 1], ['net 10.0.0.1 mask 255.0.0.0', 1],
  ['port 70000', 1], ['portrange 1-70000', 1], ['portrange ftp-data-ssh', 1], ['4294967296 = 1', 1],
  ['ether host 00:11:22:33:44:55', LINK_TYPES.RAW], ['ether broadcast', LINK_TYPES.LINUX_SLL], ['vlan', LINK_TYPES.RAW],
  ['vlan', LINK_TYPES.LINUX_SLL], ['mpls', LINK_TYPES.LINUX_SLL], ['mpls', LINK_TYPES.NULL], ['vlan 4096', 1], ['mpls 1048576', 1],
  ['mpls and vlan', 1], ['mpls and arp', 1], ['gateway 10.0.0.1', 1], ['foo', 1], ['(tcp', 1], ['tcp)', 1], ['and', 1], ['not', 1],
  ['tcp and', 1], ['ip6 host 10.0.0.1', 1], ['tcp host 10.0.0.1', 1], ['ip host 2001:db8::1', 1], ['ip[0] = 012345670123', 1],
  ['ether proto \\foo', 1], ['ip proto \\nosuchproto', 1], ['port \\nosuchport', 1], ['src port 80 and dst', 1],
  ['net 2001:db8::1/32', 1], ['net ::1/129', 1], ['host 2001:db8::/64', 1], ['tcp port bootps', 1], ['udp port http', 1],
  ['tcp proto 6', 1], ['arp proto 6', 1], ['src proto 6', 1], ['port 1.2.3.4', 1], ['proto 1.2.3.4', 1], ['tcp src 10.0.0.1', 1],
  ['stp[0] = 1', 1], ['radio[0] = 1', 1], ['link', 1], ['radio', 1], ['ip6 broadcast', 1], ['tcp multicast', 1],
  ['ip and ', 1], ['ip[', 1], ['ip[0', 1], ['ip[0] =', 1], ['= 1', 1], ['1 = 1 1', 1], ['host', 1], ['port', 1],
  ['ip @ 1', 1], ['less', 1], ['less ip', 1], ['ip protochain \\nosuch', 1], ['udp protochain 6', 1], ['ether host 1:2:3:4:5', 1],
  ['host 1.2.3.4.5', 1], ['host 256.1.1.1', 1], ['pppoes 65536', 1], ['wlan addr1 00:11:22:33:44:55', 1], ['type mgt', 1],
  ['vpi 1', 1], ['on eth0', 1], ['llc', LINK_TYPES.RAW], ['ip and 80', 1], ['tcp and 80', 1],
  ['host 10.0.0.1 and port', 1], ['089 = 1', 1], ['ip[0:0] = 1', 1], ['addr1 10.0.0.1', 1], ['src addr2 00:11:22:33:44:55', 1],
  // names (never DNS), llc, decnet, geneve, register limits
  ['net nosuchnet', 1], ['ether host nosuchbox', 1], ['ether src nosuchbox or 1:2:3:4:5:6', 1], ['net loopback/8', 1],
  ['llc foo', 1], ['llc 3', 1], ['llc tcp', 1], ['decnet host foo', 1], ['decnet host 0x10.2', 1], ['decnet addr1 1.2', 1],
  ['decnet host 1.2/8', 1], ['geneve 0x1000000', 1], ['geneve and protochain 6', 1], ['geneve and ip6 protochain 6', 1],
  [Array(6).fill('geneve').join(' and '), 1], [Array(5).fill('geneve').join(' and ') + ' and ip[0] = 1', 1],
  [`ip[0] = ${'1+('.repeat(15)}0${')'.repeat(15)}`, 1], [`${'1+('.repeat(16)}0${')'.repeat(16)} = ip[0]`, 1],
  ['ip[0] >> 32 = 0', 1], ['ip[0:8] = 1', 1], ['4294967296', 1], ['ip[0] = 0x100000000', 1],
  ['net 192.168.1.1/24', 1], ['net fe80::1/10', 1], ['gateway foo', 1],
  // link-type errors on every supported link type without an Ethernet header
  ...[LINK_TYPES.RAW, LINK_TYPES.LINUX_SLL, LINK_TYPES.LINUX_SLL2, LINK_TYPES.NULL, LINK_TYPES.LOOP, LINK_TYPES.IPV4, LINK_TYPES.IPV6]
    .flatMap((dlt): [string, number][] => ['ether host 1:2:3:4:5:6', 'ether src 1:2:3:4:5:6', 'ether broadcast', 'ether multicast',
      'broadcast', 'vlan', 'vlan 10', 'mpls', 'llc', 'llc u'].map((e) => [e, dlt])),
];

describe('expressions libpcap rejects', () => {
  const ready = oracleReady();
  it.skipIf(!ready)('libpcap rejects every expression of the table (the table is right)', () => {
    const accepted = REJECTED.filter(([e, dlt]) => pcapCompile(e, { linkType: dlt, optimize: false }).ok);
    expect(accepted).toEqual([]);
  });

  for (const [expr, dlt] of REJECTED) {
    it(`rejects ${JSON.stringify(expr)} on DLT ${dlt}, with a position`, () => {
      let err: unknown;
      try {
        compilePcapFilter(expr, { linkType: dlt, file: 'filter' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CompileError);
      const d = (err as CompileError).diagnostics[0];
      expect(d.severity).toBe('error');
      expect(d.offset).toBeGreaterThanOrEqual(0);
      expect(d.offset).toBeLessThanOrEqual(expr.length);
      expect(d.line).toBe(1);
      expect((err as CompileError).message).toMatch(/^filter:1:\d+: error: .+\n.*\n *\^/);
    });
  }

  it.skipIf(!ready)('ip broadcast: netmask 0 by default (tcpdump -r), refused as libpcap when the netmask is unknown', () => {
    expect(pcapCompile('ip broadcast', { linkType: 1, optimize: false, netmask: 0 }).ok).toBe(true);
    expect(() => compilePcapFilter('ip broadcast', { linkType: 1 })).not.toThrow();
    const unknown = pcapCompile('ip broadcast', { linkType: 1, optimize: false, netmask: 0xffffffff });
    expect(unknown.ok).toBe(false);
    let message = '';
    try { compilePcapFilter('ip broadcast', { linkType: 1, netmask: 0xffffffff }); } catch (e) { message = (e as CompileError).diagnostics[0].message; }
    expect(message).toBe(unknown.ok ? 'compiled' : unknown.error);
  });

  it('points at the offending token', () => {
    const pos = (expr: string) => {
      try { compilePcapFilter(expr, { linkType: 1 }); } catch (e) { return (e as CompileError).diagnostics[0].col; }
      return -1;
    };
    expect(pos('ip proto tcp')).toBe(10);
    expect(pos('tcp port 80 host 10.0.0.1')).toBe(13);
    expect(pos('ip[0:3] = 1')).toBe(6);
    expect(pos('tcp and port 99999')).toBe(14);
    expect(pos('net 10.0.0.1/8')).toBe(5);
    expect(pos('ip[0] = 1 and ip6 host 10.0.0.1')).toBe(24);
  });

  it('warns where only libpcap\'s optimizer says "expression rejects all packets", and compiles', () => {
    const warning = (expr: string, dlt = 1) => compilePcapFilter(expr, { linkType: dlt }).warnings[0];
    for (const [expr, dlt] of [['ip and vlan', 1], ['ip6 and tcp[13] & 2 != 0', 1], ['arp', LINK_TYPES.RAW], ['ip6', LINK_TYPES.IPV4],
      ['ip', LINK_TYPES.IPV6], ['ip and ip6', 1], ['not ip and ip', 1], ['ip6 and tcp[13] & 2 != 0', LINK_TYPES.RAW]] as [string, number][]) {
      const w = warning(expr, dlt);
      expect(w?.severity, `${expr} on ${dlt}`).toBe('warning');
      expect(w?.message).toBe('expression rejects all packets');
    }
    expect(warning('ip6 and tcp[13] & 2 != 0')?.hint).toMatch(/IPv4 packets only/);
    expect(warning('ip and vlan')?.hint).toMatch(/vlan and ip/);
    for (const expr of ['ip or vlan', 'vlan and ip', 'tcp or udp', 'not ip or ip', 'ip6 or tcp[13] & 2 != 0', 'host 10.0.0.1', '']) {
      expect(compilePcapFilter(expr, { linkType: 1 }).warnings, expr).toEqual([]);
    }
  });

  it.skipIf(!ready)('every warned filter is one libpcap\'s optimizer rejects (the warning is never wrong)', () => {
    const exprs = ['ip and vlan', 'ip6 and tcp[13] & 2 != 0', 'tcp and udp', 'not ip and ip', 'ip and arp', 'vlan 1 and ip6 and ip',
      'ip6 and icmp[0] = 8', 'mpls and arp and ip'];
    for (const dlt of [1, LINK_TYPES.RAW, LINK_TYPES.LINUX_SLL, LINK_TYPES.IPV4, LINK_TYPES.IPV6]) {
      for (const expr of [...exprs, 'arp', 'ip', 'ip6', 'tcp', 'icmp6']) {
        let warned: boolean;
        try {
          warned = compilePcapFilter(expr, { linkType: dlt }).warnings.length > 0;
        } catch {
          continue;
        }
        if (!warned) continue;
        const opt = pcapCompile(expr, { linkType: dlt, optimize: true });
        expect(opt.ok ? 'compiled' : opt.error, `${expr} on ${dlt}`).toBe('expression rejects all packets');
      }
    }
  });

  it('hints at the classic traps', () => {
    const hint = (expr: string) => { try { compilePcapFilter(expr, { linkType: 1 }); } catch (e) { return (e as CompileError).diagnostics[0].hint; } return undefined; };
    expect(hint('ip proto tcp')).toMatch(/\\tcp/);
    expect(hint('ip6 protochain udp')).toMatch(/\\udp/);
  });

  it('rejects unsupported link types and non-string input by name', () => {
    expect(() => compilePcapFilter('ip', { linkType: 127 })).toThrow(/IEEE802_11_RADIO/);
    expect(() => compilePcapFilter(42 as unknown as string, { linkType: 1 })).toThrow(CompileError);
  });

  it('never throws anything but a CompileError, on any input', () => {
    const alphabet = fc.constantFrom(...'ip tcp port host net 10.0.0.1 :: [ ] ( ) & | ^ % - + = ! < > \\ / 0 1 0x 80 and or not vlan mpls ether len'.split(' '), ' ');
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 14 }), fc.string({ maxLength: 12 }), (words, junk) => {
      for (const expr of [words.join(' '), words.join(''), junk]) {
        try {
          compilePcapFilter(expr, { linkType: 1 });
        } catch (e) {
          if (!(e instanceof CompileError)) throw e;
        }
      }
    }), { numRuns: 400 });
  });
});
