/**
 * The one place that knows which expressions and statements an IR node contains. Passes that
 * only need to visit or rebuild the parts of a node use these, so a new node kind is taught here once.
 */
import type { Expr, Stmt } from './ir.js';

const STMT_KINDS: ReadonlySet<string> = new Set(['seq', 'if', 'for', 'break', 'block', 'exit', 'return', 'setreg', 'setmem', 'setlocal', 'setstate', 'eval']);

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

/** `e` with each direct sub-expression replaced by `f` of it (leaves are returned as they are). */
export function mapSubExprs(e: Expr, f: (sub: Expr) => Expr): Expr {
  switch (e.k) {
    case 'mem': return { ...e, index: f(e.index) };
    case 'load': return { ...e, off: f(e.off) };
    case 'bin': case 'land': case 'lor': return { ...e, a: f(e.a), b: f(e.b) };
    case 'neg': case 'bnot': case 'lnot': return { ...e, a: f(e.a) };
    case 'cond': return { ...e, c: f(e.c), a: f(e.a), b: f(e.b) };
    case 'hash': return { ...e, off: f(e.off), len: f(e.len), range: f(e.range) };
    case 'extern': return { ...e, args: e.args.map(f) };
    case 'inset': case 'lookup': return { ...e, e: f(e.e) };
    case 'search': return { ...e, from: f(e.from), to: f(e.to) };
    case 'state': return e.at ? { ...e, at: f(e.at) } : e;
    case 'const': case 'reg': case 'local': case 'meta': case 'field': return e;
  }
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
 * `fe` of it (statements without parts are returned as they are).
 */
export function mapSubStmts(s: Stmt, fs: (sub: Stmt) => Stmt, fe: (e: Expr) => Expr): Stmt {
  switch (s.k) {
    case 'seq': return { ...s, body: s.body.map(fs) };
    case 'if': return s.else ? { ...s, cond: fe(s.cond), then: fs(s.then), else: fs(s.else) } : { ...s, cond: fe(s.cond), then: fs(s.then) };
    case 'for': return { ...s, init: fe(s.init), limit: fe(s.limit), body: fs(s.body) };
    case 'block': return { ...s, body: fs(s.body) };
    case 'return': case 'setreg': case 'setlocal': return { ...s, value: fe(s.value) };
    case 'setstate': return s.at ? { ...s, at: fe(s.at), value: fe(s.value) } : { ...s, value: fe(s.value) };
    case 'setmem': return { ...s, index: fe(s.index), value: fe(s.value) };
    case 'eval': return { ...s, e: fe(s.e) };
    case 'searchall': return { ...s, from: fe(s.from), to: fe(s.to) };
    case 'break': case 'exit': return s;
  }
}

/** Calls `onExpr` on each of a statement's own expressions and `onStmt` on each sub-statement, in evaluation order. */
export function forEachStmtPart(s: Stmt, onStmt: (sub: Stmt) => void, onExpr: (e: Expr) => void): void {
  mapSubStmts(s, (sub) => { onStmt(sub); return sub; }, (e) => { onExpr(e); return e; });
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
