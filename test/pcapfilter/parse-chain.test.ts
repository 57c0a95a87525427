/**
 * Long chains `T and|or T …` are parsed operand by operand (grammar.ts parseOperands); the
 * result must be the whole parse's, tree for tree, and any expression that does not parse must
 * fail exactly as the whole parse does. The fragments include what makes splitting a chain
 * tricky: direction qualifiers that contain `and`/`or`, bare ids that inherit qualifiers, `not`,
 * parentheses and brackets, and pieces that do not parse at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError, parseFilter } from '../../lang/pcapfilter/grammar.js';

const FRAGMENTS = [
  'tcp', 'ip6', 'host 10.0.0.1', 'src or dst host 10.0.0.2', 'dst and src port 80', 'src and dst net 10.0.0.0/8',
  'dst or src', 'src', 'port 80', '53', '10.0.0.3', 'not 10.0.0.4', 'not tcp', '! udp', 'tcp[13] & 2 != 0',
  'ip[0] & 0xf > 5', '(tcp or udp)', '(host 10.0.0.1 or 10.0.0.2)', 'host (10.0.0.1 or 10.0.0.2)', 'vlan 100',
  'ether host 02:00:00:00:00:01', 'portrange 1-2', 'len >= 60', 'ip6 host 2001:db8::1', 'udp port 53 or 54',
  // Pieces that do not parse, or unbalance the chain.
  'port', 'host', '(', ')', 'tcp[', '', 'and', 'or',
];

function outcome(expr: string, whole: boolean): unknown {
  try {
    return { ast: parseFilter(expr, { whole }) };
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return { error: e.message, offset: e.offset, length: e.length, expected: e.expected };
  }
}

describe('parsing a chain operand by operand', () => {
  it('gives the whole parse\'s tree or error on random chains', () => {
    const chain = fc.tuple(fc.constantFrom(...FRAGMENTS),
      fc.array(fc.tuple(fc.constantFrom('and', 'or', '&&', '||'), fc.constantFrom(...FRAGMENTS)), { minLength: 1, maxLength: 8 }))
      .map(([first, rest]) => [first, ...rest.flat()].join(' '));
    fc.assert(fc.property(chain, (expr) => {
      expect(outcome(expr, false)).toEqual(outcome(expr, true));
    }), { numRuns: 600 });
  });

  it('parses a 10,000-term list as the whole parse does', () => {
    const expr = Array.from({ length: 10000 }, (_, i) => (i % 3 === 0 ? `host 10.0.${i >> 8 & 255}.${i & 255}` : i % 3 === 1 ? `port ${i}` : `${i}`)).join(' or ');
    // The tree is a left-leaning chain 10,000 deep: compared link by link (a recursive compare would overflow the stack).
    const links = (ast: unknown) => {
      const out: unknown[] = [];
      let n = ast as { t: string; op?: string; l?: unknown; r?: unknown; span: unknown };
      while (n.t === 'bool') { out.push([n.op, n.r, n.span]); n = n.l as typeof n; }
      out.push(n);
      return out;
    };
    const piecewise = links(parseFilter(expr)), whole = links(parseFilter(expr, { whole: true }));
    expect(piecewise.length).toBe(10000);
    for (let i = 0; i < whole.length; i++) expect(piecewise[i]).toEqual(whole[i]);
  });
});
