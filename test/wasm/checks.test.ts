/**
 * Length checks are emitted once per path: a load whose bytes an earlier load on every path
 * already proved present gets no check of its own. (Correctness of the elision is the
 * differential suite's job; this counts the checks in unoptimized modules.)
 */
import { describe, expect, it } from 'vitest';
import { compileWasm } from '../../codegen/wasm/index.js';
import { bin, c, field, ret, seq, type Expr, type Program, type Stmt } from '../../lang/ir/ir.js';

const sum = (...xs: Expr[]) => xs.reduce((a, b) => bin('add', a, b));
function checks(body: Stmt): { constant: number; dynamic: number } {
  const p: Program = { body, linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 1 };
  const text = compileWasm(p, { optimize: false, text: true }).wat!;
  // Only the per-packet function (not its copy for the walk): the batch loops have comparisons of their own.
  const wat = text.slice(text.indexOf('(func $filter '), text.indexOf('(func $filter_walk '));
  expect(wat.length).toBeGreaterThan(0);
  // Constant checks are `caplen < end`; dynamic ones `off + size > caplen` (i32 where the offset is bounded, else i64).
  return { constant: (wat.match(/i32\.lt_u/g) ?? []).length, dynamic: (wat.match(/i(32|64)\.gt_u/g) ?? []).length };
}

describe('length checks', () => {
  it('one check covers later loads of fewer bytes from the frame start', () => {
    expect(checks(ret(sum(field('ip4.src'), field('ip4.proto'), field('ip4.ttl'))))).toEqual({ constant: 1, dynamic: 0 });
    expect(checks(ret(sum(field('ip4.proto'), field('ip4.src'))))).toEqual({ constant: 2, dynamic: 0 });
  });

  it('facts about the transport header carry from one field to the next', () => {
    // dport proves L4+4 bytes, so sport (L4+2) and dport again need no check.
    expect(checks(ret(sum(field('l4v4.dport'), field('l4v4.sport'), field('l4v4.dport'))))).toEqual({ constant: 1, dynamic: 1 });
  });

  it('facts from one arm of a branch do not hold after it', () => {
    const body = seq({ k: 'if', cond: bin('eq', field('ip4.proto'), c(6)), then: { k: 'eval', e: field('ip4.src') } }, ret(field('ip4.src')));
    expect(checks(body).constant).toBe(3);
    const both = seq({ k: 'if', cond: bin('eq', field('ip4.proto'), c(6)), then: { k: 'eval', e: field('ip4.src') },
      else: { k: 'eval', e: field('ip4.dst') } }, ret(field('ip4.src')));
    expect(checks(both).constant).toBe(3);   // proto, src, dst; the final src is proven on both paths
  });
});

describe('decided comparisons', () => {
  // How many times the filter compares the ethertype (raw bytes, so byte-swapped constants).
  function ethertypeTests(body: Stmt, ethertype: number): number {
    const p: Program = { body, linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 1 };
    const text = compileWasm(p, { optimize: false, text: true }).wat!;
    const wat = text.slice(text.indexOf('(func $filter '), text.indexOf('(func $filter_walk '));
    const swapped = ((ethertype & 0xff) << 8) | (ethertype >> 8);
    return (wat.match(new RegExp(`i32\\.const ${swapped}\\)`, 'g')) ?? []).length;
  }
  const isType = (t: number) => bin('eq', field('link.type'), c(t));
  const and = (a: Expr, b: Expr): Expr => ({ k: 'land', a, b });
  const or = (a: Expr, b: Expr): Expr => ({ k: 'lor', a, b });

  it('a comparison the path has decided is not tested again, and its impossible outcome poisons no fact', () => {
    // `ip6 and udp`: the udp test's IPv4 arm is dead once the ethertype is 0x86dd, and its IPv6
    // arm's ethertype test is already true; a third test after both arms must not reappear either.
    const cond = and(isType(0x86dd), and(or(and(isType(0x800), bin('eq', field('ip4.proto'), c(17))),
      and(isType(0x86dd), bin('eq', field('ip6.nxt'), c(17)))), isType(0x86dd)));
    expect(ethertypeTests(ret({ k: 'cond', c: cond, a: c(1), b: c(0) }), 0x86dd)).toBe(1);
    expect(ethertypeTests({ k: 'if', cond, then: ret(c(1)), else: ret(c(0)) }, 0x86dd)).toBe(1);
  });
});
