/**
 * Large filters: long `or` chains compile (no recursion as deep as the chain anywhere in the
 * front end: tokenizer, parser, generator, lowering) into balanced IR, and agree with libpcap
 * (unoptimized: its optimizer takes minutes on 1,000 hosts) packet for packet. Timing lives in
 * bench/pcapfilter-large.ts, not here.
 */
import { describe, expect, it } from 'vitest';
import type { Expr, Stmt } from '../../lang/ir/ir.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { libpcapVerdicts, oracleReady } from '../libpcap/oracle.js';
import { newState, runPacket } from '../cbpf/ir-interp.js';
import { compare, LINK_TYPES, packetsFor, toRecords } from './harness.js';

/** n host terms; the edge packets' addresses (10.0.0.1, 192.168.1.7, 2001:db8::2) sit at the end. */
function hostChain(n: number): string {
  const terms: string[] = [];
  for (let i = 0; i < n - 3; i++) terms.push(`host 10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${(i & 0xff) | 2}`);
  return [...terms, 'host 192.168.1.7', 'src host 10.0.0.1', 'dst host 2001:db8::2'].join(' or ');
}

/** Depth of an IR tree, iteratively (the thing measured must not be what overflows). */
function depth(root: Stmt | Expr): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [node, d] = stack.pop()!;
    if (!node || typeof node !== 'object') continue;
    max = Math.max(max, d);
    for (const v of Object.values(node as Record<string, unknown>)) {
      if (Array.isArray(v)) for (const x of v) stack.push([x, d + 1]);
      else if (v && typeof v === 'object') stack.push([v, d + 1]);
    }
  }
  return max;
}

describe('large filters', () => {
  it('long chains compile to shallow trees (balanced, not a spine as deep as the chain)', () => {
    const { program } = compilePcapFilter(hostChain(10000), { linkType: 1 });
    expect(depth(program.body)).toBeLessThan(200);
    const ports = `tcp port ${Array.from({ length: 3000 }, (_, i) => String(1 + i)).join(' or ')}`;
    expect(depth(compilePcapFilter(ports, { linkType: 1 }).program.body)).toBeLessThan(200);
    const mixed = Array.from({ length: 2000 }, (_, i) => `port ${i + 1}`).join(' and not ');
    expect(depth(compilePcapFilter(mixed, { linkType: 1 }).program.body)).toBeLessThan(100000);
  });

  it('absurd nesting is an error, not a crash', () => {
    const parens = `${'('.repeat(5000)}tcp${')'.repeat(5000)}`;
    const nots = `${'not '.repeat(20000)}tcp`;
    for (const expr of [parens, nots]) {
      try {
        compilePcapFilter(expr, { linkType: 1 });
      } catch (e) {
        expect((e as Error).name).toBe('CompileError');
      }
    }
  });

  it.skipIf(!oracleReady())('1,000 and 10,000 hosts agree with libpcap, packet for packet', () => {
    for (const dlt of [LINK_TYPES.EN10MB, LINK_TYPES.RAW]) {
      // Whole edge packets, every ninth cut one, a few corpus packets: enough to see both verdicts and faults.
      const packets = packetsFor(dlt, 20).filter((p, i) => !/ cut at /.test(p.name) || i % 9 === 0);
      const records = toRecords(packets);
      if (dlt === LINK_TYPES.EN10MB) {
        // libpcap needs about 3 s for 1,000 hosts even unoptimized: once is enough.
        const r = compare(hostChain(1000), dlt, packets, records);
        expect(r.mismatches).toEqual([]);
        expect(r.distinct).toBe(2);
      }
      // libpcap 1.10.3 itself crashes (stack overflow) compiling 10,000 hosts. Every IPv4 host
      // term loads the same bytes in the same order, so a term whose address occurs in no packet
      // can be dropped without changing any verdict: the oracle is the chain without them.
      const present = new Set<number>();
      for (const p of packets) {
        const v = new DataView(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
        for (let i = 0; i + 4 <= p.bytes.length; i++) present.add(v.getUint32(i));
      }
      const terms = hostChain(10000).split(' or ');
      const kept = terms.filter((t, i) => {
        const m = /^host (\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(t);
        return i === 0 || !m || present.has(((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0);
      });
      expect(kept.length).toBeLessThan(500);
      const oracle = libpcapVerdicts(kept.join(' or '), dlt, records, false);
      if (!oracle.ok) throw new Error(oracle.error);
      const { program } = compilePcapFilter(terms.join(' or '), { linkType: dlt });
      const state = newState(program);
      const wrong = packets.filter((p, i) => runPacket(program, state, p.bytes, p.wirelen) !== oracle.verdicts[i]).map((p) => p.name);
      expect(wrong).toEqual([]);
    }
  });
});
