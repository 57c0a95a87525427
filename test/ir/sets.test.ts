/**
 * The set-membership pass preserves semantics, faults included: long disjunctions of equality
 * tests on constant-offset loads (with other terms between runs) give the same result before and
 * after through the reference interpreter, on complete, truncated and random packets; and a
 * 1,000-host filter becomes a few search trees.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { bin, c, field, load, lor, ret, type Expr, type Program } from '../../lang/ir/ir.js';
import { printExpr } from '../../lang/ir/print.js';
import { membershipSets, MIN_SET_TERMS } from '../../lang/ir/sets.js';
import { regroupDisjunctions } from '../../lang/ir/regroup.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { genPackets } from './arbitrary.js';

const atoms: Expr[] = [field('ip4.src'), field('ip4.dst'), load(23, 1), bin('and', load(12, 2), c(0xff0f)), load(60, 4)];
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
    expect(JSON.stringify(q.body)).toContain('"op":"lt"');
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

  it('turns a 1,000-host filter into search trees', () => {
    const expr = Array.from({ length: 1000 }, (_, i) => `host 10.${i >> 8}.${i & 255}.1`).join(' or ');
    const q = membershipSets(regroupDisjunctions(compilePcapFilter(expr, { linkType: 1 }).program));
    const text = JSON.stringify(q.body);
    // Trees of depth ~log2(1000) per atom, not 1,000-long chains: the set forms are there.
    expect((text.match(/"m":"caplen"/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });
});
