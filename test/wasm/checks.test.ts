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
  const text = compileWasm(p, { optimize: false }).wat();
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
