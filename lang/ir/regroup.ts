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
import type { Expr, Program } from './ir.js';
import { balancedChain as chain, callsExtern, flattenChain as flatten, mapStmtExprs, mapSubExprs } from './walk.js';


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

function regroupRun(run: Guarded[]): Expr[] {
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
    // under each protocol test): regroup them too.
    return { k: 'land', a: members[0]!.guard, b: alts.length > 1 ? regroupOr(chain('lor', alts)) : alts[0]! } as Expr;
  });
}

/**
 * A disjunction's terms (free of externs) rewritten run by run: each maximal run of adjacent
 * terms guarded by one atom goes through `rewrite`, every other term stays as it is.
 */
function byRuns(terms: Expr[], rewrite: (run: Guarded[]) => Expr[]): Expr {
  if (terms.some(callsExtern)) return chain('lor', terms);
  const out: Expr[] = [];
  let run: Guarded[] = [];
  const flush = () => {
    if (run.length) out.push(...rewrite(run));
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

function regroupOr(e: Expr): Expr {
  return byRuns(flatten(e, 'lor').map(regroupExpr), (run) => (run.length > 1 ? regroupRun(run) : [chainTerm(run[0]!)]));
}

const chainTerm = (g: Guarded): Expr => (g.rest.length ? chain('land', [g.guard, ...g.rest]) : g.guard);

export function regroupExpr(e: Expr): Expr {
  switch (e.k) {
    case 'lor': return regroupOr(e);
    case 'land': return chain('land', flatten(e, 'land').map(regroupExpr));
    default: return mapSubExprs(e, regroupExpr);
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
export function shareRests(e: Expr): Expr {
  if (e.k !== 'lor') return mapSubExprs(e, shareRests);
  // The whole chain at once: a nested part of it shared first would hide its terms.
  return byRuns(flatten(e, 'lor').map(shareRests), (run) => {
    const distinct = new Set(run.map((g) => g.c)).size === run.length;
    if (run.length < 2 || !distinct || run.some((g) => !g.rest.length)) return run.map(chainTerm);
    const byRest = new Map<string, { guards: Expr[]; rest: Expr }>();
    for (const g of run) {
      const rest = chain('land', g.rest);
      const key = JSON.stringify(rest);
      const shared = byRest.get(key);
      if (shared) shared.guards.push(g.guard); else byRest.set(key, { guards: [g.guard], rest });
    }
    return [...byRest.values()].map(({ guards, rest }): Expr => ({ k: 'land', a: chain('lor', guards), b: rest }));
  });
}

export function regroupDisjunctions(p: Program): Program {
  return { ...p, body: mapStmtExprs(p.body, (e) => shareRests(regroupExpr(e))) };
}
