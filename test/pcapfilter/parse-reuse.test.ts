/**
 * The parser keeps recent matches by token encoding (grammar.ts): expressions that differ only
 * in their numbers and addresses share one ohm match. Reusing it must give each expression its
 * own values and its own error positions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompileError } from '../../lang/diagnostics.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';

const body = (expr: string) => JSON.stringify(compilePcapFilter(expr, { linkType: 1, snaplen: 262144 }).program.body);
const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const port = fc.integer({ min: 0, max: 65535 });

describe('reusing a match for expressions that encode alike', () => {
  it('gives each expression its own values', () => {
    // After the first expression is matched, the second reuses its match; parenthesized, it is matched afresh.
    fc.assert(fc.property(port, port, ip, ip, fc.constantFrom('tcp dst port', 'udp port', 'src port'), (p, q, a, b, shape) => {
      body(`${shape} ${p} and host ${a}`);
      expect(body(`${shape} ${q} and host ${b}`)).toBe(body(`(${shape} ${q} and host ${b})`));
    }), { numRuns: 200 });
  });

  it('points errors at the tokens of the expression itself', () => {
    compilePcapFilter('host 10.0.0.1 and tcp dst port 80', { linkType: 1, snaplen: 262144 });
    let err: unknown;
    try { compilePcapFilter('host 10.0.0.1 and tcp dst port 700000', { linkType: 1, snaplen: 262144 }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CompileError);
    expect((err as CompileError).diagnostics[0]).toMatchObject({ col: 32, length: 6 });
  });
});
