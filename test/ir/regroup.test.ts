/**
 * The disjunction-regrouping pass preserves semantics, faults included: random disjunctions of
 * terms guarded by equality tests (on packet loads, with faulting and dividing-by-zero rests and
 * unguarded terms between them) give the same result before and after, through the reference
 * interpreter, on random and truncated packets; and a host list loses its repeated guards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { bin, c, field, land, load, lor, ret, type Expr, type Program } from '../../lang/ir/ir.js';
import { printExpr } from '../../lang/ir/print.js';
import { regroupDisjunctions, regroupExpr } from '../../lang/ir/passes/regroup.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { genPackets } from './arbitrary.js';

const atoms: Expr[] = [field('link.type'), load(23, 1), { k: 'reg', n: 0 }];
const rests: Expr[] = [
  bin('eq', field('ip4.src'), c(0x0a000001)), bin('eq', load(40, 1), c(6)), bin('gt', load(c(300), 2), c(5)),
  bin('eq', bin('div', c(10), load(14, 1)), c(1)), c(0), c(1), bin('eq', field('l4.dport'), c(80)),
];
// Few atoms and constants, mostly guarded terms: runs with repeated guards that hold are common.
const term = fc.oneof(
  { weight: 5, arbitrary: fc.record({ atom: fc.nat(atoms.length - 1), k: fc.constantFrom(0x800, 6, 6, 17, 0x800, 1), rest: fc.array(fc.nat(rests.length - 1), { maxLength: 2 }), flip: fc.boolean() })
    .map(({ atom, k, rest, flip }): Expr => {
      const g = flip ? bin('eq', c(k), atoms[atom]!) : bin('eq', atoms[atom]!, c(k));
      return rest.length ? rest.map((r) => rests[r]!).reduce<Expr>((a, b) => land(a, b), g) : g;
    }) },
  { weight: 1, arbitrary: fc.nat(rests.length - 1).map((r) => rests[r]!) },
);

describe('regrouping guarded disjunctions', () => {
  it('keeps every result, faults included', () => {
    fc.assert(fc.property(fc.array(term, { minLength: 1, maxLength: 9 }), fc.integer(), fc.constantFrom(1, 113, 276), (terms, seed, linkType) => {
      const e = terms.reduce((a, b) => lor(a, b));
      const p: Program = { body: ret(e), linkType, registers: 1, memoryCells: 1, locals: 0, externs: [], fuel: 1 };
      const q = regroupDisjunctions(p);
      const s1 = newState(p), s2 = newState(q);
      for (const pk of genPackets(seed, linkType, 30)) {
        s1.registers[0] = s2.registers[0] = pk.bytes[0] ?? 0;
        const a = runPacket(p, s1, pk.bytes, pk.wirelen).result;
        const b = runPacket(q, s2, pk.bytes, pk.wirelen).result;
        expect(b, `${printExpr(e)}\n⇒ ${printExpr((q.body as { value: Expr }).value)}`).toBe(a);
      }
    }), { numRuns: 600 });
  });

  it('tests the ethertype once per value in a host list', () => {
    const { program } = compilePcapFilter('host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3', { linkType: 1 });
    const text = (e: Stmt) => JSON.stringify(e);
    type Stmt = Program['body'];
    const before = (text(program.body).match(/"name":"link.type"/g) ?? []).length;
    const after = (text(regroupDisjunctions(program).body).match(/"name":"link.type"/g) ?? []).length;
    expect(before).toBe(18);
    expect(after).toBe(3);
  });

  it('tests a rest the transport protocols share once', () => {
    const { program } = compilePcapFilter('portrange 1000-2000', { linkType: 1 });
    const text = JSON.stringify(regroupDisjunctions(program).body);
    // Before: the range tests (two loads each) under each of SCTP, TCP and UDP, for IPv4 and IPv6.
    expect((JSON.stringify(program.body).match(/"name":"l4v[46].sport"/g) ?? []).length).toBe(12);
    expect((text.match(/"name":"l4v[46].sport"/g) ?? []).length).toBe(4);
  });

  it('leaves terms with externs and unguarded separators in place', () => {
    const ext: Expr = { k: 'extern', id: 0, args: [] };
    // An extern may write M[]: nothing in its disjunction moves.
    const e = lor(lor(land(bin('eq', load(0, 1), c(1)), ext), land(bin('eq', load(0, 1), c(2)), c(1))), land(bin('eq', load(0, 1), c(1)), c(1)));
    const flat = (x: Expr) => printExpr(x).replace(/[()]/g, '');   // the same terms in the same order
    expect(flat(regroupExpr(e))).toBe(flat(e));
    const sep = lor(lor(land(bin('eq', load(0, 1), c(1)), c(1)), load(5, 1)), land(bin('eq', load(0, 1), c(1)), c(0)));
    expect(flat(regroupExpr(sep))).toBe(flat(sep));
  });
});
