/**
 * A pass: `search` nodes over the same constant region share one scan per packet.
 *
 * A device whose flows each apply STR_SEARCH to the same region (say 100 flows, one word each)
 * has one `search` node per flow, so each packet's payload would be scanned once per flow. Here
 * all `search` nodes whose `from` and `to` are constants are grouped by region; a group of two
 * or more nodes gets one `searchall` over the union of their distinct patterns, run lazily: just
 * before each statement that holds one of the group's nodes,
 *
 *   if (!L_done) { L_w.. = searchall(from, to, union…); L_done = 1 }
 *
 * and each node becomes a test of its patterns' bits, `(L_w & mask) != 0 || …`.
 *
 * Why it is exact: such a `search` reads only packet bytes and never faults (its region
 * operands are constants), so evaluating it earlier, or once for all nodes, is invisible. The
 * new locals are zero at each packet's start and written only here, so the scan runs at most
 * once per packet, before any test reads its bits, and only on packets that reach a node.
 * `searchall` spends no fuel and its bit for a pattern is exactly `search` of that pattern.
 */
import { patternKey, type Expr, type Program, type Stmt } from '../ir.js';
import { balancedChain, mapSubExprs, mapSubStmts } from '../walk.js';
import type { Pass } from './pass.js';

type Search = Extract<Expr, { k: 'search' }>;

interface Group {
  from: number;
  to: number;
  nodes: number;
  /** Distinct patterns in order of first appearance, and the bit index of each (by hex key). */
  patterns: Uint8Array[];
  index: Map<string, number>;
  into: number;
  done: number;
}


const constRegion = (e: Expr): e is Search & { from: { k: 'const' }; to: { k: 'const' } } =>
  e.k === 'search' && e.from.k === 'const' && e.to.k === 'const';

const regionKey = (e: Search): string => `${(e.from as { v: number }).v}:${(e.to as { v: number }).v}`;

/** Merges the constant-region `search` nodes of `p` (see above); `p` itself when nothing merges. */
export function mergeSearches(p: Program): Program {
  const groups = new Map<string, Group>();
  const collect = (e: Expr): Expr => {
    if (constRegion(e)) {
      const key = regionKey(e);
      let g = groups.get(key);
      if (!g) {
        g = { from: e.from.v, to: e.to.v, nodes: 0, patterns: [], index: new Map(), into: 0, done: 0 };
        groups.set(key, g);
      }
      g.nodes++;
      for (const q of e.patterns) {
        const k = patternKey(q);
        if (!g.index.has(k)) { g.index.set(k, g.patterns.length); g.patterns.push(q); }
      }
    }
    return mapSubExprs(e, collect);
  };
  const collectStmt = (s: Stmt): Stmt => mapSubStmts(s, collectStmt, collect);
  collectStmt(p.body);

  let locals = p.locals;
  const merged = new Map<string, Group>();
  for (const [key, g] of groups) {
    if (g.nodes < 2) continue;
    g.into = locals;
    locals += Math.ceil(g.patterns.length / 32);
    g.done = locals++;
    merged.set(key, g);
  }
  if (merged.size === 0) return p;

  /** The node as a test of its patterns' bits, words in ascending order. */
  const bitTest = (g: Group, e: Search): Expr => {
    const masks = new Map<number, number>();
    for (const q of e.patterns) {
      const j = g.index.get(patternKey(q))!;
      masks.set(j >>> 5, ((masks.get(j >>> 5) ?? 0) | (1 << (j & 31))) >>> 0);
    }
    const tests = [...masks].sort(([a], [b]) => a - b).map(([w, mask]): Expr => ({
      k: 'bin', op: 'ne', a: { k: 'bin', op: 'and', a: { k: 'local', n: g.into + w }, b: { k: 'const', v: mask } }, b: { k: 'const', v: 0 },
    }));
    return balancedChain('lor', tests);
  };

  const guard = (g: Group): Stmt => ({
    k: 'if', cond: { k: 'lnot', a: { k: 'local', n: g.done } },
    then: { k: 'seq', body: [
      { k: 'searchall', from: { k: 'const', v: g.from }, to: { k: 'const', v: g.to }, patterns: g.patterns, into: g.into },
      { k: 'setlocal', n: g.done, value: { k: 'const', v: 1 } },
    ] },
  });

  const rewrite = (s: Stmt): Stmt => {
    const touched = new Set<Group>();
    const ex = (e: Expr): Expr => {
      const g = constRegion(e) ? merged.get(regionKey(e)) : undefined;
      if (g) { touched.add(g); return bitTest(g, e as Search); }
      return mapSubExprs(e, ex);
    };
    // Only this statement's own expressions report here; sub-statements get their own guards.
    const out = mapSubStmts(s, rewrite, ex);
    return touched.size ? { k: 'seq', body: [...[...touched].map(guard), out] } : out;
  };
  return { ...p, body: rewrite(p.body), locals };
}

export const searchmergePass: Pass = {
  name: 'searchmerge',
  run: mergeSearches,
  doc: 'searches over the same constant region share one scan per packet (searchall)',
};
