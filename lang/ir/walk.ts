/**
 * The one place that knows which expressions and statements an IR node contains. Passes that
 * only need to visit or rebuild the parts of a node use these, so a new node kind is taught here once.
 */
import type { Expr, Stmt } from './ir.js';

const STMT_KINDS: ReadonlySet<string> = new Set(['seq', 'if', 'for', 'break', 'block', 'exit', 'return', 'setreg', 'setmem', 'setlocal', 'setstate', 'searchall', 'eval']);

/** Whether an IR node is a statement (else an expression). */
export const isStmt = (x: Stmt | Expr): x is Stmt => STMT_KINDS.has(x.k);

/** Calls `f` on each direct sub-expression of `e`, in evaluation order. */
export function forEachSubExpr(e: Expr, f: (sub: Expr) => void): void {
  switch (e.k) {
    case 'mem': f(e.index); return;
    case 'load': f(e.off); return;
    case 'bin': case 'land': case 'lor': f(e.a); f(e.b); return;
    case 'neg': case 'bnot': case 'lnot': f(e.a); return;
    case 'cond': f(e.c); f(e.a); f(e.b); return;
    case 'hash': f(e.off); f(e.len); f(e.range); return;
    case 'extern': e.args.forEach(f); return;
    case 'inset': case 'lookup': f(e.e); return;
    case 'search': f(e.from); f(e.to); return;
    case 'state': if (e.at) f(e.at); return;
    case 'const': case 'reg': case 'local': case 'meta': case 'field': return;
  }
}

/**
 * `e` with each direct sub-expression replaced by `f` of it. Where `f` returns every part as it
 * was, `e` itself is returned (leaves always are): passes over large programs (many flows on a
 * device) copy only what they change.
 */
export function mapSubExprs(e: Expr, f: (sub: Expr) => Expr): Expr {
  switch (e.k) {
    case 'mem': { const index = f(e.index); return index === e.index ? e : { ...e, index }; }
    case 'load': { const off = f(e.off); return off === e.off ? e : { ...e, off }; }
    case 'bin': case 'land': case 'lor': { const a = f(e.a), b = f(e.b); return a === e.a && b === e.b ? e : { ...e, a, b }; }
    case 'neg': case 'bnot': case 'lnot': { const a = f(e.a); return a === e.a ? e : { ...e, a }; }
    case 'cond': { const c = f(e.c), a = f(e.a), b = f(e.b); return c === e.c && a === e.a && b === e.b ? e : { ...e, c, a, b }; }
    case 'hash': {
      const off = f(e.off), len = f(e.len), range = f(e.range);
      return off === e.off && len === e.len && range === e.range ? e : { ...e, off, len, range };
    }
    case 'extern': { const args = mapSame(e.args, f); return args === e.args ? e : { ...e, args }; }
    case 'inset': case 'lookup': { const x = f(e.e); return x === e.e ? e : { ...e, e: x }; }
    case 'search': { const from = f(e.from), to = f(e.to); return from === e.from && to === e.to ? e : { ...e, from, to }; }
    case 'state': { if (!e.at) return e; const at = f(e.at); return at === e.at ? e : { ...e, at }; }
    case 'const': case 'reg': case 'local': case 'meta': case 'field': return e;
  }
}

/** xs mapped by f; xs itself when f returns every element as it was. */
function mapSame<T>(xs: readonly T[], f: (x: T) => T): T[] {
  let out: T[] | undefined;
  for (let i = 0; i < xs.length; i++) {
    const y = f(xs[i]!);
    if (out) out.push(y);
    else if (y !== xs[i]) { out = xs.slice(0, i); out.push(y); }
  }
  return out ?? (xs as T[]);
}

/** Whether `e` or any expression inside it satisfies `p`. */
export function someExpr(e: Expr, p: (x: Expr) => boolean): boolean {
  if (p(e)) return true;
  let found = false;
  forEachSubExpr(e, (sub) => { if (!found && someExpr(sub, p)) found = true; });
  return found;
}

/** Whether `e` calls an extern anywhere (the only IR expression with side effects). */
export const callsExtern = (e: Expr): boolean => someExpr(e, (x) => x.k === 'extern');

/**
 * `s` with each direct sub-statement replaced by `fs` of it and each of its own expressions by
 * `fe` of it; `s` itself where every part comes back as it was (and for statements without parts).
 */
export function mapSubStmts(s: Stmt, fs: (sub: Stmt) => Stmt, fe: (e: Expr) => Expr): Stmt {
  switch (s.k) {
    case 'seq': { const body = mapSame(s.body, fs); return body === s.body ? s : { ...s, body }; }
    case 'if': {
      const cond = fe(s.cond), then = fs(s.then);
      if (!s.else) return cond === s.cond && then === s.then ? s : { ...s, cond, then };
      const els = fs(s.else);
      return cond === s.cond && then === s.then && els === s.else ? s : { ...s, cond, then, else: els };
    }
    case 'for': {
      const init = fe(s.init), limit = fe(s.limit), body = fs(s.body);
      return init === s.init && limit === s.limit && body === s.body ? s : { ...s, init, limit, body };
    }
    case 'block': { const body = fs(s.body); return body === s.body ? s : { ...s, body }; }
    case 'return': case 'setreg': case 'setlocal': { const value = fe(s.value); return value === s.value ? s : { ...s, value }; }
    case 'setstate': {
      if (!s.at) { const value = fe(s.value); return value === s.value ? s : { ...s, value }; }
      const at = fe(s.at), value = fe(s.value);
      return at === s.at && value === s.value ? s : { ...s, at, value };
    }
    case 'setmem': { const index = fe(s.index), value = fe(s.value); return index === s.index && value === s.value ? s : { ...s, index, value }; }
    case 'eval': { const e = fe(s.e); return e === s.e ? s : { ...s, e }; }
    case 'searchall': { const from = fe(s.from), to = fe(s.to); return from === s.from && to === s.to ? s : { ...s, from, to }; }
    case 'break': case 'exit': return s;
  }
}

/** Calls `onExpr` on each of a statement's own expressions and `onStmt` on each sub-statement, in evaluation order. */
export function forEachStmtPart(s: Stmt, onStmt: (sub: Stmt) => void, onExpr: (e: Expr) => void): void {
  switch (s.k) {
    case 'seq': s.body.forEach(onStmt); return;
    case 'if': onExpr(s.cond); onStmt(s.then); if (s.else) onStmt(s.else); return;
    case 'for': onExpr(s.init); onExpr(s.limit); onStmt(s.body); return;
    case 'block': onStmt(s.body); return;
    case 'return': case 'setreg': case 'setlocal': onExpr(s.value); return;
    case 'setstate': if (s.at) onExpr(s.at); onExpr(s.value); return;
    case 'setmem': onExpr(s.index); onExpr(s.value); return;
    case 'eval': onExpr(s.e); return;
    case 'searchall': onExpr(s.from); onExpr(s.to); return;
    case 'break': case 'exit': return;
  }
}

/** Every expression of a statement tree rewritten by `fe` (which handles its own sub-expressions). */
export function mapStmtExprs(s: Stmt, fe: (e: Expr) => Expr): Stmt {
  return mapSubStmts(s, (sub) => mapStmtExprs(sub, fe), fe);
}

/** The operands of a chain of `k` (a && b && …), left to right; iterative, for long left-leaning chains. */
export function flattenChain(e: Expr, k: 'land' | 'lor'): Expr[] {
  const out: Expr[] = [];
  const stack: Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.k === k) stack.push(x.b, x.a); else out.push(x);
  }
  return out;
}

/** xs[from..to) joined by `k` as a balanced tree (depth log n, same left-to-right order). */
export function balancedChain(k: 'land' | 'lor', xs: readonly Expr[], from = 0, to = xs.length): Expr {
  if (to - from === 1) return xs[from]!;
  const mid = (from + to) >>> 1;
  return { k, a: balancedChain(k, xs, from, mid), b: balancedChain(k, xs, mid, to) };
}
