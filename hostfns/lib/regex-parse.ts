/**
 * REGEXP's pattern language → a small syntax tree over bytes. The syntax is the part of PCRE
 * (MAPI's engine) and JavaScript's RegExp (fplc's earlier engine) that an automaton can run:
 * literals, escapes (\d \w \s \D \W \S \b \B \xHH \uHHHH \t \n \r \f \v \0 \cX), classes with
 * ranges and negation, `.`, `^`, `$`, groups (capturing ones match as non-capturing),
 * alternation, greedy and lazy quantifiers, and PCRE's (?i) option (ASCII letters, as PCRE's
 * default tables). Where the two engines disagree, JavaScript's meaning is kept (`.` matches
 * neither \n nor \r, `$` only at the very end, \s includes \xA0), as fplc documented before.
 *
 * What needs backtracking or is ambiguous between the two engines is refused with the reason:
 * backreferences, lookahead/lookbehind, atomic groups, possessive quantifiers, recursion,
 * octal escapes, POSIX classes, other inline options.
 */
import { REGEX_MAX_NESTING } from '../../lang/ir/limits.js';

/** A set of bytes: 256 entries of 0/1. */
export type ByteSet = Uint8Array;

export type RegexNode =
  | { k: 'set'; bytes: ByteSet }
  | { k: 'cat'; items: RegexNode[] }
  | { k: 'alt'; items: RegexNode[] }
  | { k: 'rep'; node: RegexNode; min: number; max: number /* -1: no bound */ }
  | { k: 'assert'; what: 'bol' | 'eol' | 'word' | 'nonword' }
  | { k: 'empty' };

export class RegexSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} (at offset ${position})`);
  }
}

/** Quantifier bounds above this are read as this (a pattern that large is refused by size). */
const BOUND_CAP = 1 << 30;

function setOf(pred: (b: number) => boolean): ByteSet {
  const s = new Uint8Array(256);
  for (let b = 0; b < 256; b++) if (pred(b)) s[b] = 1;
  return s;
}
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
export const isWordByte = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f;
// JavaScript's \s over Latin-1: TAB LF VT FF CR SP and NBSP.
const isSpace = (b: number) => (b >= 9 && b <= 13) || b === 0x20 || b === 0xa0;
const CLASS_ESCAPES: Record<string, (b: number) => boolean> = {
  d: isDigit, D: (b) => !isDigit(b), w: isWordByte, W: (b) => !isWordByte(b), s: isSpace, S: (b) => !isSpace(b),
};
const CONTROL_ESCAPES: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13 };
const HEX = /^[0-9a-fA-F]+$/;

/** What an escape or a character stands for: one code point, or a set. */
type Atom = { code: number } | { set: ByteSet };

export function parseRegex(src: string): RegexNode {
  return new Parser(src).parse();
}

class Parser {
  private i = 0;
  private depth = 0;
  private caseless = false;
  constructor(private readonly s: string) {}

  parse(): RegexNode {
    const node = this.alternation();
    if (this.i < this.s.length) throw this.err(`unmatched ')'`);
    return node;
  }

  private err(msg: string, at = this.i): RegexSyntaxError { return new RegexSyntaxError(msg, at); }
  private peek(off = 0): string { return this.s[this.i + off] ?? ''; }

  private alternation(): RegexNode {
    const items = [this.sequence()];
    while (this.peek() === '|') { this.i++; items.push(this.sequence()); }
    return items.length === 1 ? items[0]! : { k: 'alt', items };
  }

  private sequence(): RegexNode {
    const items: RegexNode[] = [];
    while (this.i < this.s.length && this.peek() !== '|' && this.peek() !== ')') {
      const start = this.i;
      const atom = this.atom();
      if (atom === undefined) continue; // an option setting such as (?i)
      items.push(this.quantified(atom, start));
    }
    return items.length === 1 ? items[0]! : items.length === 0 ? { k: 'empty' } : { k: 'cat', items };
  }

  /** `{m}`, `{m,}`, `{m,n}` at the cursor, or undefined when the brace is a literal one. */
  private braces(): { min: number; max: number; end: number } | undefined {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i, this.i + 40));
    if (!m) return undefined;
    const num = (t: string) => Math.min(BOUND_CAP, Number(t));
    const min = num(m[1]!);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : num(m[3]!);
    return { min, max, end: this.i + m[0].length };
  }

  private quantified(node: RegexNode, start: number): RegexNode {
    const c = this.peek();
    let min: number, max: number;
    if (c === '*') { min = 0; max = -1; this.i++; }
    else if (c === '+') { min = 1; max = -1; this.i++; }
    else if (c === '?') { min = 0; max = 1; this.i++; }
    else if (c === '{' && this.braces()) {
      const b = this.braces()!;
      if (b.max !== -1 && b.max < b.min) throw this.err('numbers out of order in {} quantifier');
      ({ min, max } = b); this.i = b.end;
    } else return node;
    if (node.k === 'assert') throw this.err('nothing to repeat (an anchor cannot be quantified)', start);
    if (this.peek() === '?') this.i++; // lazy: the same yes/no answer as greedy
    else if (this.peek() === '+') throw this.err('possessive quantifiers (x*+) need backtracking; REGEXP runs as an automaton');
    const n = this.peek();
    if (n === '*' || n === '+' || n === '?' || (n === '{' && this.braces())) throw this.err('nothing to repeat');
    return { k: 'rep', node, min, max };
  }

  /** One atom, or undefined for an inline option that matches nothing. */
  private atom(): RegexNode | undefined {
    const at = this.i;
    const c = this.s[this.i++]!;
    switch (c) {
      case '^': return { k: 'assert', what: 'bol' };
      case '$': return { k: 'assert', what: 'eol' };
      case '.': return { k: 'set', bytes: setOf((b) => b !== 10 && b !== 13) };
      case '(': return this.group(at);
      case '[': return { k: 'set', bytes: this.fold(this.charClass(at)) };
      case '\\': return this.escapeAtom(at);
      case '*': case '+': case '?': throw this.err('nothing to repeat', at);
      case '{': this.i = at; if (this.braces()) throw this.err('nothing to repeat', at); this.i++; break;
    }
    this.i = at + 1;
    return { k: 'set', bytes: this.fold(codeSet(c.charCodeAt(0))) };
  }

  /** Under (?i), ASCII letters match both cases (PCRE's default tables). */
  private fold(set: ByteSet): ByteSet {
    if (!this.caseless) return set;
    for (let b = 0x41; b <= 0x5a; b++) if (set[b] || set[b + 32]) set[b] = set[b + 32] = 1;
    return set;
  }

  private group(at: number): RegexNode | undefined {
    if (this.peek() === '?') {
      const rest = this.s.slice(this.i + 1);
      if (/^(=|!|<=|<!)/.test(rest)) throw this.err('lookahead and lookbehind need backtracking; REGEXP runs as an automaton', at);
      if (rest.startsWith(':')) { this.i += 2; return this.groupBody(at, this.caseless); }
      const named = /^<([A-Za-z_$][\w$]*)>/.exec(rest);
      if (named) { this.i += 1 + named[0].length; return this.groupBody(at, this.caseless); }
      const opt = /^(-?)i(\)|:)/.exec(rest);
      if (opt) {
        this.i += 1 + opt[0].length;
        const on = opt[1] === '';
        if (opt[2] === ')') { this.caseless = on; return undefined; } // to the end of the enclosing group
        return this.groupBody(at, on);
      }
      throw this.err(`"(?${rest.slice(0, 2)}…" is not supported: only (?:…), (?<name>…) and the (?i) option are; atomic groups, recursion, conditionals and other options are refused`, at);
    }
    return this.groupBody(at, this.caseless);
  }

  private groupBody(at: number, caseless: boolean): RegexNode {
    if (++this.depth > REGEX_MAX_NESTING) throw this.err(`groups nested more than ${REGEX_MAX_NESTING} deep (REGEX_MAX_NESTING)`, at);
    const outer = this.caseless;
    this.caseless = caseless;
    const node = this.alternation();
    this.caseless = outer;
    this.depth--;
    if (this.peek() !== ')') throw this.err(`missing ')' for the group opened at offset ${at}`);
    this.i++;
    // `(^)*` is a quantified group, which JavaScript and PCRE allow, unlike a bare `^*`
    return node.k === 'assert' ? { k: 'cat', items: [node] } : node;
  }

  private escapeAtom(at: number): RegexNode {
    const c = this.peek();
    if (c === 'b' || c === 'B') { this.i++; return { k: 'assert', what: c === 'b' ? 'word' : 'nonword' }; }
    const a = this.escape(at, false);
    return { k: 'set', bytes: this.fold('set' in a ? a.set : codeSet(a.code)) };
  }

  /** The escape after a backslash at `at` (the cursor is past the backslash). */
  private escape(at: number, inClass: boolean): Atom {
    const c = this.s[this.i++];
    if (c === undefined) throw this.err('\\ at the end of the pattern', at);
    if (CLASS_ESCAPES[c]) return { set: setOf(CLASS_ESCAPES[c]) };
    if (c in CONTROL_ESCAPES) return { code: CONTROL_ESCAPES[c]! };
    if (inClass && c === 'b') return { code: 8 };
    if (c === 'x' || c === 'u') {
      const n = c === 'x' ? 2 : 4, hex = this.s.slice(this.i, this.i + n);
      if (hex.length !== n || !HEX.test(hex)) throw this.err(`\\${c} must be followed by ${n} hex digits`, at);
      this.i += n;
      return { code: parseInt(hex, 16) };
    }
    if (c === 'c') {
      const l = this.peek();
      if (!/^[A-Za-z]$/.test(l)) throw this.err('\\c must be followed by a letter', at);
      this.i++;
      return { code: l.charCodeAt(0) & 31 };
    }
    if (c === '0' && !isDigit(this.peek().charCodeAt(0))) return { code: 0 };
    if (/[1-9]/.test(c)) throw this.err(`backreferences (\\${c}) need backtracking; REGEXP runs as an automaton (octal escapes are refused too: write \\xHH)`, at);
    if (c === '0') throw this.err('octal escapes are ambiguous between PCRE and JavaScript; write \\xHH', at);
    if (c === 'k') throw this.err('backreferences (\\k<name>) need backtracking; REGEXP runs as an automaton', at);
    if (/[A-Za-z0-9]/.test(c)) throw this.err(`\\${c} is not supported (PCRE and JavaScript read it differently)`, at);
    return { code: c.charCodeAt(0) };
  }

  /** `[…]` (the cursor is past the `[`). */
  private charClass(at: number): ByteSet {
    const set = new Uint8Array(256);
    const negate = this.peek() === '^';
    if (negate) this.i++;
    for (;;) {
      if (this.i >= this.s.length) throw this.err(`missing ']' for the class opened at offset ${at}`, at);
      if (this.peek() === ']') { this.i++; break; }
      const lo = this.classAtom();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '' && !('code' in lo)) {
        // `[\w-x]`: a class cannot start a range, and the dash and x are literals (JavaScript
        // outside Unicode mode); the atom after them does not start a range either.
        this.i++;
        addAtom(set, lo); set[0x2d] = 1; addAtom(set, this.classAtom());
        continue;
      }
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '' && 'code' in lo) {
        const save = this.i;
        this.i++;
        const hi = this.classAtom();
        if ('code' in hi) {
          if (hi.code < lo.code) throw this.err('range out of order in character class', save);
          for (let b = lo.code; b <= Math.min(hi.code, 255); b++) set[b] = 1;
          continue;
        }
        // `[a-\d]`: the dash is a literal one (JavaScript's rule outside Unicode mode)
        addAtom(set, lo); set[0x2d] = 1; addAtom(set, hi);
        continue;
      }
      addAtom(set, lo);
    }
    if (negate) for (let b = 0; b < 256; b++) set[b] ^= 1;
    return set;
  }

  private classAtom(): Atom {
    const at = this.i;
    const c = this.s[this.i++]!;
    if (c === '\\') return this.escape(at, true);
    if (c === '[' && /^:\^?[a-z]+:\]/.test(this.s.slice(this.i))) throw this.err('POSIX classes ([:alpha:]) are not supported: write the ranges', at);
    return { code: c.charCodeAt(0) };
  }
}

function codeSet(code: number): ByteSet {
  const s = new Uint8Array(256);
  if (code < 256) s[code] = 1; // a character past Latin-1 is no byte: it never matches
  return s;
}

function addAtom(set: ByteSet, a: Atom): void {
  if ('set' in a) { for (let b = 0; b < 256; b++) set[b] |= a.set[b]!; }
  else if (a.code < 256) set[a.code] = 1;
}
