/**
 * A pass: disjunctions of terms guarded by equality tests on one atom are regrouped by the
 * guard's constant, so each distinct test runs once:
 *
 *   (x == a && P1) || (x == a && P2) || (x == b && P3) || (x == a && P4)
 *     ⇒  (x == a && (P1 || P2 || P4)) || (x == b && P3)
 *
 * This is what libpcap's optimizer buys for `host A or host B …` (one ethertype test instead
 * of one per term) and it is exact, faults included, when every term is free of side effects
 * (no extern): for any value of x, the terms whose guard holds are evaluated in their original
 * order and the others not at all (their guards are false, and evaluating a guard of a pure
 * atom again changes nothing); a fault in a term ends the packet in both forms at the same
 * point. Only maximal runs of adjacent guarded terms are regrouped: terms are never moved
 * across an unguarded term.
 */
import type { Expr, Program } from '../ir.js';
import { balancedChain as chain, callsExtern, flattenChain as flatten, mapStmtExprs, mapSubExprs } from '../walk.js';
import { IrHasher } from '../equal.js';
import type { Pass } from './pass.js';


interface Guarded { atom: string; c: number; guard: Expr; rest: Expr[] }

/** `x == c && rest…` with x free of constants at the top: the guard's atom (as a key), constant and the rest. */
function guardOf(term: Expr): Guarded | undefined {
  const conj = flatten(term, 'land');
  const g = conj[0]!;
  if (g.k !== 'bin' || g.op !== 'eq') return undefined;
  const [x, c] = g.b.k === 'const' ? [g.a, g.b.v] : g.a.k === 'const' ? [g.b, g.a.v] : [undefined, 0];
  if (!x || x.k === 'const') return undefined;
  return { atom: JSON.stringify(x), c, guard: g, rest: conj.slice(1) };
}

function regroupRun(run: Guarded[], pure: boolean): Expr[] {
  const groups = new Map<number, Guarded[]>();
  for (const g of run) {
    const list = groups.get(g.c);
    if (list) list.push(g); else groups.set(g.c, [g]);
  }
  return [...groups.values()].map((members) => {
    // A member with no rest is the bare guard: once it holds, the disjunction holds.
    const bare = members.findIndex((m) => m.rest.length === 0);
    const kept = bare < 0 ? members : members.slice(0, bare + 1);
    if (bare === 0) return kept[0]!.guard;
    const alts = kept.map((m) => (m.rest.length ? chain('land', m.rest) : { k: 'const', v: 1 } as Expr));
    // The alternatives may share guards of their own (`port 1 or port 2 …`: the fragment test
    // under each protocol test): regroup their disjunction too. Each alternative is regrouped
    // already (the terms were before their run was), so only the new disjunction is: regrouping
    // them again at every level made a deep list's cost grow with the square of its depth.
    return { k: 'land', a: members[0]!.guard, b: alts.length > 1 ? regroupTerms(alts.flatMap((a) => flatten(a, 'lor')), pure) : alts[0]! } as Expr;
  });
}

/**
 * A disjunction's terms (free of externs) rewritten run by run: each maximal run of adjacent
 * terms guarded by one atom goes through `rewrite`, every other term stays as it is. `pure`:
 * the caller knows that no term calls an extern (checked once for a whole expression, not at
 * every level of a deep one).
 */
function byRuns(terms: Expr[], pure: boolean, rewrite: (run: Guarded[]) => Expr[]): Expr {
  if (!pure && terms.some(callsExtern)) return chain('lor', terms);
  const out: Expr[] = [];
  let run: Guarded[] = [];
  const flush = () => {
    if (run.length) for (const t of rewrite(run)) out.push(t); // not push(...): a run may be longer than a call's arguments
    run = [];
  };
  for (const t of terms) {
    const g = guardOf(t);
    if (g && (run.length === 0 || run[0]!.atom === g.atom)) { run.push(g); continue; }
    flush();
    if (g) run.push(g); else out.push(t);
  }
  flush();
  return chain('lor', out);
}

function regroupOr(e: Expr, pure: boolean): Expr {
  return regroupTerms(flatten(e, 'lor').map((t) => regroupExpr(t, pure)), pure);
}

/** A disjunction of terms that are regrouped themselves, regrouped. */
function regroupTerms(terms: Expr[], pure: boolean): Expr {
  return byRuns(terms, pure, (run) => (run.length > 1 ? regroupRun(run, pure) : [chainTerm(run[0]!)]));
}

const chainTerm = (g: Guarded): Expr => (g.rest.length ? chain('land', [g.guard, ...g.rest]) : g.guard);

export function regroupExpr(e: Expr, pure = !callsExtern(e)): Expr {
  switch (e.k) {
    case 'lor': return regroupOr(e, pure);
    case 'land': return chain('land', flatten(e, 'land').map((t) => regroupExpr(t, pure)));
    default: return mapSubExprs(e, (t) => regroupExpr(t, pure));
  }
}


/**
 * After regrouping: constants of one atom whose terms test the same rest share one test of it,
 *
 *   (x == 6 && R) || (x == 17 && R) || (x == 132 && R)  ⇒  (x == 6 || x == 17 || x == 132) && R
 *
 * (`portrange`, `port` under each transport protocol). Exact when the constants of the run are
 * distinct and R is pure: for any x at most one guard holds, and R runs once under it in both
 * forms. Done once the regrouping is complete, because a disjunction as a guard hides the
 * term from the regrouping of the disjunctions around it.
 */
export function shareRests(e: Expr, pure = !callsExtern(e), hasher = new IrHasher()): Expr {
  if (e.k !== 'lor') return mapSubExprs(e, (t) => shareRests(t, pure, hasher));
  // The whole chain at once: a nested part of it shared first would hide its terms.
  return byRuns(flatten(e, 'lor').map((t) => shareRests(t, pure, hasher)), pure, (run) => {
    const distinct = new Set(run.map((g) => g.c)).size === run.length;
    if (run.length < 2 || !distinct || run.some((g) => !g.rest.length)) return run.map(chainTerm);
    // Rests grouped by structural equality, in order of first appearance (their trees can be
    // large: the whole port list under each protocol test).
    const groups: { guards: Expr[]; rest: Expr }[] = [];
    const byHash = new Map<number, { guards: Expr[]; rest: Expr }[]>();
    for (const g of run) {
      const rest = chain('land', g.rest);
      const h = hasher.hash(rest);
      const bucket = byHash.get(h) ?? [];
      const shared = bucket.find((x) => hasher.equal(x.rest, rest));
      if (shared) { shared.guards.push(g.guard); continue; }
      const group = { guards: [g.guard], rest };
      bucket.push(group);
      byHash.set(h, bucket);
      groups.push(group);
    }
    return groups.map(({ guards, rest }): Expr => ({ k: 'land', a: chain('lor', guards), b: rest }));
  });
}

export function regroupDisjunctions(p: Program): Program {
  return { ...p, body: mapStmtExprs(p.body, (e) => { const pure = !callsExtern(e); return shareRests(regroupExpr(e, pure), pure); }) };
}

export const regroupPass: Pass = {
  name: 'regroup',
  run: regroupDisjunctions,
  doc: 'disjunctions guarded by equality tests on one atom are grouped by the constant, so each test runs once',
};
