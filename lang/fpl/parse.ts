/**
 * Source text → syntax tree (ast.ts), or a syntax error that says where and what was expected.
 */
import type * as ohm from 'ohm-js';
import { makeDiagnostic, type Diagnostic } from '../diagnostics.js';
import type {
  AssignNode, AssignOperator, AstExpr, AstStmt, BinaryOperator, LValue, Span, StringLiteral, UnaryOperator,
} from './ast.js';
import { fplGrammar } from './grammar.js';

const spanOf = (n: ohm.Node): Span => ({ off: n.source.startIdx, len: n.source.endIdx - n.source.startIdx });
const join = (a: Span, b: Span): Span => ({ off: a.off, len: b.off + b.len - a.off });
const exprSpan = (e: AstExpr): Span => e.span;

/** Folds `first (op next)*` left-associatively, as C does. */
function foldLeft(first: ohm.Node, ops: ohm.Node, rests: ohm.Node): AstExpr {
  let acc = first['ast']() as AstExpr;
  // `children` builds a new array on every access: take it once (else long chains are quadratic)
  const operands = rests.children;
  ops.children.forEach((opNode, i) => {
    const b = operands[i]!['ast']() as AstExpr;
    acc = { k: 'bin', op: opNode.sourceString as BinaryOperator, a: acc, b, opSpan: spanOf(opNode), span: join(exprSpan(acc), exprSpan(b)) };
  });
  return acc;
}

const list = (iter: ohm.Node): AstStmt[] => iter.children.map((c) => c['ast']() as AstStmt);

let semantics: ohm.Semantics | undefined;

function fplSemantics(): ohm.Semantics {
  if (semantics) return semantics;
  const binaryLevel = (first: ohm.Node, ops: ohm.Node, rests: ohm.Node): AstExpr => foldLeft(first, ops, rests);
  semantics = fplGrammar().createSemantics().addOperation<unknown>('ast', {
    Program(stmts, _end): AstStmt[] { return list(stmts); },
    IfStmt(kw, _lp, cond, _rp, _then, thenStmts, elsePart, end): AstStmt {
      const elseNode = elsePart.children[0];
      const closed = end.sourceString.length > 0; // the `open` alternative matches only the end of input
      return {
        k: 'if', cond: cond['ast'](), then: list(thenStmts),
        ...(elseNode ? { else: list(elseNode.children[1]!) } : {}),
        closed, span: spanOf(kw),
      };
    },
    ForStmt(kw, _lp, init, _s1, cond, _s2, update, _rp, body, _rof, _semi): AstStmt {
      return { k: 'for', init: init['ast'](), cond: cond['ast'](), update: update['ast'](), body: list(body), span: spanOf(kw) };
    },
    BreakStmt(kw, _semi): AstStmt { return { k: 'break', span: spanOf(kw) }; },
    ReturnStmt(kw, value, _semi): AstStmt { return { k: 'return', value: value['ast'](), span: spanOf(kw) }; },
    ExternStmt(call, _semi): AstStmt { return { k: 'call', call: call['ast'](), span: spanOf(call) }; },
    AssignStmt(update, _semi): AstStmt { return update['ast'](); },
    Update_inc(target, op): AssignNode {
      return { k: 'assign', target: target['ast']() as LValue, op: op.sourceString as '++' | '--', opSpan: spanOf(op), span: spanOf(this) };
    },
    Update_assign(target, op, value): AssignNode {
      return {
        k: 'assign', target: target['ast']() as LValue, op: op.sourceString as AssignOperator, opSpan: spanOf(op),
        value: value['ast'](), span: spanOf(this),
      };
    },
    LogOr: binaryLevel, LogAnd: binaryLevel, BitOr: binaryLevel, BitXor: binaryLevel, BitAnd: binaryLevel,
    Equality: binaryLevel, Relational: binaryLevel, Shift: binaryLevel, Additive: binaryLevel, Multiplicative: binaryLevel,
    Unary_op(op, a): AstExpr { return { k: 'unary', op: op.sourceString as UnaryOperator, a: a['ast'](), span: spanOf(this) }; },
    Primary_paren(_lp, e, _rp): AstExpr { return e['ast'](); },
    Primary_true(_kw): AstExpr { return { k: 'bool', value: true, span: spanOf(this) }; },
    Primary_false(_kw): AstExpr { return { k: 'bool', value: false, span: spanOf(this) }; },
    Primary_name(n): AstExpr { return { k: 'name', name: n.sourceString, span: spanOf(this) }; },
    number(_n): AstExpr { return { k: 'num', text: this.sourceString, span: spanOf(this) }; },
    PktRef(_pkt, _dot, name, index, sub): AstExpr {
      const indexNode = index.children[0];
      const subNode = sub.children[0];
      return {
        k: 'pkt', name: name.sourceString, nameSpan: spanOf(name),
        ...(indexNode ? { index: indexNode.children[1]!['ast']() as AstExpr } : {}),
        ...(subNode ? {
          sub: {
            name: subNode.children[1]!.sourceString, nameSpan: spanOf(subNode.children[1]!),
            index: subNode.children[3]!['ast']() as AstExpr,
          },
        } : {}),
        span: spanOf(this),
      };
    },
    RegRef(_r, _lb, index, _rb): AstExpr { return { k: 'reg', index: index['ast'](), span: spanOf(this) }; },
    MemRef(_m, _lb, index, _rb): AstExpr { return { k: 'mem', index: index['ast'](), span: spanOf(this) }; },
    HashCall_square(_h, _lb, off, _c1, len, _c2, range, _rb): AstExpr {
      return { k: 'hash', off: off['ast'](), len: len['ast'](), range: range['ast'](), span: spanOf(this) };
    },
    HashCall_round(_h, _lb, off, _c1, len, _c2, range, _rb): AstExpr {
      return { k: 'hash', off: off['ast'](), len: len['ast'](), range: range['ast'](), span: spanOf(this) };
    },
    ExternCall(_kw, _lp, name, _commas, args, _rp): AstExpr {
      const nameText = name.sourceString;
      const quoted = nameText.startsWith('"');
      return {
        k: 'extern', name: quoted ? nameText.slice(1, -1) : nameText, nameSpan: spanOf(name),
        args: args.children.map((a) => a['ast']() as AstExpr | StringLiteral), span: spanOf(this),
      };
    },
    string(_open, chars, _close): StringLiteral {
      return { k: 'str', value: chars.sourceString, span: spanOf(this) };
    },
  });
  return semantics;
}

// ---- syntax errors ----

const STATEMENT_STARTS = ['"IF"', '"FOR"', '"BREAK"', '"RETURN"', '"EXTERN"', '"R"', '"M"'];
const EXPRESSION_STARTS = ['a name', 'a number', '"FALSE"', '"TRUE"', '"EXTERN"', '"HASH"', '"M"', '"R"', '"PKT"', '"("', '"-"', '"~"', '"!"'];
const BINARY_OPERATORS = new Set(['||', '&&', '|', '^', '&', '==', '!=', '<', '<=', '>', '>=', '<<', '>>', '+', '-', '*', '/', '%']
  .map((o) => JSON.stringify(o)));
const MULTI_CHAR_TOKENS = ['<<=', '>>=', '==', '!=', '<=', '>=', '&&', '||', '<<', '>>', '++', '--',
  '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^='];

/** The token at `off`, as a user would name it. */
function tokenAt(source: string, off: number): string {
  if (off >= source.length) return 'end of input';
  const rest = source.slice(off, off + 64);
  const word = /^[A-Za-z0-9_]+/.exec(rest);
  if (word) return `"${word[0]}"`;
  const op = MULTI_CHAR_TOKENS.find((t) => rest.startsWith(t));
  return `"${op ?? rest[0]}"`;
}

/** Replaces a whole set of alternatives by its name ("a statement"), keeping the position of its first member. */
function collapse(items: string[], members: readonly string[], name: string, trigger: string): string[] {
  if (!items.includes(trigger)) return items;
  const set = new Set(members);
  const at = items.findIndex((i) => set.has(i));
  const kept = items.filter((i) => !set.has(i));
  kept.splice(at < 0 ? kept.length : Math.min(at, kept.length), 0, name);
  return kept;
}

function orList(items: string[]): string {
  if (items.length <= 1) return items[0] ?? 'something else';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** Turns ohm's rightmost failures into `expected X or Y but found "Z"`. */
function syntaxError(source: string, match: ohm.MatchResult, file?: string): Diagnostic {
  const pos = (match as unknown as { getRightmostFailurePosition(): number }).getRightmostFailurePosition();
  type Failure = { getText(): string; type: string; isFluffy(): boolean };
  const failures = ((match as unknown as { getRightmostFailures(): Failure[] }).getRightmostFailures())
    .filter((f) => !f.isFluffy());
  let items = [...new Set(failures.map((f) => (f.type === 'string' ? JSON.stringify(f.getText()) : f.getText())))].reverse();
  items = items.filter((i) => !i.startsWith('not '));
  const nonOperators = items.filter((i) => !BINARY_OPERATORS.has(i));
  items = nonOperators.length > 0 && nonOperators.length < items.length ? nonOperators
    : nonOperators.length === 0 && items.length > 0 ? ['an operator'] : items;
  items = collapse(items, STATEMENT_STARTS, 'a statement', '"IF"');
  items = collapse(items, EXPRESSION_STARTS, 'an expression', 'a number');
  if (items.length > 1) items = items.filter((i) => i !== 'end of input');
  const found = tokenAt(source, pos);
  let length = found === 'end of input' ? 1 : found.length - 2;
  let message = items.length ? `expected ${orList(items)} but found ${found}` : `unexpected ${found}`;
  if (source.startsWith('/*', pos) && !source.includes('*/', pos + 2)) {
    message = 'this comment is not closed: expected */ before the end of the input';
    length = 2;
  }
  else if (source[pos] === '"' && !/^"[^"\n]*"/.test(source.slice(pos))) message = 'this string is not closed: expected " on the same line';
  return makeDiagnostic(source, 'error', pos, length, message, file !== undefined ? { file } : {});
}

export type ParseResult = { ok: true; program: AstStmt[] } | { ok: false; error: Diagnostic };

export function parseFpl(source: string, file?: string): ParseResult {
  const match = fplGrammar().match(source);
  if (match.failed()) return { ok: false, error: syntaxError(source, match, file) };
  return { ok: true, program: fplSemantics()(match)['ast']() as AstStmt[] };
}
