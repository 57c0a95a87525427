/**
 * The printer: a sample program reads as expected (specific lines, no snapshot), and printed
 * expressions parse back — under C's precedence rules, with an independent little parser
 * below — to exactly the tree they came from, for thousands of generated programs.
 */
import { describe, expect, it } from 'vitest';
import { bin, c, field, land, load, lor, ret, seq, type BinOp, type Expr, type Program, type Stmt } from '../../lang/ir/ir.js';
import { printExpr, printProgram, printStmt } from '../../lang/ir/print.js';
import { genProgram } from './arbitrary.js';

describe('printProgram on a sample', () => {
  const sample: Program = {
    linkType: 1, registers: 2, memoryCells: 1024, locals: 1, fuel: 5000,
    externs: [{ name: 'STR_SEARCH', config: ['GET ', 0], inCell: 3, outCell: 4 }],
    source: { language: 'fpl', file: 'web.fpl' },
    body: seq(
      { k: 'if', cond: bin('eq', field('ip4.proto'), c(6)), then: seq(
        { k: 'setreg', n: 0, value: { k: 'hash', off: c(14), len: c(12), range: c(1024) } },
        { k: 'if', cond: land(bin('eq', field('l4.dport'), c(80)), lor(bin('gt', load(23, 1), c(5)), field('ip4.proto', 4))),
          then: ret(1) }),
        else: { k: 'if', cond: bin('eq', field('ip4.proto'), c(17)), then: ret(2), else: { k: 'setlocal', n: 0, value: c(0xffffffff) } } },
      { k: 'block', label: 3, body: { k: 'for', reg: 1, init: c(0), cmp: 'lt', limit: load(14, 2), step: 1, body: seq(
        { k: 'if', cond: { k: 'lnot', a: { k: 'mem', index: { k: 'reg', n: 1 } } }, then: { k: 'break' } },
        { k: 'if', cond: bin('ge', { k: 'reg', n: 1 }, c(7)), then: { k: 'exit', label: 3 } },
        { k: 'setmem', index: bin('and', bin('shr', { k: 'reg', n: 1 }, c(2)), c(0xff)), value: { k: 'extern', id: 0, args: [{ k: 'meta', m: 'caplen' }] } }) } },
      { k: 'eval', e: bin('div', { k: 'meta', m: 'wirelen' }, c(0)) }),
  };
  const text = printProgram(sample);
  const lines = text.split('\n');

  it('starts with a header naming the link type, state sizes, fuel and externs', () => {
    expect(lines[0]).toBe('; from fpl web.fpl');
    expect(text).toContain('; link type EN10MB (DLT 1)');
    expect(text).toContain('; registers 2, memory cells 1024, locals 1, fuel 5000');
    expect(text).toContain('; extern#0 = STR_SEARCH("GET ", 0) in M[3] out M[4]');
  });

  it('prints statements as indented structured code', () => {
    for (const line of [
      'if (ip4.proto == 6) {',
      '  R[0] = hash(14, 12, 1024)',
      '  if (l4.dport == 80 && (load1[23] > 5 || ip4.proto@+4)) {',
      '    return 1',
      '} else if (ip4.proto == 17) {',
      '  return 2',
      '} else {',
      '  L0 = 0xffffffff',
      'block B3 {',
      '  for (R[1] = 0, limit = load2[14]; R[1] < limit; R[1]++) {',
      '    if (!M[R[1]]) {',
      '      break',
      '      exit B3',
      '    M[(R[1] >> 2) & 255] = extern#0(caplen)',
      'eval wirelen / 0',
      'return 0  ; falling off the end',
    ]) expect(lines, line).toContain(line);
    expect(lines.filter((l) => /^\s*}$/.test(l)).length).toBe(6);   // outer if chain, inner if, block, for, two ifs
  });

  it('prints a constant loop limit in place and steps other than one', () => {
    const loop = (step: number): Stmt => ({ k: 'for', reg: 2, init: c(9), cmp: 'ne', limit: c(0), step, body: { k: 'break' } });
    expect(printStmt(loop(0xffffffff))).toBe('for (R[2] = 9; R[2] != 0; R[2]--) {\n  break\n}');
    expect(printStmt(loop(4), 1)).toBe('  for (R[2] = 9; R[2] != 0; R[2] += 4) {\n    break\n  }');
  });

  it('spells out precedence where C would surprise a reader', () => {
    const r = (n: number): Expr => ({ k: 'reg', n });
    expect(printExpr(bin('eq', bin('and', field('ip4.flags'), c(2)), c(0)))).toBe('(ip4.flags & 2) == 0');
    expect(printExpr(bin('and', r(0), bin('eq', r(1), c(0))))).toBe('R[0] & (R[1] == 0)');
    expect(printExpr(bin('gt', bin('sub', field('ip4.len'), c(20)), c(100)))).toBe('ip4.len - 20 > 100');
    expect(printExpr(bin('shl', r(0), bin('add', r(1), c(1))))).toBe('R[0] << (R[1] + 1)');
    expect(printExpr(bin('sub', r(0), bin('sub', r(1), r(2))))).toBe('R[0] - (R[1] - R[2])');
    expect(printExpr(bin('sub', bin('sub', r(0), r(1)), r(2)))).toBe('R[0] - R[1] - R[2]');
    expect(printExpr(bin('add', r(0), bin('mul', r(1), r(2))))).toBe('R[0] + R[1] * R[2]');
    expect(printExpr({ k: 'neg', a: bin('add', r(0), c(1)) })).toBe('-(R[0] + 1)');
    expect(printExpr(lor(land(r(0), r(1)), r(2)))).toBe('(R[0] && R[1]) || R[2]');
  });
});

// ---- An independent parser of printed expressions (C precedence, left-associative). ----

const BIN_LEVELS: [string, BinOp][][] = [
  [['|', 'or']], [['^', 'xor']], [['&', 'and']],
  [['==', 'eq'], ['!=', 'ne']], [['<', 'lt'], ['<=', 'le'], ['>', 'gt'], ['>=', 'ge']],
  [['<<', 'shl'], ['>>', 'shr']], [['+', 'add'], ['-', 'sub']], [['*', 'mul'], ['/', 'div'], ['%', 'mod']],
];
/** `x in {…}` (set membership) parses at the level of `==`. */
const IN_LEVEL = 3;
const TOKEN = /\s*("(?:[^"\\]|\\x[0-9a-f]{2})*"|0x[0-9a-f]+|\d+|extern#\d+|[A-Za-z_][\w.]*(?:@\+\d+)?|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^<>!~?:()[\],{}])/y;

/** A printed search pattern: "…" with \xHH for bytes that are not printable ASCII. */
function unquote(t: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 1; i < t.length - 1; i++) {
    if (t[i] === '\\') { bytes.push(parseInt(t.slice(i + 2, i + 4), 16)); i += 3; } else bytes.push(t.charCodeAt(i));
  }
  return Uint8Array.from(bytes);
}

function parseExpr(text: string): Expr {
  const toks: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`cannot tokenize at ${TOKEN.lastIndex}: ${text}`);
    toks.push(m[1]!);
  }
  let i = 0;
  const peek = () => toks[i];
  const take = (want?: string) => {
    const t = toks[i++];
    if (t === undefined || (want !== undefined && t !== want)) throw new Error(`expected ${want ?? 'a token'} at token ${i - 1} in ${text}`);
    return t;
  };
  const args = (): Expr[] => {
    take('(');
    const out: Expr[] = [];
    while (peek() !== ')') { out.push(cond()); if (peek() === ',') take(','); }
    take(')');
    return out;
  };
  const primary = (): Expr => {
    const t = take();
    if (t === '(') { const e = cond(); take(')'); return e; }
    if (t === '-') return { k: 'neg', a: primary() };
    if (t === '~') return { k: 'bnot', a: primary() };
    if (t === '!') return { k: 'lnot', a: primary() };
    if (/^(0x|\d)/.test(t)) return { k: 'const', v: Number(t) };
    if (t === 'caplen' || t === 'wirelen' || t === 'tssec' || t === 'tsfrac') return { k: 'meta', m: t };
    if (/^L\d+$/.test(t)) return { k: 'local', n: Number(t.slice(1)) };
    if (t === 'R' || t === 'M' || t === 'S' || /^load[124]$/.test(t)) {
      take('[');
      const inner = cond();
      take(']');
      if (t === 'R') return { k: 'reg', n: (inner as { v: number }).v };
      if (t === 'S') {
        // S[i] or S[i + at]
        if (inner.k === 'bin' && inner.op === 'add' && inner.a.k === 'const') return { k: 'state', i: inner.a.v, at: inner.b };
        return { k: 'state', i: (inner as { v: number }).v };
      }
      if (t === 'M') return { k: 'mem', index: inner };
      return { k: 'load', off: inner, size: Number(t.slice(4)) as 1 | 2 | 4 };
    }
    if (t === 'hash') { const [off, len, range] = args(); return { k: 'hash', off: off!, len: len!, range: range! }; }
    if (t.startsWith('extern#')) return { k: 'extern', id: Number(t.slice(7)), args: args() };
    if (t === 'lookup') {
      take('(');
      const e = cond();
      take(',');
      take('{');
      const keys: number[] = [], values: number[] = [];
      while (peek() !== '}') { keys.push(Number(take())); take(':'); values.push(Number(take())); if (peek() === ',') take(','); }
      take('}');
      take(')');
      return { k: 'lookup', e, keys, values };
    }
    if (t === 'search') {
      take('(');
      const from = cond();
      take(',');
      const to = cond();
      const patterns: Uint8Array[] = [];
      while (peek() === ',') { take(','); patterns.push(unquote(take())); }
      take(')');
      return { k: 'search', from, to, patterns };
    }
    const [name, shift] = t.split('@+');
    return (shift ? { k: 'field', name, shift: Number(shift) } : { k: 'field', name }) as Expr;
  };
  const binary = (level: number): Expr => {
    if (level === BIN_LEVELS.length) return primary();
    let e = binary(level + 1);
    for (;;) {
      if (level === IN_LEVEL && peek() === 'in') {
        take();
        take('{');
        const set: number[] = [];
        while (peek() !== '}') { set.push(Number(take())); if (peek() === ',') take(','); }
        take('}');
        e = { k: 'inset', e, set };
        continue;
      }
      const op = BIN_LEVELS[level]!.find(([sym]) => sym === peek());
      if (!op) return e;
      take();
      e = { k: 'bin', op: op[1], a: e, b: binary(level + 1) };
    }
  };
  const logical = (sym: string, k: 'land' | 'lor', next: () => Expr) => (): Expr => {
    let e = next();
    while (peek() === sym) { take(); e = { k, a: e, b: next() }; }
    return e;
  };
  const andExpr = logical('&&', 'land', () => binary(0));
  const orExpr = logical('||', 'lor', andExpr);
  const cond = (): Expr => {
    const c0 = orExpr();
    if (peek() !== '?') return c0;
    take('?');
    const a = cond();
    take(':');
    return { k: 'cond', c: c0, a, b: cond() };
  };
  const e = cond();
  if (i !== toks.length) throw new Error(`trailing tokens from ${i} in ${text}`);
  return e;
}

function exprsOf(s: Stmt, out: Expr[]): Expr[] {
  switch (s.k) {
    case 'seq': s.body.forEach((b) => exprsOf(b, out)); break;
    case 'if': out.push(s.cond); exprsOf(s.then, out); if (s.else) exprsOf(s.else, out); break;
    case 'for': out.push(s.init, s.limit); exprsOf(s.body, out); break;
    case 'block': exprsOf(s.body, out); break;
    case 'return': case 'setreg': case 'setlocal': out.push(s.value); break;
    case 'setstate': if (s.at) out.push(s.at); out.push(s.value); break;
    case 'setmem': out.push(s.index, s.value); break;
    case 'eval': out.push(s.e); break;
    default: break;
  }
  return out;
}

describe('printed expressions parse back to the same tree', () => {
  it('the parser is not a copy of the printer: it reads C precedence on its own', () => {
    expect(parseExpr('1 + 2 * 3')).toEqual(bin('add', c(1), bin('mul', c(2), c(3))));
    expect(parseExpr('1 - 2 - 3')).toEqual(bin('sub', bin('sub', c(1), c(2)), c(3)));
    expect(parseExpr('a.b ? 1 : R[2] ? 3 : 4')).toEqual({ k: 'cond', c: { k: 'field', name: 'a.b' }, a: c(1),
      b: { k: 'cond', c: { k: 'reg', n: 2 }, a: c(3), b: c(4) } });
  });

  it('for every expression of 2000 generated programs (externs included)', () => {
    let count = 0;
    for (let seed = 0; seed < 2000; seed++) {
      for (const e of exprsOf(genProgram(seed, { externs: seed % 2 === 0 }).body, [])) {
        const text = printExpr(e);
        expect(parseExpr(text), text).toEqual(e);
        count++;
      }
    }
    expect(count).toBeGreaterThan(2000);
  });

  it('printing never throws on generated programs and names every field used', () => {
    for (let seed = 0; seed < 300; seed++) {
      const p = genProgram(seed, { externs: true });
      const text = printProgram(p);
      for (const name of JSON.stringify(p.body).match(/"name":"[^"]+"/g) ?? []) expect(text).toContain(name.slice(8, -1));
    }
  });
});
