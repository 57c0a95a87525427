/**
 * REGEXP's automaton against JavaScript's RegExp (over the bytes read as Latin-1) on random
 * patterns of the supported syntax × random byte strings; the refusals; and the linear bound
 * on patterns that make a backtracking engine explode.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRegex } from '../../hostfns/lib/regex.js';

const LONG = process.env.FPLC_LONG_FUZZ === '1';

function ours(pattern: string, s: string): boolean {
  const r = compileRegex(pattern);
  if (!r.ok) throw new Error(`${pattern}: ${r.message}`);
  const b = Buffer.from(s, 'latin1');
  return r.matcher.test(b, 0, b.length);
}

/** Characters the strings are made of: letters of both cases, digits, word and line bytes, Latin-1. */
const ALPHABET = ['a', 'b', 'c', 'A', 'B', '0', '7', '_', ' ', '-', '\n', '\r', '\t', '\x00', '\xa0', '\xe9', '\xff', '.', ']'];
const text = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 14 }).map((a) => a.join(''));

const literal = fc.constantFrom('a', 'b', 'c', 'A', '0', '_', ' ', '-', '\\.', '\\n', '\\r', '\\t', '\\x00', '\\xa0', '\\xe9', '\\xFF', '\\]', '\\\\', '\\u00e9', '\\u0100', '}', ']');
const classItem = fc.constantFrom('a', 'b', 'A-C', 'a-c', '0-9', '\\d', '\\w', '\\s', '\\W', '_', '\\-', '-', '\\n', '\\x00-\\x1f', '\\xa0', '\\xe0-\\xff', '.', ']'.replace(']', '\\]'));
const charClass = fc.tuple(fc.boolean(), fc.array(classItem, { minLength: 1, maxLength: 3 })).map(([neg, items]) => `[${neg ? '^' : ''}${items.join('')}]`);
const escapeClass = fc.constantFrom('\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '.');
const anchor = fc.constantFrom('^', '$', '\\b', '\\B');
const quantifier = fc.constantFrom('*', '+', '?', '{2}', '{0,2}', '{1,}', '{1,3}', '*?', '+?', '??', '{2,}?');

const { pattern } = fc.letrec<{ pattern: string; atom: string; piece: string; seq: string }>((tie) => ({
  atom: fc.oneof(
    { weight: 4, arbitrary: literal },
    { weight: 2, arbitrary: charClass },
    { weight: 2, arbitrary: escapeClass },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('(', '(?:', '(?<g>'.replace('g', 'n')), tie('pattern')).map(([o, p]) => `${o}${p})`) },
  ),
  piece: fc.oneof(
    { weight: 3, arbitrary: tie('atom') },
    { weight: 2, arbitrary: fc.tuple(tie('atom'), quantifier).map(([a, q]) => a + q) },
    { weight: 1, arbitrary: anchor },
  ),
  seq: fc.array(tie('piece'), { maxLength: 4 }).map((a) => a.join('')),
  pattern: fc.array(tie('seq'), { minLength: 1, maxLength: 3 }).map((a) => a.join('|')),
}));

// A named group may appear once only in JavaScript: number the names.
const numbered = (p: string) => { let k = 0; return p.replace(/\(\?<n>/g, () => `(?<n${k++}>`); };

describe('REGEXP automaton', () => {
  it('agrees with JavaScript RegExp over Latin-1 on random patterns and strings', () => {
    fc.assert(fc.property(pattern.map(numbered), fc.array(text, { minLength: 1, maxLength: 6 }), (p, strings) => {
      let js: RegExp;
      try { js = new RegExp(p); } catch {
        expect(compileRegex(p).ok, `JavaScript refuses ${p}`).toBe(false); // e.g. a range out of order
        return;
      }
      for (const s of strings) expect(ours(p, s), `${JSON.stringify(p)} on ${JSON.stringify(s)}`).toBe(js.test(s));
    }), { numRuns: LONG ? 50_000 : 1_500 });
  });

  it('agrees on fixed cases, including JavaScript\'s reading of [] [^] { and }', () => {
    const cases: [string, string][] = [
      ['(a+)+$', 'aaa'], ['^ab', 'cab'], ['\\bfoo\\b', 'a foo'], ['\\bfoo\\b', 'afoo'], ['x*', ''],
      ['a{2,3}c', 'aac'], ['a|b|c$', 'zc'], ['[^]', 'x'], ['[]', 'x'], ['(^)*b', 'ab'], ['a*?b', 'aab'],
      ['a{', 'a{'], ['a{1', 'a{1'], ['a{1,x}', 'a{1,x}'], ['}', '}'], ['[a-]', '-'], ['[-a]', '-'], ['[\\d-z]', '-'],
      ['.', '\n'], ['.', '\r'], ['.', '\xa0'], ['\\s', '\xa0'], ['\\s', '\x85'], ['$', ''], ['^$', ''], ['^$', '\n'],
      ['a$', 'a\n'], ['\\cJ', '\n'], ['\\0', '\0'], ['[\\b]', '\b'], ['\\B', ''], ['\\b', ''], ['(|a)+b', 'aab'], ['(a*)*c', 'aaaa'],
      ['\\xe9', '\xe9'], ['\\u00e9', '\xe9'], ['\\u0169', '\xe9'], ['ÿ', '\xff'], ['Ā', '\x00'],
      ['[\\w-\\xe0-\\xff]', '\xe9'], ['[\\w-a-c]', 'b'], ['[a-\\w]', '-'],
      ['[-]??\\b[a]', '-.a'], // the first-byte skip moves on: assertions are checked again at the new position
    ];
    for (const [p, s] of cases) expect(ours(p, s), `${p} on ${JSON.stringify(s)}`).toBe(new RegExp(p).test(s));
  });

  it('(?i) folds ASCII letters to the end of its group, (?i:…) inside it (PCRE)', () => {
    expect(ours('(?i)abc', 'xABCx')).toBe(true);
    expect(ours('a(?i)b|c', 'C')).toBe(true);
    expect(ours('(?i:a)b', 'AB')).toBe(false);
    expect(ours('(?i:a)b', 'Ab')).toBe(true);
    expect(ours('((?i)a)b', 'AB')).toBe(false);
    expect(ours('(?i)[a-c]', 'B')).toBe(true);
    expect(ours('(?i)\\xe9', '\xc9')).toBe(false);
    expect(ours('(?i)a(?-i)b', 'Ab')).toBe(true);
    expect(ours('(?i)a(?-i)b', 'AB')).toBe(false);
  });

  it('refuses what an automaton cannot run, saying why and where', () => {
    const refused: [string, RegExp][] = [
      ['(a)\\1', /backreferences .*offset 3/], ['(?<x>a)\\k<x>', /backreferences/], ['a(?=b)', /lookahead and lookbehind.*offset 1/],
      ['(?<!a)b', /lookahead and lookbehind/], ['(?>a)', /atomic|not supported/], ['a*+', /possessive/], ['(?R)', /not supported/],
      ['\\A', /not supported/], ['[[:alpha:]]', /POSIX/], ['\\012', /octal/], ['(a', /missing '\)'/], ['a)', /unmatched/],
      ['*a', /nothing to repeat/], ['a**', /nothing to repeat/], ['^*', /nothing to repeat/], ['[b-a]', /out of order/],
      ['a{3,2}', /out of order/], ['[a', /missing '\]'/], ['\\', /end of the pattern/], ['\\x4', /hex digits/],
      ['a{1000000}', /REGEX_MAX_INSTRUCTIONS/], ['(a{1000}){1000}', /REGEX_MAX_INSTRUCTIONS/], ['('.repeat(300) + ')'.repeat(300), /REGEX_MAX_NESTING/],
      ['(?s).', /not supported/],
    ];
    for (const [p, msg] of refused) {
      const r = compileRegex(p);
      expect(r.ok, p).toBe(false);
      if (!r.ok) expect(r.message, p).toMatch(msg);
    }
  });

  it('runs patterns that make backtracking explode in time linear in the payload', () => {
    const steps = (p: string, n: number) => {
      const r = compileRegex(p);
      if (!r.ok) throw new Error(r.message);
      const b = Buffer.from('a'.repeat(n) + '!', 'latin1');
      const t0 = performance.now();
      expect(r.matcher.test(b, 0, b.length)).toBe(false);
      return performance.now() - t0;
    };
    for (const p of ['(a+)+$', '(a|aa)+$', '(a*)*b', '(?:a|a)+$', '(\\w+\\s?)+$']) {
      steps(p, 1000); // warm-up
      expect(steps(p, 100_000), p).toBeLessThan(2_000);
    }
  });

  it('never throws on arbitrary strings: compiles or refuses with a message', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'()[]{}|*+?.^$\\-:=!<>,0129abdwsxuciPk'.split('')), maxLength: 30 }), text, (p, s) => {
      const r = compileRegex(p);
      if (r.ok) {
        const b = Buffer.from(s, 'latin1');
        const got = r.matcher.test(b, 0, b.length);
        let js: RegExp | undefined;
        try { js = new RegExp(p); } catch { /* PCRE syntax JavaScript lacks, such as (?i) */ }
        if (js && !/\(\?-?i/.test(p)) expect(got, `${p} on ${JSON.stringify(s)}`).toBe(js.test(s));
      } else expect(r.message).toMatch(/offset \d+|REGEX_MAX/);
    }), { numRuns: LONG ? 100_000 : 3_000 });
  });
});
