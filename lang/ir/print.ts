/**
 * The readable text form of the IR (`fpl dump --ir`): C-like, one statement per line, two
 * spaces per level, fields by name (`l4.dport`, `ip4.proto@+4` with a shift), raw loads as
 * `load1[off]`/`load2[off]`/`load4[off]`, state as `R[n]`, `M[i]`, locals as `L0`.
 * Parentheses follow C precedence, plus explicit ones wherever C's precedence is a known trap
 * (bitwise operators next to comparisons or shifts). The output is stable: tests and users
 * may look for lines in it.
 */
import type { BinOp, Expr, Program, Stmt } from './ir.js';
import { linkTypeName } from './linktypes.js';

const OP_TEXT: Record<BinOp, string> = {
  add: '+', sub: '-', mul: '*', div: '/', mod: '%', and: '&', or: '|', xor: '^', shl: '<<', shr: '>>',
  eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=',
};

// C precedence, higher binds tighter.
const PREC_COND = 1, PREC_LOR = 2, PREC_LAND = 3, PREC_UNARY = 12, PREC_ATOM = 13;
const BIN_PREC: Record<BinOp, number> = {
  or: 4, xor: 5, and: 6, eq: 7, ne: 7, lt: 8, le: 8, gt: 8, ge: 8, shl: 9, shr: 9,
  add: 10, sub: 10, mul: 11, div: 11, mod: 11,
};
/** `x in {…}` binds like `==` (and its operand is parenthesized unless it binds tighter). */
const PREC_IN = BIN_PREC.eq;
const BITWISE = new Set<BinOp>(['and', 'or', 'xor', 'shl', 'shr']);

/** Numbers up to 0xffff in decimal (ports, lengths, protocols), larger ones in hex (addresses, masks). */
const num = (v: number): string => (v > 0xffff ? `0x${v.toString(16)}` : String(v));

function prec(e: Expr): number {
  switch (e.k) {
    case 'bin': return BIN_PREC[e.op];
    case 'cond': return PREC_COND;
    case 'lor': return PREC_LOR;
    case 'land': return PREC_LAND;
    case 'neg': case 'bnot': case 'lnot': return PREC_UNARY;
    case 'inset': return PREC_IN;
    default: return PREC_ATOM;
  }
}

/**
 * Whether operand `child` of binary `parent` needs parentheses (`right`: it is the right one).
 * Beyond what C requires, mixes of bitwise operators, shifts and comparisons are always
 * parenthesized. The output parses back to the same tree under C's rules (operators are
 * left-associative, so a right operand of equal precedence keeps its parentheses).
 */
function needsParens(parent: BinOp, child: Expr, right: boolean): boolean {
  const pp = BIN_PREC[parent];
  const cp = prec(child);
  if (cp < pp) return true;
  if (child.k !== 'bin' && child.k !== 'inset') return false;   // `x in {…}` is a comparison too
  if (cp === pp && right) return true;
  if (pp >= BIN_PREC.add) return false;
  // Under a comparison, arithmetic reads naturally (`ip4.len - 20 > 100`).
  if (!BITWISE.has(parent) && cp >= BIN_PREC.add) return false;
  // `a & b & c` is plain; any other mix is spelled out.
  return !(child.k === 'bin' && child.op === parent && BITWISE.has(parent));
}

function wrap(text: string, parens: boolean): string {
  return parens ? `(${text})` : text;
}

function unary(sign: string, a: Expr): string {
  return `${sign}${wrap(printExpr(a), prec(a) < PREC_ATOM)}`;
}

export function printExpr(e: Expr): string {
  switch (e.k) {
    case 'const': return num(e.v);
    case 'reg': return `R[${e.n}]`;
    case 'mem': return `M[${printExpr(e.index)}]`;
    case 'local': return `L${e.n}`;
    case 'meta': return e.m;
    case 'state': return stateWord(e.i, e.at);
    case 'load': return `load${e.size}[${printExpr(e.off)}]`;
    case 'field': return e.shift ? `${e.name}@+${e.shift}` : e.name;
    case 'bin':
      return `${wrap(printExpr(e.a), needsParens(e.op, e.a, false))} ${OP_TEXT[e.op]} ` +
        wrap(printExpr(e.b), needsParens(e.op, e.b, true));
    case 'neg': return unary('-', e.a);
    case 'bnot': return unary('~', e.a);
    case 'lnot': return unary('!', e.a);
    case 'land':
      return `${wrap(printExpr(e.a), prec(e.a) < PREC_LAND)} && ${wrap(printExpr(e.b), prec(e.b) <= PREC_LAND)}`;
    case 'lor':
      // `&&` under `||` is parenthesized although C would not need it: it is read more easily.
      return `${wrap(printExpr(e.a), prec(e.a) <= PREC_LAND && e.a.k !== 'lor')} || ${wrap(printExpr(e.b), prec(e.b) <= PREC_LAND)}`;
    case 'cond':
      return `${wrap(printExpr(e.c), prec(e.c) <= PREC_COND)} ? ${wrap(printExpr(e.a), prec(e.a) <= PREC_COND)} : ` +
        wrap(printExpr(e.b), prec(e.b) < PREC_COND);
    case 'hash': return `hash(${printExpr(e.off)}, ${printExpr(e.len)}, ${printExpr(e.range)})`;
    case 'search': return `search(${printExpr(e.from)}, ${printExpr(e.to)}, ${e.patterns.map(printPattern).join(', ')})`;
    case 'inset': return `${wrap(printExpr(e.e), prec(e.e) <= PREC_IN)} in {${e.set.map(num).join(', ')}}`;
    case 'lookup': return `lookup(${printExpr(e.e)}, {${e.keys.map((key, j) => `${num(key)}: ${num(e.values[j]!)}`).join(', ')}})`;
    case 'extern': return `extern#${e.id}(${e.args.map(printExpr).join(', ')})`;
  }
}

/** S[i], or S[i + at] with `at` in parentheses unless it binds tighter than `+`. */
const stateWord = (i: number, at: Expr | undefined): string =>
  (at ? `S[${num(i)} + ${wrap(printExpr(at), prec(at) <= BIN_PREC.add)}]` : `S[${i}]`);

/** A search pattern as a quoted string: printable ASCII as is, other bytes (and the quote and backslash) as \xHH. */
function printPattern(p: Uint8Array): string {
  let text = '';
  for (const b of p) text += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return `"${text}"`;
}

function stepText(reg: string, step: number): string {
  if (step === 1) return `${reg}++`;
  if (step === 0xffffffff) return `${reg}--`;
  return `${reg} += ${num(step)}`;
}

/** Lines of a statement at `indent` levels; nested `seq`s are flattened. */
function stmtLines(s: Stmt, indent: number, out: string[]): void {
  const pad = '  '.repeat(indent);
  switch (s.k) {
    case 'seq':
      for (const b of s.body) stmtLines(b, indent, out);
      return;
    case 'if': {
      out.push(`${pad}if (${printExpr(s.cond)}) {`);
      stmtLines(s.then, indent + 1, out);
      let rest = s.else;
      // `else if` chains stay flat.
      while (rest?.k === 'if') {
        out.push(`${pad}} else if (${printExpr(rest.cond)}) {`);
        stmtLines(rest.then, indent + 1, out);
        rest = rest.else;
      }
      if (rest) {
        out.push(`${pad}} else {`);
        stmtLines(rest, indent + 1, out);
      }
      out.push(`${pad}}`);
      return;
    }
    case 'for': {
      const r = `R[${s.reg}]`;
      // The limit is evaluated once, after init: a non-constant one is shown as such.
      const once = s.limit.k !== 'const';
      const init = `${r} = ${printExpr(s.init)}${once ? `, limit = ${printExpr(s.limit)}` : ''}`;
      const test = `${r} ${OP_TEXT[s.cmp]} ${once ? 'limit' : printExpr(s.limit)}`;
      out.push(`${pad}for (${init}; ${test}; ${stepText(r, s.step)}) {`);
      stmtLines(s.body, indent + 1, out);
      out.push(`${pad}}`);
      return;
    }
    case 'break': out.push(`${pad}break`); return;
    case 'block':
      out.push(`${pad}block B${s.label}${s.catchFaults ? ' (faults leave it)' : ''} {`);
      stmtLines(s.body, indent + 1, out);
      out.push(`${pad}}`);
      return;
    case 'exit': out.push(`${pad}exit B${s.label}`); return;
    case 'return': out.push(`${pad}return ${printExpr(s.value)}`); return;
    case 'setreg': out.push(`${pad}R[${s.n}] = ${printExpr(s.value)}`); return;
    case 'setmem': out.push(`${pad}M[${printExpr(s.index)}] = ${printExpr(s.value)}`); return;
    case 'setlocal': out.push(`${pad}L${s.n} = ${printExpr(s.value)}`); return;
    case 'setstate': out.push(`${pad}${stateWord(s.i, s.at)} = ${printExpr(s.value)}`); return;
    case 'eval': out.push(`${pad}eval ${printExpr(s.e)}`); return;
    case 'searchall': {
      const last = s.into + Math.ceil(s.patterns.length / 32) - 1;
      const into = last === s.into ? `L${s.into}` : `L${s.into}..L${last}`;
      out.push(`${pad}${into} = searchall(${printExpr(s.from)}, ${printExpr(s.to)}, ${s.patterns.map(printPattern).join(', ')})`);
      return;
    }
  }
}

export function printStmt(s: Stmt, indent = 0): string {
  const out: string[] = [];
  stmtLines(s, indent, out);
  return out.join('\n');
}

function externLine(x: Program['externs'][number], id: number): string {
  const config = x.config.map((v) => JSON.stringify(v)).join(', ');
  const cells = (x.inCell !== undefined ? ` in M[${x.inCell}]` : '') + (x.outCell !== undefined ? ` out M[${x.outCell}]` : '');
  return `; extern#${id} = ${x.name}(${config})${cells}`;
}

export function printProgram(p: Program): string {
  const src = p.source;
  const lines = [
    ...(src ? [`; from ${src.language}${src.file ? ` ${src.file}` : ''}`] : []),
    `; link type ${linkTypeName(p.linkType)} (DLT ${p.linkType})`,
    `; registers ${p.registers}, memory cells ${p.memoryCells}, locals ${p.locals}, fuel ${p.fuel}`,
    `; externs ${p.externs.length}`,
    ...p.externs.map(externLine),
  ];
  stmtLines(p.body, 0, lines);
  lines.push('return 0  ; falling off the end');
  return lines.join('\n');
}
