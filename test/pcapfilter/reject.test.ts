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
  ['port 70000', 1], ['portrange 1-70000', 1], ['portrange ftp-data-ssh', 1], ['4294967296 = 1', 1], ['ip broadcast', 1],
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
