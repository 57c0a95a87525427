/**
 * The one place that knows which expressions an IR expression contains. Passes that only need
 * to visit or rebuild sub-expressions use these, so a new node kind is taught here once.
 */
import type { Expr } from './ir.js';

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
    case 'inset': f(e.e); return;
    case 'search': f(e.from); f(e.to); return;
    case 'const': case 'reg': case 'local': case 'state': case 'meta': case 'field': return;
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
    case 'inset': return { ...e, e: f(e.e) };
    case 'search': return { ...e, from: f(e.from), to: f(e.to) };
    case 'const': case 'reg': case 'local': case 'state': case 'meta': case 'field': return e;
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
