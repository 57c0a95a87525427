/**
 * Host, port and net lists long enough for the membership-set pass (lang/ir/passes/sets.ts) and the
 * backend's hashed `inset`, compiled the whole way (passes + WebAssembly), against libpcap's
 * unoptimized verdicts on the edge packets — whole and cut at every length, so every caplen
 * level of the set form is crossed — and on corpus packets. Lists mix terms that hit the test
 * packets with many that do not, and put other terms between runs.
 */
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../vm/compile.js';
import { libpcapVerdicts, oracleReady } from '../libpcap/oracle.js';
import { LINK_TYPES, packetsFor, toRecords } from '../pcapfilter/harness.js';

const many = (n: number, term: (i: number) => string) => Array.from({ length: n }, (_, i) => term(i));

const LISTS: Record<string, string> = {
  hosts: [...many(60, (i) => `host 10.${i >> 4}.${i & 15}.9`), 'host 10.0.0.1', 'host 192.168.1.7', ...many(40, (i) => `host 172.16.${i}.1`)].join(' or '),
  'hosts and v6': [...many(30, (i) => `host 10.9.${i}.1`), 'host 2001:db8::2', ...many(30, (i) => `host 10.8.${i}.1`), 'host 10.0.0.1'].join(' or '),
  ports: [...many(50, (i) => `port ${1000 + i * 7}`), 'port 80', 'port 53', ...many(50, (i) => `port ${30000 + i}`), 'port 8080'].join(' or '),
  'tcp ports': `tcp dst port (${[...many(30, (i) => String(2000 + i)), '80', '443'].join(' or ')})`,
  'udp src ports': `udp and (${[...many(20, (i) => `src port ${5000 + i}`), 'port 53'].join(' or ')})`,
  nets: [...many(60, (i) => `net ${20 + (i >> 4)}.${i & 15}.0.0/16`), 'net 10.0.0.0/16', 'net 192.168.0.0/16', ...many(20, (i) => `net 11.${i}.0.0/16`)].join(' or '),
  'mixed runs': [...many(12, (i) => `host 10.5.${i}.1`), 'tcp', ...many(12, (i) => `port ${4000 + i}`), 'ip[100] = 1', ...many(12, (i) => `host 10.6.${i}.1`), 'host 10.0.0.1'].join(' or '),
};

describe.skipIf(!oracleReady())('long lists compiled to WebAssembly = libpcap', () => {
  for (const [name, dlt] of [['EN10MB', LINK_TYPES.EN10MB], ['RAW', LINK_TYPES.RAW], ['LINUX_SLL', LINK_TYPES.LINUX_SLL]] as const) {
    it(`on ${name}`, async () => {
      const packets = packetsFor(dlt, 150);
      const records = toRecords(packets);
      const problems: string[] = [];
      for (const [list, expr] of Object.entries(LISTS)) {
        const oracle = libpcapVerdicts(expr, dlt, records, false);
        if (!oracle.ok) throw new Error(`libpcap rejects ${list}: ${oracle.error}`);
        const f = await compileFilter(expr, { language: 'pcap', linkType: dlt });
        const got = f.runRecords(records);
        packets.forEach((p, i) => {
          if (got[i] !== oracle.verdicts[i] && problems.length < 10) problems.push(`${list}: ${p.name} (caplen ${p.bytes.length}): libpcap ${oracle.verdicts[i]}, fplc ${got[i]}`);
        });
        if (list !== 'hosts and v6' || dlt !== LINK_TYPES.RAW) {
          expect(new Set(oracle.verdicts).size, `${list} on ${name}: both verdicts occur`).toBe(2);
        }
      }
      expect(problems).toEqual([]);
    }, 60_000);
  }
});
