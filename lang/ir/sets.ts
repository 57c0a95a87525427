/**
 * A pass: long disjunctions of equality tests become set membership.
 *
 *   x == c1 || y == c2 || x == c3 || …      (many terms; x, y loads at constant offsets)
 *     ⇒  caplen >= K ? (x ∈ {c1, c3, …} || y ∈ {c2, …}) : (shorter packets, see setForm)
 *
 * where K is the end of the furthest byte any term reads, and `x ∈ S` is a balanced search
 * tree of comparisons over the sorted constants (log2 |S| tests instead of |S|). Exact, faults
 * included: when every byte is captured no term can fault and none has side effects, so the
 * disjunction is plain set membership in any order; shorter packets get the same treatment
 * over the terms that run before the first fault. A 1,000-host filter costs nanoseconds per
 * packet, not microseconds.
 */
import type { Expr, Program, Stmt } from './ir.js';
import { lowerField } from './fields.js';

/** Runs shorter than this stay chains (a few compares beat the length test and the tree). */
export const MIN_SET_TERMS = 8;

/** The largest byte end an atom reads, if it reads only bytes at constant offsets (and is pure). */
function constantReach(e: Expr, linkType: number): number | undefined {
  switch (e.k) {
    case 'const': return 0;
    case 'load': return e.off.k === 'const' ? e.off.v + e.size : undefined;
    case 'field': {
      try { return constantReach(lowerField(e.name, linkType, e.shift ?? 0), linkType); } catch { return undefined; }
    }
    case 'bin': {
      // Operators that cannot fault (no div/mod) over constant-offset atoms.
      if (e.op === 'div' || e.op === 'mod') return undefined;
      const a = constantReach(e.a, linkType), b = constantReach(e.b, linkType);
      return a === undefined || b === undefined ? undefined : Math.max(a, b);
    }
    default: return undefined;
  }
}

interface Term { atom: Expr; key: string; c: number; reach: number }

function equalityTerm(e: Expr, linkType: number): Term | undefined {
  if (e.k !== 'bin' || e.op !== 'eq') return undefined;
  const [atom, c] = e.b.k === 'const' ? [e.a, e.b.v] : e.a.k === 'const' ? [e.b, e.a.v] : [undefined, 0];
  if (!atom || atom.k === 'const') return undefined;
  const reach = constantReach(atom, linkType);
  return reach === undefined ? undefined : { atom, key: JSON.stringify(atom), c, reach };
}

function flatten(e: Expr, k: 'lor' | 'land'): Expr[] {
  const out: Expr[] = [];
  const stack: Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.k === k) stack.push(x.b, x.a); else out.push(x);
  }
  return out;
}

function balanced(k: 'lor' | 'land', xs: readonly Expr[], from = 0, to = xs.length): Expr {
  if (to - from === 1) return xs[from]!;
  const mid = (from + to) >>> 1;
  return { k, a: balanced(k, xs, from, mid), b: balanced(k, xs, mid, to) };
}

/** x ∈ sorted: a search tree of `<` tests with small `==` disjunctions at the leaves. */
function member(x: Expr, sorted: readonly number[], from = 0, to = sorted.length): Expr {
  if (to - from <= 3) {
    return balanced('lor', sorted.slice(from, to).map((c) => ({ k: 'bin', op: 'eq', a: x, b: { k: 'const', v: c } }) as Expr));
  }
  const mid = (from + to) >>> 1;
  return { k: 'cond', c: { k: 'bin', op: 'lt', a: x, b: { k: 'const', v: sorted[mid]! } }, a: member(x, sorted, from, mid), b: member(x, sorted, mid, to) };
}

/** Set membership over the terms (grouped by atom): a disjunction of search trees. */
function sets(run: readonly Term[]): Expr {
  const byAtom = new Map<string, { atom: Expr; consts: Set<number> }>();
  for (const t of run) {
    const g = byAtom.get(t.key);
    if (g) g.consts.add(t.c); else byAtom.set(t.key, { atom: t.atom, consts: new Set([t.c]) });
  }
  return balanced('lor', [...byAtom.values()].map((g) => member(g.atom, [...g.consts].sort((a, b) => a - b))));
}

/** Distinct byte reaches beyond which the short-packet cases are left to the original chain. */
const MAX_LEVELS = 4;

/**
 * caplen decides which terms can run: with caplen L, the original chain evaluates terms in order
 * until one holds or one reads past L (ending the packet with 0). So for L below the largest
 * reach, the result is "some term before the first one reaching past L holds, else that term
 * (which faults)" — set membership over a prefix again, one level per distinct reach.
 */
function setForm(run: Term[], original: Expr[]): Expr {
  const caplenAtLeast = (v: number): Expr => ({ k: 'bin', op: 'ge', a: { k: 'meta', m: 'caplen' }, b: { k: 'const', v } });
  const reaches = [...new Set(run.map((t) => t.reach))].sort((a, b) => a - b);
  const top = reaches[reaches.length - 1]!;
  if (reaches.length > MAX_LEVELS) return { k: 'cond', c: caplenAtLeast(top), a: sets(run), b: balanced('lor', original) };
  // Below the smallest reach the first term faults at once.
  let below: Expr = original[0]!;
  for (const r of reaches.slice(0, -1)) {
    const first = run.findIndex((t) => t.reach > r);    // the first term that faults when caplen is in [r, next reach)
    const level: Expr = first === 0 ? original[0]! : { k: 'lor', a: sets(run.slice(0, first)), b: original[first]! };
    below = { k: 'cond', c: caplenAtLeast(r), a: level, b: below };
  }
  return { k: 'cond', c: caplenAtLeast(top), a: sets(run), b: below };
}

function rewriteOr(e: Expr, linkType: number): Expr {
  const terms = flatten(e, 'lor').map((t) => rewrite(t, linkType));
  const out: Expr[] = [];
  let run: { term: Term; expr: Expr }[] = [];
  const flush = () => {
    if (run.length >= MIN_SET_TERMS) out.push(setForm(run.map((r) => r.term), run.map((r) => r.expr)));
    else out.push(...run.map((r) => r.expr));
    run = [];
  };
  for (const t of terms) {
    const eq = equalityTerm(t, linkType);
    if (eq) { run.push({ term: eq, expr: t }); continue; }
    flush();
    out.push(t);
  }
  flush();
  return balanced('lor', out);
}

function rewrite(e: Expr, linkType: number): Expr {
  const r = (x: Expr) => rewrite(x, linkType);
  switch (e.k) {
    case 'lor': return rewriteOr(e, linkType);
    case 'land': return balanced('land', flatten(e, 'land').map(r));
    case 'bin': return { ...e, a: r(e.a), b: r(e.b) };
    case 'neg': case 'bnot': case 'lnot': return { ...e, a: r(e.a) };
    case 'cond': return { ...e, c: r(e.c), a: r(e.a), b: r(e.b) };
    case 'mem': return { ...e, index: r(e.index) };
    case 'load': return { ...e, off: r(e.off) };
    case 'hash': return { ...e, off: r(e.off), len: r(e.len), range: r(e.range) };
    case 'extern': return { ...e, args: e.args.map(r) };
    default: return e;
  }
}

function rewriteStmt(s: Stmt, linkType: number): Stmt {
  const r = (x: Expr) => rewrite(x, linkType);
  const rs = (x: Stmt) => rewriteStmt(x, linkType);
  switch (s.k) {
    case 'seq': return { ...s, body: s.body.map(rs) };
    case 'if': return { ...s, cond: r(s.cond), then: rs(s.then), ...(s.else ? { else: rs(s.else) } : {}) };
    case 'for': return { ...s, init: r(s.init), limit: r(s.limit), body: rs(s.body) };
    case 'block': return { ...s, body: rs(s.body) };
    case 'return': case 'setreg': case 'setlocal': case 'setstate': return { ...s, value: r(s.value) };
    case 'setmem': return { ...s, index: r(s.index), value: r(s.value) };
    case 'eval': return { ...s, e: r(s.e) };
    default: return s;
  }
}

export function membershipSets(p: Program): Program {
  return { ...p, body: rewriteStmt(p.body, p.linkType) };
}
