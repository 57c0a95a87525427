/**
 * The set-membership pass preserves semantics, faults included: long disjunctions of equality
 * tests on loads at constant offsets or at one dynamic base (the transport header), with other
 * terms between runs, give the same result before and after through the reference interpreter,
 * on complete, truncated and random packets; and 1,000-term host and port lists become a few
 * `inset` tests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { bin, c, field, load, lor, ret, type Expr, type Program } from '../../lang/ir/ir.js';
import { printExpr } from '../../lang/ir/print.js';
import { membershipSets, MIN_SET_TERMS } from '../../lang/ir/passes/sets.js';
import { regroupDisjunctions } from '../../lang/ir/passes/regroup.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { genPackets } from './arbitrary.js';

const ihl = bin('mul', bin('and', load(14, 1), c(15)), c(4));
const atoms: Expr[] = [field('ip4.src'), field('ip4.dst'), load(23, 1), bin('and', load(12, 2), c(0xff0f)), load(60, 4),
  // Dynamic bases: the IPv4 transport header, raw and through fields; a frame byte the base needs anyway.
  field('l4v4.sport'), field('l4v4.dport'), load(bin('add', ihl, c(30)), 4), bin('xor', load(14, 1), field('l4v4.dport')),
  // Not accepted (each for its own reason): they must stay as they are.
  field('l4.dport'), load(c(0xfffffffe), 4), load(bin('add', load(20, 4), c(4)), 2)];
const others: Expr[] = [bin('eq', load(c(200), 1), c(1)), bin('gt', field('l4.dport'), c(1000)), { k: 'reg', n: 0 }];

const term = fc.oneof(
  { weight: 12, arbitrary: fc.record({ a: fc.nat(atoms.length - 1), v: fc.oneof(fc.constantFrom(0x0a000001, 6, 17, 0x800, 0, 0xffffffff), fc.nat()) })
    .map(({ a, v }): Expr => bin('eq', atoms[a]!, c(v))) },
  { weight: 1, arbitrary: fc.nat(others.length - 1).map((i) => others[i]!) },
);

describe('set membership for long disjunctions', () => {
  it('keeps every result, on complete and truncated packets', () => {
    fc.assert(fc.property(fc.array(term, { minLength: MIN_SET_TERMS, maxLength: 40 }), fc.integer(), (terms, seed) => {
      const e = terms.reduce((a, b) => lor(a, b));
      const p: Program = { body: ret(e), linkType: 1, registers: 1, memoryCells: 1, locals: 0, externs: [], fuel: 1 };
      const q = membershipSets(p);
      const s1 = newState(p), s2 = newState(q);
      // Packets whose bytes often equal the constants: copy a term's constant into place.
      for (const pk of genPackets(seed, 1, 40)) {
        const a = runPacket(p, s1, pk.bytes, pk.wirelen).result;
        const b = runPacket(q, s2, pk.bytes, pk.wirelen).result;
        expect(b, printExpr(e)).toBe(a);
      }
    }), { numRuns: 300 });
  });

  it('decides membership on packets that hold the constants, whole or cut anywhere', () => {
    const consts = Array.from({ length: 50 }, (_, i) => (0x0a000000 + i * 7919) >>> 0);
    const e = consts.flatMap((v) => [bin('eq', field('ip4.src'), c(v)), bin('eq', field('ip4.dst'), c(v))]).reduce((a, b) => lor(a, b));
    const p: Program = { body: ret(e), linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 1 };
    const q = membershipSets(p);
    expect(JSON.stringify(q.body)).toContain('"k":"inset"');
    let hits = 0;
    for (let i = 0; i < 200; i++) {
      const full = new Uint8Array(60);
      const v = i % 3 === 0 ? consts[i % consts.length]! : (i * 2654435761) >>> 0;
      new DataView(full.buffer).setUint32(i % 2 ? 26 : 30, v);
      if (i % 2) new DataView(full.buffer).setUint32(30, consts[(i * 7) % consts.length]! ^ (i % 5 ? 1 : 0));
      for (const len of [60, 34, 33, 30, 29, 26]) {
        const bytes = full.subarray(0, len);
        const a = runPacket(p, newState(p), bytes, 60).result;
        hits += a;
        expect(runPacket(q, newState(q), bytes, 60).result).toBe(a);
      }
    }
    expect(hits).toBeGreaterThan(50);
  });

  it.each([
    ['host', (i: number) => `host 10.${i >> 8}.${i & 255}.1`, 4],
    ['port', (i: number) => `port ${1 + i * 61}`, 4],
    ['net', (i: number) => `net ${10 + (i >> 8)}.${i & 255}.0.0/16`, 4],
  ])('turns a 1,000-term %s list into a few set tests', (_shape, term, tests) => {
    const expr = Array.from({ length: 1000 }, (_, i) => term(i)).join(' or ');
    const q = membershipSets(regroupDisjunctions(compilePcapFilter(expr, { linkType: 1 }).program));
    const text = JSON.stringify(q.body);
    // One full-size set per atom, not 1,000-long chains: source and destination of IPv4, and of
    // ARP and RARP (one test: their terms are the same); ports: source and destination of IPv4
    // and of IPv6, each tested once under the three transport protocols.
    const sizes = [...text.matchAll(/"k":"inset".*?"set":\[([^\]]*)\]/g)].map((m) => m[1]!.split(',').length);
    expect(sizes.filter((n) => n === 1000)).toHaveLength(tests);
    expect(text.length).toBeLessThan(tests * 20_000);
  });

  it('keeps every result on port lists over the transport header, for every truncation', () => {
    // Dynamic-base levels: caplen against IHL*4 + 16 and + 18, on packets with IHL 0 to 15.
    const ports = Array.from({ length: 12 }, (_, i) => 1000 + i * 3);
    const e = ports.flatMap((v) => [bin('eq', field('l4v4.sport'), c(v)), bin('eq', field('l4v4.dport'), c(v))]).reduce((a, b) => lor(a, b));
    const p: Program = { body: ret(e), linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 1 };
    const q = membershipSets(p);
    expect(JSON.stringify(q.body)).toContain('"k":"inset"');
    let hits = 0;
    for (let i = 0; i < 64; i++) {
      const full = new Uint8Array(14 + 60 + 8);
      const view = new DataView(full.buffer);
      const l4 = 14 + 4 * (i & 15);
      full[14] = 0x40 | (i & 15);
      view.setUint16(l4, i % 3 ? ports[i % ports.length]! : 7);
      view.setUint16(l4 + 2, i % 4 ? ports[(i * 5) % ports.length]! : 9);
      for (let len = 0; len <= l4 + 4; len++) {
        const bytes = full.subarray(0, len);
        const a = runPacket(p, newState(p), bytes, full.length).result;
        hits += a;
        expect(runPacket(q, newState(q), bytes, full.length).result, `IHL ${i & 15}, caplen ${len}`).toBe(a);
      }
    }
    expect(hits).toBeGreaterThan(40);
  });
});
