/**
 * A pass: blocks that never run at the same time share their locals.
 *
 * A device program gives every flow fresh locals (counter temporaries, inlined filters), so N
 * flows use ~4N locals: WebAssembly engines zero every local at each call and cap them (V8:
 * 50,000), and binaryen's local passes slow down with their number. Here a local used only
 * inside one block that is not inside a `for` (the innermost such block holding every use) is
 * renumbered so that sibling blocks reuse the same numbers.
 *
 * Why it is exact: such a block runs at most once per packet, so in the original its private
 * locals are zero when it starts (nothing else touches them) and dead when it ends. In the
 * result, the block first zeroes the ones it may read before writing; blocks sharing numbers
 * are disjoint subtrees, so none of them runs while another one is running.
 */
import type { Expr, Program, Stmt } from '../ir.js';
import { forEachStmtPart, forEachSubExpr, mapSubExprs, mapSubStmts } from '../walk.js';
import type { Pass } from './pass.js';

type Block = Extract<Stmt, { k: 'block' }>;

function exprLocals(e: Expr, f: (n: number) => void): void {
  if (e.k === 'local') f(e.n);
  else forEachSubExpr(e, (sub) => exprLocals(sub, f));
}

/** Locals read anywhere in a statement (expressions only; writes are not reads). */
function stmtReads(s: Stmt, f: (n: number) => void): void {
  forEachStmtPart(s, (sub) => stmtReads(sub, f), (e) => exprLocals(e, f));
}

/** The locals a `searchall` overwrites, in order (they must stay consecutive). */
const searchallWords = (s: Extract<Stmt, { k: 'searchall' }>): number[] =>
  Array.from({ length: Math.ceil(s.patterns.length / 32) }, (_, i) => s.into + i);

interface Unit { block: Block; children: Unit[]; own: number[] }

export function shareLocals(p: Program): Program {
  // Units: blocks outside loops. For each local, the path of units around its first use,
  // cut down to the prefix common to all its uses: its owner is the last unit of that path.
  const paths = new Map<number, Unit[]>();
  const roots: Unit[] = [];
  const use = (n: number, path: Unit[]) => {
    const had = paths.get(n);
    if (!had) { paths.set(n, path.slice()); return; }
    let i = 0;
    while (i < had.length && i < path.length && had[i] === path[i]) i++;
    had.length = i;
  };
  const walk = (s: Stmt, path: Unit[], inLoop: boolean): void => {
    const reads = (e: Expr) => exprLocals(e, (n) => use(n, path));
    switch (s.k) {
      case 'seq': s.body.forEach((b) => walk(b, path, inLoop)); return;
      case 'if': reads(s.cond); walk(s.then, path, inLoop); if (s.else) walk(s.else, path, inLoop); return;
      case 'for': reads(s.init); reads(s.limit); walk(s.body, path, true); return;
      case 'block': {
        if (inLoop) { walk(s.body, path, inLoop); return; }
        const unit: Unit = { block: s, children: [], own: [] };
        (path.length ? path[path.length - 1]!.children : roots).push(unit);
        walk(s.body, [...path, unit], inLoop);
        return;
      }
      case 'setlocal': use(s.n, path); reads(s.value); return;
      case 'return': case 'setreg': reads(s.value); return;
      case 'setstate': if (s.at) reads(s.at); reads(s.value); return;
      case 'setmem': reads(s.index); reads(s.value); return;
      case 'eval': reads(s.e); return;
      case 'searchall': reads(s.from); reads(s.to); wordSets.push(searchallWords(s)); searchallWords(s).forEach((n) => use(n, path)); return;
      default: return;
    }
  };
  const wordSets: number[][] = [];
  walk(p.body, [], false);
  // A searchall's words must stay consecutive: give them all the owner of the outermost one.
  for (const words of wordSets) {
    const first = words[0]!;
    for (const n of words) use(first, paths.get(n)!);
    for (const n of words) use(n, paths.get(first)!);
  }
  const shared: number[] = [];
  for (const [n, path] of paths) {
    if (path.length) path[path.length - 1]!.own.push(n); else shared.push(n);
  }
  if (shared.length === paths.size) return p;

  // Numbers: shared locals first, then each unit's own above its parent's, siblings alike.
  const renumber = new Map<number, number>();
  shared.sort((a, b) => a - b).forEach((n, i) => renumber.set(n, i));
  let locals = shared.length;
  const zeroes = new Map<Block, number[]>();
  const assign = (u: Unit, base: number): void => {
    u.own.sort((a, b) => a - b).forEach((n, i) => renumber.set(n, base + i));
    locals = Math.max(locals, base + u.own.length);
    const z = readBeforeWrite(u.block.body, new Set(u.own));
    if (z.length) zeroes.set(u.block, z.map((n) => renumber.get(n)!));
    for (const c of u.children) assign(c, base + u.own.length);
  };
  for (const r of roots) assign(r, shared.length);

  const L = (n: number) => renumber.get(n) ?? n;
  const ex = (e: Expr): Expr => {
    switch (e.k) {
      case 'local': return { k: 'local', n: L(e.n) };
      default: return mapSubExprs(e, ex);
    }
  };
  const st = (s: Stmt): Stmt => {
    switch (s.k) {
      case 'block': {
        const z = zeroes.get(s);
        const body = st(s.body);
        return { ...s, body: z ? { k: 'seq', body: [...z.map((n): Stmt => ({ k: 'setlocal', n, value: { k: 'const', v: 0 } })), body] } : body };
      }
      case 'setlocal': return { k: 'setlocal', n: L(s.n), value: ex(s.value) };
      case 'searchall': {
        // Its words share every use (it writes them all), so they land in one unit, in order.
        const words = searchallWords(s);
        if (words.some((n, i) => L(n) !== L(s.into) + i)) throw new Error('internal: the words of a searchall were not renumbered together');
        return { ...s, from: ex(s.from), to: ex(s.to), into: L(s.into) };
      }
      default: return mapSubStmts(s, st, ex);
    }
  };
  return { ...p, body: st(p.body), locals };
}

/**
 * The locals of `own` that a block body may read before writing them: a straight-line scan of
 * its sequences; a write counts only on that line (not inside a branch or a loop, nor after
 * the nested block it was in, which an exit or a fault may have cut short).
 */
function readBeforeWrite(body: Stmt, own: ReadonlySet<number>): number[] {
  const written = new Set<number>();
  const early = new Set<number>();
  const read = (n: number) => { if (own.has(n) && !written.has(n)) early.add(n); };
  const scan = (s: Stmt): void => {
    if (s.k === 'seq') { s.body.forEach(scan); return; }
    if (s.k === 'block') {
      // An exit or a caught fault may skip the rest of it: its writes do not count after it.
      const before = [...written];
      scan(s.body);
      written.clear();
      for (const n of before) written.add(n);
      return;
    }
    if (s.k === 'setlocal') { exprLocals(s.value, read); written.add(s.n); return; }
    if (s.k === 'searchall') { stmtReads(s, read); searchallWords(s).forEach((n) => written.add(n)); return; }
    stmtReads(s, read);
  };
  scan(body);
  return [...early].sort((a, b) => a - b);
}

export const localsPass: Pass = {
  name: 'locals',
  run: shareLocals,
  doc: 'blocks that never run at the same time share their locals',
};
