/**
 * Random expressions from a grammar of primitives (combined with and/or/not/parentheses and
 * qualifier inheritance, plus arithmetic relations weighted to boundary constants): fplc's
 * verdict must equal libpcap's (unoptimized) on every packet.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { oracleReady } from '../libpcap/oracle.js';
import { compare, LINK_TYPES, packetsFor, toRecords } from './harness.js';

const PRIMITIVES = ['ip', 'ip6', 'arp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'vlan', 'vlan 100', 'mpls', 'pppoes',
  'host 10.0.0.1', 'src host 192.168.1.7', 'net 10.0.0.0/8', 'dst net 192.168', 'port 80', 'tcp dst port 80',
  'udp port 53', 'portrange 50-8080', 'src port 8080', 'ether multicast', 'ether src 02:00:00:00:00:01',
  'ip6 host 2001:db8::2', 'ip proto 17', 'ip6 proto 6', 'less 60', 'greater 70', 'ip multicast', 'ip6 protochain 6',
  'ether proto 0x806', 'stp', 'tcp[13] & 2 != 0', 'host 10.0.0.1 or 10.0.0.2', 'port 80 or 53'];

const BOUNDARY = ['0', '1', '2', '4', '14', '0x45', '255', '2147483647', '2147483648', '4294967295'];
const ACCESSORS = ['ip', 'ip6', 'tcp', 'udp', 'icmp', 'ether', 'arp', 'len'];
const OPS = ['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>'];

const arith: fc.Arbitrary<string> = fc.letrec((tie) => ({
  atom: fc.oneof(
    fc.constantFrom(...BOUNDARY),
    fc.tuple(fc.constantFrom(...ACCESSORS), fc.integer({ min: 0, max: 60 }), fc.constantFrom('', ':1', ':2', ':4'))
      .map(([p, i, s]) => (p === 'len' ? 'len' : `${p}[${i}${s}]`)),
  ),
  expr: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    tie('atom') as fc.Arbitrary<string>,
    fc.tuple(tie('expr') as fc.Arbitrary<string>, fc.constantFrom(...OPS), tie('atom') as fc.Arbitrary<string>)
      .map(([a, op, b]) => `${a} ${op} ${b}`),
    (tie('expr') as fc.Arbitrary<string>).map((a) => `(${a})`),
  ),
})).expr as fc.Arbitrary<string>;

const relation = fc.tuple(arith, fc.constantFrom('=', '!=', '<', '<=', '>', '>='), arith).map(([a, r, b]) => `${a} ${r} ${b}`);

const filter: fc.Arbitrary<string> = fc.letrec((tie) => ({
  term: fc.oneof(fc.constantFrom(...PRIMITIVES), relation, fc.constantFrom('10.0.0.2', '53', '192.168.1.7')),
  expr: fc.oneof({ depthSize: 'small' },
    tie('term') as fc.Arbitrary<string>,
    fc.tuple(tie('expr') as fc.Arbitrary<string>, fc.constantFrom('and', 'or', '&&', '||'), tie('term') as fc.Arbitrary<string>)
      .map(([a, op, b]) => `${a} ${op} ${b}`),
    (tie('expr') as fc.Arbitrary<string>).map((a) => `not ${a}`),
    (tie('expr') as fc.Arbitrary<string>).map((a) => `(${a})`),
  ),
})).expr as fc.Arbitrary<string>;

describe.skipIf(!oracleReady())('random expressions: fplc = libpcap', () => {
  for (const dlt of [LINK_TYPES.EN10MB, LINK_TYPES.RAW, LINK_TYPES.LINUX_SLL]) {
    it(`on DLT ${dlt}`, () => {
      const packets = packetsFor(dlt, 120);
      const records = toRecords(packets);
      let compiled = 0;
      fc.assert(fc.property(filter, (expr) => {
        const r = compare(expr, dlt, packets, records);
        if (r.compiledByLibpcap) compiled++;
        expect(r.mismatches).toEqual([]);
      }), { numRuns: 250 });
      expect(compiled).toBeGreaterThan(50);
    });
  }
});
