/**
 * Packet facts (lang/ir/facts.ts), shared by the length-guard pass and the backend: facts
 * extend along a path and restrict where paths join, and lengthNeeded is a true lower bound
 * (checked against the reference interpreter on every truncation of random packets).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME, MAX_FACTS, NO_FACTS, eqKey, lengthKey, lengthNeeded, meet, neKey, proven, withExact, withFact, type Facts,
} from '../../lang/ir/facts.js';
import { bin, c, land, lor, ret, type Expr, type Program } from '../../lang/ir/ir.js';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { lowerSource } from '../../vm/compile.js';

const ld = (off: number, size: 1 | 2 | 4 = 1): Expr => ({ k: 'load', off: c(off), size });
const ihl: Expr = { k: 'load', off: c(14), size: 1 };

describe('facts', () => {
  it('extend: a fact proves every shorter length at its base, and only at its base', () => {
    const f = withFact(NO_FACTS, FRAME, 24);
    expect(proven(f, FRAME, 24)).toBe(true);
    expect(proven(f, FRAME, 14)).toBe(true);
    expect(proven(f, FRAME, 25)).toBe(false);
    expect(proven(f, lengthKey(ihl), 1)).toBe(false);
    expect(withFact(f, FRAME, 20)).toBe(f);                       // already implied: the same map
    expect(proven(withFact(f, FRAME, 40), FRAME, 40)).toBe(true);
    expect(proven(NO_FACTS, FRAME, 0)).toBe(false);
    expect(proven(null, FRAME, 1e9)).toBe(true);                  // an unreachable path proves anything
  });

  it('restrict: where paths join, the weaker bound holds; unreachable paths do not count', () => {
    const a = withFact(withFact(NO_FACTS, FRAME, 24), lengthKey(ihl), 8);
    const b = withFact(NO_FACTS, FRAME, 14);
    const j = meet(a, b);
    expect(proven(j, FRAME, 14)).toBe(true);
    expect(proven(j, FRAME, 15)).toBe(false);
    expect(proven(j, lengthKey(ihl), 1)).toBe(false);             // b knew nothing of that base
    expect(meet(a, null)).toEqual(a);
    expect(meet(null, null)).toBeNull();
  });

  it('value facts: equal constants survive a join only when every path has the same one', () => {
    const k = 'x';
    const is6 = withExact(NO_FACTS, eqKey(k), 6), is17 = withExact(NO_FACTS, eqKey(k), 17);
    expect(meet(is6, is6)!.get(eqKey(k))).toBe(6);
    expect(meet(is6, is17)!.has(eqKey(k))).toBe(false);
    const not6 = withExact(NO_FACTS, neKey(k, 6), 1);
    expect(not6!.has(neKey(k, 6))).toBe(true);
    expect(not6!.has(neKey(k, 17))).toBe(false);
  });

  it('stay bounded: past MAX_FACTS keys a new fact is dropped (always safe), a known key still grows', () => {
    let f: Facts = NO_FACTS;
    for (let i = 0; i < MAX_FACTS + 10; i++) f = withFact(f, `k${i}`, 1);
    expect(f!.size).toBe(MAX_FACTS);
    f = withFact(f, 'k0', 5);
    expect(proven(f, 'k0', 5)).toBe(true);
  });
});

describe('lengthNeeded', () => {
  it('combines the operands of logical operators', () => {
    const a = bin('eq', ld(20), c(1)), b = bin('eq', ld(100), c(2));
    expect(lengthNeeded(a, 1)).toEqual({ always: 21, whenTrue: 21, whenFalse: 21 });
    expect(lengthNeeded(land(a, b), 1)).toMatchObject({ whenTrue: 101, whenFalse: 21 });
    expect(lengthNeeded(lor(a, b), 1)).toMatchObject({ whenTrue: 21, whenFalse: 101 });
    expect(lengthNeeded({ k: 'lnot', a: land(a, b) }, 1)).toMatchObject({ whenTrue: 21, whenFalse: 101 });
    expect(lengthNeeded({ k: 'load', off: ihl, size: 1 }, 1).always).toBe(15);   // a dynamic offset: only its own load counts
  });

  const expressions = ['tcp dst port 80', 'udp', 'not ip6', 'ether[20] = 2 or ether[100] = 1', 'icmp or arp',
    'host 10.0.0.1 and (tcp or udp)', 'ip', 'ip[6:2] & 0x1fff = 0 and tcp[13] & 2 != 0'];

  /** Random bytes with the headers most expressions test set to values they accept (IPv4 TCP to port 80 from 10.0.0.1, SYN). */
  const likelyMatch = (random: Uint8Array): Uint8Array => {
    const b = new Uint8Array(Math.max(random.length, 128));
    b.set(random);
    b.set([0x08, 0x00, 0x45], 12);
    b[20] = 0; b[21] = 0; b[23] = random[0]! & 1 ? 6 : random[1]! & 1 ? 17 : 1;
    b.set([10, 0, 0, 1], 26);
    b.set([0, 80], 36);
    b[47] = 2;
    if (random[2]! & 1) { b[20] = 2; b[100] = 1; }
    return b;
  };

  it('is a lower bound: on fewer captured bytes the condition is never true (interpreter, every truncation)', async () => {
    for (const expr of expressions) {
      const { program } = await lowerSource(expr, { language: 'pcap', linkType: 1 });
      const first = program.body.k === 'seq' ? program.body.body[0]! : program.body;
      if (first.k !== 'return' || first.value.k !== 'cond') throw new Error(`${expr}: not a C ? A : 0 filter`);
      const cond = first.value.c;
      const n = lengthNeeded(cond, 1).whenTrue;
      const only: Program = { ...program, body: ret({ k: 'cond', c: cond, a: c(1), b: c(0) }) };
      let matched = 0;
      fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 128 }), fc.boolean(), (random, shaped) => {
        const bytes = shaped ? likelyMatch(random) : random;
        if (runPacket(only, newState(only), bytes, 1500).result) matched++;
        for (let len = 0; len < Math.min(n, bytes.length + 1); len++) {
          const r = runPacket(only, newState(only), bytes.subarray(0, len), 1500);
          expect(r.result, `${expr} on ${len} bytes (needs ${n})`).toBe(0);
        }
      }), { numRuns: 300 });
      expect(matched, `${expr}: some whole packets match`).toBeGreaterThan(0);
    }
  });
});
