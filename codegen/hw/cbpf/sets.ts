/**
 * A pass for targets without the captured length (classic BPF): long disjunctions of
 * equality tests on a few atoms become set membership, exactly, faults included —
 *
 *   x == c1 || y == c2 || x == c3 || y == c4 || …   ⇒   x == c1 || y == c2 || x in {c3, …} || y in {c4, …}
 *
 * The terms run in order until every atom has been read once (the prefix); a term that
 * faults there faults in both forms at the same point. Past the prefix every atom has been
 * read without a fault, so the remaining terms cannot fault and have no effects: their
 * disjunction is membership in any order. lang/ir/sets.ts does this with a captured-length
 * test up front, which cBPF cannot make (bpf_filter and the kernel have no caplen).
 */
import type { Expr, Program } from '../../../lang/ir/ir.js';
import { printExpr } from '../../../lang/ir/print.js';
import { balancedChain, flattenChain, mapStmtExprs, mapSubExprs, callsExtern } from '../../../lang/ir/walk.js';

/** Chains shorter than this stay as they are (past the prefix, grouping saves reloading atoms). */
export const MIN_SET_TERMS = 4;

export function prefixSets(p: Program): Program {
  return { ...p, body: mapStmtExprs(p.body, rewrite) };
}

/** Top down: a maximal chain is rewritten whole (its terms first), so that no sub-chain hides its equalities. */
function rewrite(e: Expr): Expr {
  if (e.k !== 'lor') return mapSubExprs(e, rewrite);
  const original = flattenChain(e, 'lor');
  const terms = original.map(rewrite);
  const sets = terms.length >= MIN_SET_TERMS ? asSets(terms) : undefined;
  if (sets) return sets;
  return terms.every((t, i) => t === original[i]) ? e : balancedChain('lor', terms);
}

function asSets(terms: readonly Expr[]): Expr | undefined {
  const tests = terms.map(equality);
  if (tests.some((t) => t === undefined)) return undefined;
  const atoms = new Map<string, { atom: Expr; values: Set<number> }>();
  // The prefix: up to the first occurrence of the last atom to appear.
  let prefixEnd = 0;
  tests.forEach((t, i) => { if (!atoms.has(t!.key)) { atoms.set(t!.key, { atom: t!.atom, values: new Set() }); prefixEnd = i + 1; } });
  for (let i = prefixEnd; i < tests.length; i++) atoms.get(tests[i]!.key)!.values.add(tests[i]!.value);
  const rest: Expr[] = [];
  for (const { atom, values } of atoms.values()) {
    if (values.size === 0) continue;
    const set = [...values].sort((a, b) => a - b);
    rest.push(set.length === 1 ? { k: 'bin', op: 'eq', a: atom, b: { k: 'const', v: set[0]! } } : { k: 'inset', e: atom, set });
  }
  return balancedChain('lor', [...terms.slice(0, prefixEnd), ...rest]);
}

/** `atom == c` (either way round) with a pure atom: its key, the atom and c. */
function equality(t: Expr): { key: string; atom: Expr; value: number } | undefined {
  if (t.k !== 'bin' || t.op !== 'eq') return undefined;
  const [atom, c] = t.b.k === 'const' ? [t.a, t.b] : t.a.k === 'const' ? [t.b, t.a] : [undefined, undefined];
  if (!atom || !c || c.k !== 'const' || atom.k === 'const' || callsExtern(atom)) return undefined;
  return { key: printExpr(atom), atom, value: c.v };
}
