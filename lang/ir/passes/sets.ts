/**
 * A pass: long disjunctions of equality tests become set membership.
 *
 *   x == c1 || y == c2 || x == c3 || …      (many terms; x, y pure loads from one base)
 *     ⇒  caplen >= base + K ? (x in {c1, c3, …} || y in {c2, …}) : (shorter packets, see setForm)
 *
 * where the atoms' loads all lie at constant offsets from one base — the frame start (`ip4.src`,
 * `load4[28]`) or one packet-pure dynamic offset (`l4v4.sport`, `l4v4.dport`: the IPv4 header
 * length) — and base + K is the end of the furthest byte any term reads. `x in S` is the IR's
 * `inset`, which the backend lowers to a hashed lookup: a 1,000-host filter costs two lookups
 * per packet, not a thousand compares.
 *
 * Exact, faults included: once every byte the terms read is captured no term can fault and none
 * has side effects, so the disjunction is plain set membership in any order; shorter packets
 * get the same treatment over the terms that run before the first fault. A dynamic base's own
 * loads (the IHL byte) fault before any term can run, in both forms.
 */
import type { Expr, Program } from '../ir.js';
import { lowerField } from '../fields.js';
import { balancedChain as balanced, flattenChain as flatten, mapStmtExprs, mapSubExprs } from '../walk.js';
import { splitOffset } from '../offsets.js';
import type { Pass } from './pass.js';

/** Runs shorter than this stay chains (a few compares beat the length test and the lookup). */
export const MIN_SET_TERMS = 8;

const U32_LIMIT = 2 ** 32;
const FRAME = '';

const lowered = (e: Extract<Expr, { k: 'field' }>, linkType: number): Expr | undefined => {
  try { return lowerField(e.name, linkType, e.shift ?? 0); } catch { return undefined; }
};

/** The largest byte end an expression reads, if it reads only bytes at constant offsets (and cannot fault otherwise). */
function constantReach(e: Expr, linkType: number): number | undefined {
  switch (e.k) {
    case 'const': return 0;
    case 'load': return e.off.k === 'const' ? e.off.v + e.size : undefined;
    case 'field': { const low = lowered(e, linkType); return low && constantReach(low, linkType); }
    case 'bin': {
      // Operators that cannot fault (no div/mod) over constant-offset atoms.
      if (e.op === 'div' || e.op === 'mod') return undefined;
      const a = constantReach(e.a, linkType), b = constantReach(e.b, linkType);
      return a === undefined || b === undefined ? undefined : Math.max(a, b);
    }
    default: return undefined;
  }
}

/** An upper bound of a constant-reach expression's value (undefined: none below 2^32 known). */
function upperBound(e: Expr, linkType: number): number | undefined {
  const b = (x: Expr) => upperBound(x, linkType);
  switch (e.k) {
    case 'const': return e.v;
    case 'load': return 2 ** (8 * e.size) - 1;
    case 'field': { const low = lowered(e, linkType); return low && b(low); }
    case 'bin': {
      const x = b(e.a), y = b(e.b);
      if (e.op === 'and') return x === undefined ? y : y === undefined ? x : Math.min(x, y);
      if (x === undefined || y === undefined) return undefined;
      const v = e.op === 'add' ? x + y : e.op === 'mul' ? x * y : e.op === 'shr' && e.b.k === 'const' ? Math.floor(x / 2 ** Math.min(e.b.v, 32)) : undefined;
      return v !== undefined && v < U32_LIMIT ? v : undefined;
    }
    default: return undefined;
  }
}

/**
 * Where an atom's bytes are: every load at `base + k` for one base (FRAME: constant offsets),
 * the term faulting exactly when caplen < base + end (or when the base's own loads, which all
 * end by `baseReach`, fault).
 */
interface Reach { baseKey: string; base?: Expr; baseReach: number; end: number }

function combine(x: Reach, y: Reach): Reach | undefined {
  if (x.baseKey === y.baseKey) return { ...x, end: Math.max(x.end, y.end) };
  // Constant-offset bytes that the base's own loads already need add no fault of their own.
  const [frame, dyn] = x.baseKey === FRAME ? [x, y] : y.baseKey === FRAME ? [y, x] : [undefined, undefined];
  return frame && dyn && frame.end <= dyn.baseReach ? dyn : undefined;
}

function atomReach(e: Expr, linkType: number): Reach | undefined {
  switch (e.k) {
    case 'const': return { baseKey: FRAME, baseReach: 0, end: 0 };
    case 'field': { const low = lowered(e, linkType); return low && atomReach(low, linkType); }
    case 'load': {
      const { base, k } = splitOffset(e.off);
      if (base.k === 'const') {
        const end = base.v + k + e.size;
        return end < U32_LIMIT ? { baseKey: FRAME, baseReach: 0, end } : undefined;
      }
      const baseReach = constantReach(base, linkType), bound = upperBound(base, linkType);
      if (baseReach === undefined || bound === undefined || bound + k + e.size >= U32_LIMIT) return undefined;
      return { baseKey: JSON.stringify(base), base, baseReach, end: k + e.size };
    }
    case 'bin': {
      if (e.op === 'div' || e.op === 'mod') return undefined;
      const a = atomReach(e.a, linkType), b = a && atomReach(e.b, linkType);
      return a && b && combine(a, b);
    }
    default: return undefined;
  }
}

interface Term { atom: Expr; key: string; c: number; reach: Reach }

function equalityTerm(e: Expr, linkType: number): Term | undefined {
  if (e.k !== 'bin' || e.op !== 'eq') return undefined;
  const [atom, c] = e.b.k === 'const' ? [e.a, e.b.v] : e.a.k === 'const' ? [e.b, e.a.v] : [undefined, 0];
  if (!atom || atom.k === 'const') return undefined;
  const reach = atomReach(atom, linkType);
  return reach && { atom, key: JSON.stringify(atom), c, reach };
}


/** Set membership over the terms (grouped by atom, in order of first appearance): a disjunction of `inset`s. */
function sets(run: readonly Term[]): Expr {
  const byAtom = new Map<string, { atom: Expr; consts: Set<number> }>();
  for (const t of run) {
    const g = byAtom.get(t.key);
    if (g) g.consts.add(t.c); else byAtom.set(t.key, { atom: t.atom, consts: new Set([t.c]) });
  }
  return balanced('lor', [...byAtom.values()].map((g): Expr => (g.consts.size === 1
    ? { k: 'bin', op: 'eq', a: g.atom, b: { k: 'const', v: [...g.consts][0]! } }
    : { k: 'inset', e: g.atom, set: [...g.consts].sort((a, b) => a - b) })));
}

/** Distinct byte reaches beyond which the short-packet cases are left to the original chain. */
const MAX_LEVELS = 4;

/**
 * caplen decides which terms can run: with caplen L, the original chain evaluates terms in order
 * until one holds or one reads past L (ending the packet with 0). So for L below the largest
 * reach, the result is "some term before the first one reaching past L holds, else that term
 * (which faults)" — set membership over a prefix again, one level per distinct reach.
 * Every term of the run has the same base.
 */
function setForm(run: Term[], original: Expr[]): Expr {
  const { base } = run[0]!.reach;
  const caplenAtLeast = (v: number): Expr => ({
    k: 'bin', op: 'ge', a: { k: 'meta', m: 'caplen' },
    b: base ? { k: 'bin', op: 'add', a: base, b: { k: 'const', v } } : { k: 'const', v },
  });
  const reaches = [...new Set(run.map((t) => t.reach.end))].sort((a, b) => a - b);
  const top = reaches[reaches.length - 1]!;
  if (reaches.length > MAX_LEVELS) return { k: 'cond', c: caplenAtLeast(top), a: sets(run), b: balanced('lor', original) };
  // Below the smallest reach the first term faults at once.
  let below: Expr = original[0]!;
  for (const r of reaches.slice(0, -1)) {
    const first = run.findIndex((t) => t.reach.end > r);    // the first term that faults when caplen is in [r, next reach)
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
    else for (const r of run) out.push(r.expr);
    run = [];
  };
  for (const t of terms) {
    const eq = equalityTerm(t, linkType);
    if (eq && run.length && run[0]!.term.reach.baseKey !== eq.reach.baseKey) flush();
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
    default: return mapSubExprs(e, r);
  }
}


export function membershipSets(p: Program): Program {
  return { ...p, body: mapStmtExprs(p.body, (e) => rewrite(e, p.linkType)) };
}

export const setsPass: Pass = {
  name: 'sets',
  run: membershipSets,
  doc: `long disjunctions of equality tests (${MIN_SET_TERMS} terms or more) become set membership (\`x in {…}\`)`,
};
