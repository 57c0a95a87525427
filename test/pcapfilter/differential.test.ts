/**
 * libpcap expressions: fplc vs libpcap 1.10.3, packet for packet. Each expression is compiled
 * by both on every link type in scope; where libpcap compiles it, fplc must too and return the
 * same value on every edge and corpus packet (unoptimized libpcap; the optimizer's known bugs
 * are left out of the optimize=true pass). Where libpcap rejects it, fplc must reject it too.
 */
import { describe, expect, it } from 'vitest';
import { oracleReady } from '../libpcap/oracle.js';
import { requires, haveCorpus } from '../support/env.js';
import { EXPRESSIONS } from './expressions.js';
import { compare, LINK_TYPES, packetsFor, toRecords } from './harness.js';

const ready = oracleReady();
requires('the tcpdump capture corpus', haveCorpus);

/** libpcap 1.10.3's optimizer is wrong on these (spec §2.13): compare them unoptimized only. */
const OPTIMIZER_BUGS = new Set(['link[0:1] & 0xffffffff != 0']);

/**
 * Known, deliberate differences. libpcap compiles `inbound`/`outbound`/`ifindex` on links
 * without that metadata only for live Linux capture (an ancillary load that fails on every
 * packet offline); reading savefiles it rejects them, and so does fplc.
 */
export const DELIBERATE = (expr: string, dlt: number): boolean =>
  (/^(inbound|outbound)$/.test(expr) && dlt !== LINK_TYPES.LINUX_SLL && dlt !== LINK_TYPES.LINUX_SLL2) ||
  (/^ifindex/.test(expr) && dlt !== LINK_TYPES.LINUX_SLL2);

describe.skipIf(!ready)('libpcap expressions: fplc = libpcap, packet for packet', () => {
  for (const [name, dlt] of Object.entries(LINK_TYPES)) {
    it(`on ${name}`, () => {
      const packets = packetsFor(dlt);
      const records = toRecords(packets);
      const problems: string[] = [];
      let compiled = 0;
      let discriminating = 0;
      const optimizerChanged: string[] = [];
      for (const expr of EXPRESSIONS) {
        if (DELIBERATE(expr, dlt)) continue;
        const r = compare(expr, dlt, packets, records);
        problems.push(...r.mismatches);
        if (r.compiledByLibpcap) compiled++;
        if (r.distinct > 1) discriminating++;
        if (r.compiledByLibpcap && !OPTIMIZER_BUGS.has(expr) && !r.fplcError) {
          // Optimized programs must agree too, wherever libpcap's optimizer compiles the expression.
          const o = compare(expr, dlt, packets, records, { optimize: true });
          if (o.compiledByLibpcap) problems.push(...o.mismatches);
          if (o.optimizerChanges) optimizerChanged.push(`${expr} (${o.optimizerChanges} packets)`);
        }
      }
      if (optimizerChanged.length) console.info(`libpcap's optimizer changes verdicts (truncated packets) on ${name} for: ${optimizerChanged.join('; ')}`);
      if (problems.length) console.error(`${problems.length} disagreements on ${name}:\n${problems.slice(0, 40).join('\n')}`);
      expect(problems.slice(0, 15)).toEqual([]);
      expect(compiled).toBeGreaterThan(EXPRESSIONS.length / 3);
      expect(discriminating).toBeGreaterThan(compiled / 4);
    });
  }

  it('ip broadcast with a netmask, and the snaplen as the accept value', () => {
    const packets = packetsFor(LINK_TYPES.EN10MB);
    const records = toRecords(packets);
    const problems = [
      ...compare('ip broadcast', 1, packets, records, { netmask: 0xffffff00 }).mismatches,
      ...compare('ip broadcast or ip multicast', 1, packets, records, { netmask: 0xffff0000 }).mismatches,
      ...compare('tcp port 80', 1, packets, records, { snaplen: 96 }).mismatches,
    ];
    expect(problems).toEqual([]);
  });
});
