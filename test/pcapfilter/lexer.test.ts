import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokenize } from '../../lang/pcapfilter/lexer.js';

/** Tokens, or the error tokenizing throws (message and offset). */
function lex(src: string, allRules: boolean): unknown {
  try {
    return tokenize(src, allRules);
  } catch (err) {
    return { error: (err as Error).message, offset: (err as { offset?: number }).offset };
  }
}

// Every ASCII character, runs of the ones filter expressions are made of, and a few others.
const ascii = fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c));
const pieces = fc.constantFrom('host', 'port', 'or', 'and', '&&', '||', 'tcp-syn', 'icmp-echo', 'len-4', '10.1.2.3', '10.1.2.3x',
  'fe80::1', '::ffff:1.2.3.4', 'aa:bb:cc:dd:ee:ff', 'aa-bb-cc-dd-ee-ff', 'aabb.ccdd.eeff', '012345670123', '1:2:3', '0x1F', '0777', '089',
  '$1f', '\\name', ' ', '\t', '\n', '(', ')', '[', ']', '>=', '!=', '==', '<<', ':', '.', '-', 'é', '\u2028');
const source = fc.array(fc.oneof(ascii, pieces), { maxLength: 30 }).map((xs) => xs.join(''));

describe('the pcap-filter lexer', () => {
  it('gives the same tokens trying only the rules that can start with each character as trying them all', () => {
    fc.assert(fc.property(source, (src) => {
      expect(lex(src, false)).toEqual(lex(src, true));
    }), { numRuns: 3000 });
  });

  it('tokenizes a 10,000-term list', () => {
    const list = Array.from({ length: 10000 }, (_, i) => `host 10.${i >> 8}.${i & 255}.1`).join(' or ');
    const tokens = tokenize(list);
    expect(tokens.length).toBe(10000 * 3 - 1);
    expect(tokens[1]).toMatchObject({ kind: 'HID', text: '10.0.0.1' });
  });
});
