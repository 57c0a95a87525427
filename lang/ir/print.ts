/**
 * A readable text form of the IR (`fpl dump --ir`): C-like, one statement per line, fields by
 * name, raw loads as `load1[off]`/`load2[off]`/`load4[off]`. Stable, so tests can look for lines.
 */
import type { BinOp, Expr, Program, Stmt } from './ir.js';
import { linkTypeName } from './linktypes.js';

const OPS: Record<BinOp, string> = {
  add: '+', sub: '-', mul: '*', div: '/', mod: '%', and: '&', or: '|', xor: '^', shl: '<<', shr: '>>',
  eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=',
};

const num = (v: number) => (v >= 0x10000 ? `0x${v.toString(16)}` : String(v));

export function printExpr(e: Expr): string {
  switch (e.k) {
    case 'const': return num(e.v);
    case 'reg': return `R[${e.n}]`;
    case 'mem': return `M[${printExpr(e.index)}]`;
    case 'local': return `L${e.n}`;
    case 'meta': return e.m;
    case 'load': return `load${e.size}[${printExpr(e.off)}]`;
    case 'field': return e.shift ? `${e.name}@+${e.shift}` : e.name;
    case 'bin': return `(${printExpr(e.a)} ${OPS[e.op]} ${printExpr(e.b)})`;
    case 'neg': return `-${printExpr(e.a)}`;
    case 'bnot': return `~${printExpr(e.a)}`;
    case 'lnot': return `!${printExpr(e.a)}`;
    case 'land': return `(${printExpr(e.a)} && ${printExpr(e.b)})`;
    case 'lor': return `(${printExpr(e.a)} || ${printExpr(e.b)})`;
    case 'cond': return `(${printExpr(e.c)} ? ${printExpr(e.a)} : ${printExpr(e.b)})`;
    case 'hash': return `hash(${printExpr(e.off)}, ${printExpr(e.len)}, ${printExpr(e.range)})`;
    case 'extern': return `extern#${e.id}(${e.args.map(printExpr).join(', ')})`;
  }
}

export function printStmt(s: Stmt, indent = 0): string {
  const pad = '  '.repeat(indent);
  switch (s.k) {
    case 'seq': return s.body.map((b) => printStmt(b, indent)).join('\n');
    case 'if': {
      const lines = [`${pad}if ${printExpr(s.cond)} {`, printStmt(s.then, indent + 1)];
      if (s.else) lines.push(`${pad}} else {`, printStmt(s.else, indent + 1));
      lines.push(`${pad}}`);
      return lines.filter((l) => l !== '').join('\n');
    }
    case 'for': {
      const step = s.step === 1 ? '++' : s.step === 0xffffffff ? '--' : ` += ${num(s.step)}`;
      const opText = OPS[s.cmp];
      return [`${pad}for (R[${s.reg}] = ${printExpr(s.init)}; R[${s.reg}] ${opText} ${printExpr(s.limit)} (evaluated once); R[${s.reg}]${step}) {`,
        printStmt(s.body, indent + 1), `${pad}}`].filter((l) => l !== '').join('\n');
    }
    case 'break': return `${pad}break`;
    case 'block': return [`${pad}block B${s.label} {`, printStmt(s.body, indent + 1), `${pad}}`].filter((l) => l !== '').join('\n');
    case 'exit': return `${pad}exit B${s.label}`;
    case 'return': return `${pad}return ${printExpr(s.value)}`;
    case 'setreg': return `${pad}R[${s.n}] = ${printExpr(s.value)}`;
    case 'setmem': return `${pad}M[${printExpr(s.index)}] = ${printExpr(s.value)}`;
    case 'setlocal': return `${pad}L${s.n} = ${printExpr(s.value)}`;
    case 'eval': return `${pad}${printExpr(s.e)}`;
  }
}

export function printProgram(p: Program): string {
  const head = [
    `; language ${p.source?.language ?? '?'}${p.source?.file ? ` (${p.source.file})` : ''}`,
    `; link type ${linkTypeName(p.linkType)} (${p.linkType}), registers ${p.registers}, memory cells ${p.memoryCells}, locals ${p.locals}, fuel ${p.fuel}`,
    ...p.externs.map((x, i) => `; extern#${i} = ${x.name}(${x.config.map((c) => JSON.stringify(c)).join(', ')})` +
      (x.inCell !== undefined ? ` in M[${x.inCell}]` : '') + (x.outCell !== undefined ? ` out M[${x.outCell}]` : '')),
  ];
  const body = printStmt(p.body);
  return [...head, body, 'return 0  ; falling off the end'].filter((l) => l !== '').join('\n');
}
