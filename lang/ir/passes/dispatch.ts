/**
 * A pass: many flows that differ by one constant are dispatched through a table lookup instead
 * of running N filters per packet.
 *
 * A device program runs, for each flow, `block F_i (faults leave it) { head_i; rest_i… }`.
 * When consecutive flow blocks have heads that are the same program up to one constant K_i —
 * `tcp dst port 1`, `tcp dst port 2`, … — where K_i occurs only as an operand of `eq` tests
 * `e_j == K_i` (the "sites"; e_j free of K), the group becomes:
 *
 *   probe:    the head once, with every site test taken as false, recording each e_j it meets
 *             (v_j) and whether the head would complete (O = 1) or leave the flow (exit F,
 *             a fault: O = 0);
 *   lookup:   q_j = the position of the flow whose K is v_j (a `lookup` table from the Ks), or
 *             NONE; for each q_j found, the head once more with K = v_j: c_j = it completes
 *             (c_j = 1 without running it when every site's test decides completion once
 *             reached and true: outcome.ts completesWhenTrue);
 *   dispatch: runs, in the original order, `block F_i { rest_i }` for every flow i whose head
 *             completes: i = q_j with c_j, or any other i when O = 1.
 *
 * Why it is exact. A head is pure (it reads the packet, its metadata and locals private to its
 * head; it writes only those locals; no registers, memory, state, externs, loops or returns),
 * so when it runs, and how often, is invisible except through how it ends; the rests never
 * read its locals. For a flow whose K is none of the values the probe met, its own head takes
 * the same path as the probe, step by step: every site it reaches compares a value the probe
 * also computed (e_j does not depend on K) with K, which differs, so the test is false as in the
 * probe; so it ends the same way — completing exactly when O = 1 (leaving by exit and by a fault
 * are the same for a pure head). A flow whose K is some v_j is the flow at q_j (K is distinct
 * within a group), and c_j is how its own head ends. Each rest then runs as before, in order,
 * in a fault-catching block with the flow's label. Heads contain no loops, so no fuel is spent.
 *
 * Two forms of dispatch:
 * - shared: when O is provably 0 (outcome.ts: the head cannot complete with its site tests
 *   false, as for `tcp dst port K`) and the rests are a few programs up to constants and state
 *   words (template.ts: N flows with the same chain, or with one of a few chains), only found
 *   flows can run, so the code runs one copy of each kind of rest per site, in position order,
 *   the copy picked by the flow's position and its constants and state words computed from it.
 *   Code and cost per packet no longer grow with N.
 * - per flow: otherwise, a tree over flow positions guards each flow's own rest. Code stays
 *   linear in N (per flow its rest and two guards); a packet that matches no flow costs the
 *   probe, a lookup per site and log2 N tests.
 */
import type { Expr, Program, Stmt } from '../ir.js';
import { LOOKUP_MISS } from '../ir.js';
import { completesWhenTrue, mayComplete } from './dispatch/outcome.js';
import { Templater } from './dispatch/template.js';
import { forEachStmtPart, forEachSubExpr, isStmt } from '../walk.js';
import type { Pass } from './pass.js';

/** Groups smaller than this stay as they are (the probe and trees cost more than a few heads). */
export const MIN_DISPATCH_FLOWS = 4;
/** Most kinds of rest a shared group may have (its code has a copy of each per site). */
export const MAX_SHARED_KINDS = 8;
const NONE = LOOKUP_MISS;

type Block = Extract<Stmt, { k: 'block' }>;
type Eq = Extract<Expr, { k: 'bin' }>;

interface Candidate {
  block: Block;
  head: Stmt;
  rest: Stmt[];
  key: string;
  /** The constant of each `eq` placeholder, in traversal order. */
  consts: number[];
  /** The `eq` node of each placeholder (same order) and the placeholders inside its other operand. */
  eqs: { node: Eq; inner: number[] }[];
  /** Locals the head uses (they must not be used outside its block). */
  locals: Set<number>;
  /** Whether a local is used by this flow's block only. */
  isPrivate: (n: number) => boolean;
}

const constOf = (e: Eq): { k: number; other: Expr } | undefined =>
  e.b.k === 'const' && e.a.k !== 'const' ? { k: e.b.v, other: e.a }
    : e.a.k === 'const' && e.b.k !== 'const' ? { k: e.a.v, other: e.b } : undefined;

/**
 * The head's shape with labels and locals renumbered by first appearance and `eq` constants
 * replaced by placeholders; undefined when the head is not pure enough to be probed.
 */
function canonical(head: Stmt, flowLabel: number): Omit<Candidate, 'block' | 'head' | 'rest' | 'isPrivate'> | undefined {
  const labels = new Map<number, number>([[flowLabel, -1]]);
  const localIds = new Map<number, number>();
  const consts: number[] = [];
  const eqs: Candidate['eqs'] = [];
  let bad = false;
  const local = (n: number) => {
    let id = localIds.get(n);
    if (id === undefined) { id = localIds.size; localIds.set(n, id); }
    return id;
  };
  const ex = (e: Expr): unknown => {
    switch (e.k) {
      case 'const': case 'meta': case 'field': return e;
      case 'local': return { k: 'local', n: local(e.n) };
      case 'reg': case 'mem': case 'state': case 'extern': bad = true; return null;
      case 'load': return { k: 'load', off: ex(e.off), size: e.size };
      case 'bin': {
        const kc = e.op === 'eq' ? constOf(e) : undefined;
        if (kc) {
          const at = consts.length;
          consts.push(kc.k);
          const slot = { node: e, inner: [] as number[] };
          eqs.push(slot);
          const other = ex(kc.other);
          for (let i = at + 1; i < consts.length; i++) slot.inner.push(i);
          return { k: 'eq?', constFirst: e.a.k === 'const', other };
        }
        return { k: 'bin', op: e.op, a: ex(e.a), b: ex(e.b) };
      }
      case 'neg': case 'bnot': case 'lnot': return { k: e.k, a: ex(e.a) };
      case 'land': case 'lor': return { k: e.k, a: ex(e.a), b: ex(e.b) };
      case 'cond': return { k: 'cond', c: ex(e.c), a: ex(e.a), b: ex(e.b) };
      case 'hash': return { k: 'hash', off: ex(e.off), len: ex(e.len), range: ex(e.range) };
      case 'inset': return { k: 'inset', e: ex(e.e), set: e.set };
      case 'search': return { k: 'search', from: ex(e.from), to: ex(e.to), patterns: e.patterns.map((x) => [...x]) };
    }
    bad = true;   // a kind this pass does not know
    return null;
  };
  const st = (s: Stmt): unknown => {
    switch (s.k) {
      case 'seq': return { k: 'seq', body: s.body.map(st) };
      case 'if': return { k: 'if', cond: ex(s.cond), then: st(s.then), else: s.else ? st(s.else) : null };
      case 'block': {
        if (labels.has(s.label)) { bad = true; return null; }
        labels.set(s.label, labels.size);
        return { k: 'block', label: labels.get(s.label), catchFaults: !!s.catchFaults, body: st(s.body) };
      }
      case 'exit': {
        const l = labels.get(s.label);
        if (l === undefined) bad = true;   // leaves something outside the flow
        return { k: 'exit', label: l };
      }
      case 'setlocal': return { k: 'setlocal', n: local(s.n), value: ex(s.value) };
      case 'eval': return { k: 'eval', e: ex(s.e) };
      default: bad = true; return null;   // return, for, break, writes to R/M/S
    }
  };
  const shape = st(head);
  return bad ? undefined : { key: JSON.stringify(shape), consts, eqs, locals: new Set(localIds.keys()) };
}

function candidate(s: Stmt, isPrivate: (n: number) => boolean): Candidate | undefined {
  if (s.k !== 'block' || !s.catchFaults) return undefined;
  const head = s.body.k === 'seq' ? s.body.body[0] : s.body;
  if (!head) return undefined;
  const c = canonical(head, s.label);
  if (!c) return undefined;
  const rest = s.body.k === 'seq' ? s.body.body.slice(1) : [];
  let readsHead = false;
  for (const r of rest) scan(r, (n) => { if (c.locals.has(n)) readsHead = true; }, () => undefined);
  return readsHead ? undefined : { block: s, head, rest, ...c, isPrivate };
}

// ---- whole-program facts ----




/** Every local a statement reads or writes, and every block label it defines. */
function scan(root: Stmt, locals: (n: number) => void, labels: (l: number) => void): void {
  const stack: (Stmt | Expr)[] = [root];
  while (stack.length) {
    const x = stack.pop()!;
    if (isStmt(x)) {
      if (x.k === 'setlocal') locals(x.n);
      if (x.k === 'block') labels(x.label);
      forEachStmtPart(x, (s) => stack.push(s), (e) => stack.push(e));
    } else {
      if (x.k === 'local') locals(x.n);
      forEachSubExpr(x, (e) => stack.push(e));
    }
  }
}

// ---- the rewrite ----

interface Fresh { local(): number; label(): number }

export function dispatchFlows(p: Program, opts: { minFlows?: number } = {}): Program {
  const minFlows = opts.minFlows ?? MIN_DISPATCH_FLOWS;
  // Which top-level statement each local belongs to (-1: more than one); the largest label.
  const owner = new Map<number, number>();
  let maxLabel = -1;
  const top = p.body.k === 'seq' ? p.body.body : [p.body];
  top.forEach((s, i) => scan(s, (n) => { const o = owner.get(n); owner.set(n, o === undefined || o === i ? i : -1); },
    (l) => { maxLabel = Math.max(maxLabel, l); }));
  let locals = p.locals;
  const fresh: Fresh = { local: () => locals++, label: () => ++maxLabel };

  const out: Stmt[] = [];
  let changed = false;
  let i = 0;
  const candidateAt = (at: number) => candidate(top[at]!, (n) => owner.get(n) === at);
  while (i < top.length) {
    const first = candidateAt(i);
    const ok = (c: Candidate | undefined, at: number): c is Candidate => !!c && [...c.locals].every((n) => owner.get(n) === at);
    if (!ok(first, i)) { out.push(top[i]!); i++; continue; }
    const run: Candidate[] = [first];
    let j = i + 1;
    for (; j < top.length; j++) {
      const c = candidateAt(j);
      if (!ok(c, j) || c.key !== first.key) break;
      run.push(c);
    }
    for (const g of groups(run)) {
      if (g.sites.length && g.flows.length >= minFlows) { out.push(...dispatchGroup(g, fresh)); changed = true; }
      else out.push(...g.flows.map((f) => f.block));
    }
    i = j;
  }
  if (!changed) return p;
  return { ...p, body: { k: 'seq', body: out }, locals };
}

interface Group { flows: Candidate[]; sites: number[]; ks: number[] }

/**
 * Splits a run of same-shaped heads into groups: the placeholders whose constant varies across
 * the run are the sites; each flow must hold one value K at all of them, distinct in its group.
 */
function groups(run: Candidate[]): Group[] {
  const n = run[0]!.consts.length;
  const sites: number[] = [];
  for (let s = 0; s < n; s++) if (run.some((c) => c.consts[s] !== run[0]!.consts[s])) sites.push(s);
  const siteSet = new Set(sites);
  const nested = sites.some((s) => run[0]!.eqs[s]!.inner.some((x) => siteSet.has(x)));
  const kOf = (c: Candidate) => c.consts[sites[0]!]!;
  const uniform = (c: Candidate) => sites.every((s) => c.consts[s] === kOf(c));
  if (!sites.length || nested || !run.every(uniform)) return [{ flows: run, sites: [], ks: [] }];
  const out: Group[] = [];
  let cur: Group = { flows: [], sites, ks: [] };
  let seen = new Set<number>();
  for (const c of run) {
    if (seen.has(kOf(c))) { out.push(cur); cur = { flows: [], sites, ks: [] }; seen = new Set(); }
    seen.add(kOf(c));
    cur.flows.push(c);
    cur.ks.push(kOf(c));
  }
  out.push(cur);
  return out;
}

const L = (n: number): Expr => ({ k: 'local', n });
const setL = (n: number, value: Expr): Stmt => ({ k: 'setlocal', n, value });
const k = (v: number): Expr => ({ k: 'const', v: v >>> 0 });
const lorAll = (xs: Expr[]): Expr => xs.reduce((a, b) => ({ k: 'lor', a, b }));

function dispatchGroup(g: Group, fresh: Fresh): Stmt[] {
  const template = g.flows[0]!;
  const siteOf = new Map<Expr, number>(g.sites.map((s, j) => [template.eqs[s]!.node, j]));
  // When no flow's head can complete unless the lookup finds it, and the rests are a few
  // programs up to constants, the found flows run shared copies of them; otherwise each rest is kept.
  const shared = mayComplete(template.head, new Set(siteOf.keys())) ? undefined : sharedRests(g.flows);
  const outcome = shared ? undefined : fresh.local();
  const values = g.sites.map(() => fresh.local());
  const met = g.sites.map(() => fresh.local());
  const found = g.sites.map(() => fresh.local());
  const completes = g.sites.map(() => fresh.local());
  const probeLabel = fresh.label();
  const probe = new Probe(template.block.label, probeLabel, siteOf, { values, met }, fresh);
  const body: Stmt[] = [
    ...(outcome !== undefined ? [setL(outcome, k(0))] : []), ...met.map((m) => setL(m, k(0))),
    { k: 'block', label: probeLabel, catchFaults: true, body: { k: 'seq', body: [probe.stmt(template.head), ...(outcome !== undefined ? [setL(outcome, k(1))] : [])] } },
  ];
  // Position of each K, as a table from K (the backend lowers it like a set: one subtraction for consecutive Ks).
  const byK = g.ks.map((kv, pos) => ({ kv, pos })).sort((a, b) => a.kv - b.kv);
  const table = { keys: byK.map((x) => x.kv), values: byK.map((x) => x.pos) };
  // A site whose test, once reached and true, decides that the head completes (`… && port == K`
  // as the last test of a path) gives the answer without running the found flow's head again.
  // Only when every site does: the first true site on a flow's path is the one that decides.
  const decided = g.sites.every((s) => completesWhenTrue(template.head, template.eqs[s]!.node));
  values.forEach((v, j) => {
    body.push(setL(found[j]!, { k: 'cond', c: L(met[j]!), a: { k: 'lookup', e: L(v), ...table }, b: k(NONE) }));
    if (decided) { body.push(setL(completes[j]!, k(1))); return; }
    // The found flow's own head (its K is v_j): does it complete?
    const label = fresh.label();
    const head = new Probe(template.block.label, label, siteOf, { k: L(v) }, fresh).stmt(template.head);
    body.push(setL(completes[j]!, k(0)), {
      k: 'if', cond: { k: 'bin', op: 'ne', a: L(found[j]!), b: k(NONE) },
      then: { k: 'block', label, catchFaults: true, body: { k: 'seq', body: [head, setL(completes[j]!, k(1))] } },
    });
  });
  if (shared) {
    body.push(...inOrder(shared, found, completes, fresh));
    return body;
  }
  const rests = g.flows.map((f): Stmt => ({ ...f.block, body: { k: 'seq', body: f.rest } }));
  body.push(positions(rests, L(outcome!), found.map((q, j) => ({ q: L(q), ok: L(completes[j]!) }))));
  return body;
}

/** One copy of the flows' rests, for the flow whose position is in a local. */
type SharedRest = (position: number, fresh: Fresh) => Stmt[];

/** A rest's shape (template.ts), the values of its slots and which slots are state word indexes. */
interface RestShape { key: string; slots: number[]; isState: boolean[] }

function restShape(f: Candidate): RestShape {
  const slots: number[] = [], isState: boolean[] = [];
  const keep = (state: boolean) => (_slot: number, v: number) => { slots.push(v); isState.push(state); return undefined; };
  const t = new Templater(f.block.label, f.isPrivate, { konst: keep(false), state: keep(true) });
  f.rest.forEach((r) => t.stmt(r));
  return { key: t.key, slots, isState };
}

/**
 * The group's rests as at most MAX_SHARED_KINDS programs up to constants (sharedRest), one per
 * kind of rest: the flow at position q runs the copy of its kind (kindOf). Undefined for more
 * kinds than that.
 */
function sharedRests(flows: readonly Candidate[]): SharedRest | undefined {
  const shapes = flows.map(restShape);
  const kinds = new Map<string, number[]>();   // shape key -> positions of its flows, ascending
  shapes.forEach((x, q) => { const ps = kinds.get(x.key); if (ps) ps.push(q); else kinds.set(x.key, [q]); });
  if (kinds.size > MAX_SHARED_KINDS) return undefined;
  const byKind = [...kinds.values()].map((ps) => sharedRest(ps.map((q) => flows[q]!), ps.map((q) => shapes[q]!), ps));
  if (byKind.length === 1) return byKind[0]!;
  const kindAt = new Array<number>(flows.length);
  [...kinds.values()].forEach((ps, kind) => ps.forEach((q) => { kindAt[q] = kind; }));
  return (q, fresh) => {
    const kind = fresh.local();
    const pick = byKind.reduceRight<Stmt | undefined>((els, run, i) => {
      const body: Stmt = { k: 'seq', body: run(q, fresh) };
      return els ? { k: 'if', cond: { k: 'bin', op: 'eq', a: L(kind), b: k(i) }, then: body, else: els } : body;
    }, undefined)!;
    return [setL(kind, kindOf(L(q), kindAt)), pick];
  };
}

/**
 * kinds[q] for the position in `q` (0 <= q < kinds.length): compares against the starts of its
 * runs when there are few (blocks of flows of one kind), else a short table from q mod p when
 * the kinds repeat with period p (alternating kinds), else a table from q.
 */
export function kindOf(q: Expr, kinds: readonly number[]): Expr {
  const runs: { start: number; kind: number }[] = [];
  kinds.forEach((kind, i) => { if (i === 0 || kind !== kinds[i - 1]) runs.push({ start: i, kind }); });
  if (runs.length <= 16) {
    const tree = (from: number, to: number): Expr => {
      if (to - from === 1) return k(runs[from]!.kind);
      const mid = (from + to) >>> 1;
      return { k: 'cond', c: { k: 'bin', op: 'lt', a: q, b: k(runs[mid]!.start) }, a: tree(from, mid), b: tree(mid, to) };
    };
    return tree(0, runs.length);
  }
  const table = (e: Expr, n: number): Expr => ({ k: 'lookup', e, keys: kinds.slice(0, n).map((_, i) => i), values: kinds.slice(0, n) });
  for (let p = 2; p <= 16; p++) {
    if (kinds.every((kind, i) => kind === kinds[i % p])) return table({ k: 'bin', op: 'mod', a: q, b: k(p) }, p);
  }
  return table(q, kinds.length);
}

/**
 * Rests of one shape, of the flows at `positions` (ascending), as one program whose varying
 * constants and state words are computed from the flow's position q: `base + q * step` when
 * they step evenly with the position (a counter's words, flow after flow), else a table from q.
 */
function sharedRest(flows: readonly Candidate[], shapes: readonly RestShape[], positions: readonly number[]): SharedRest {
  const varying = new Map<number, number[]>();
  shapes[0]!.slots.forEach((_, slot) => {
    const vs = shapes.map((x) => x.slots[slot]!);
    if (vs.some((v) => v !== vs[0])) varying.set(slot, vs);
  });
  const first = flows[0]!;
  return (q, fresh) => {
    const pre: Stmt[] = [];
    const byStep = new Map<number, number>();
    const computed = new Map<number, { base: number; at: Expr }>();
    for (const [slot, vs] of varying) {
      const even = evenStep(vs, positions, shapes[0]!.isState[slot]!);
      if (even) {
        let l = byStep.get(even.step);
        if (l === undefined) {
          l = fresh.local();
          byStep.set(even.step, l);
          pre.push(setL(l, { k: 'bin', op: 'mul', a: L(q), b: k(even.step) }));
        }
        computed.set(slot, { base: even.base, at: L(l) });
      } else {
        const l = fresh.local();
        pre.push(setL(l, { k: 'lookup', e: L(q), keys: [...positions], values: vs }));
        computed.set(slot, { base: 0, at: L(l) });
      }
    }
    const labels = new Map<number, number>();
    const label = (l: number) => {
      let x = labels.get(l);
      if (x === undefined) { x = fresh.label(); labels.set(l, x); }
      return x;
    };
    const t = new Templater(first.block.label, first.isPrivate, {
      konst: (slot) => {
        const x = computed.get(slot);
        return x && (x.base === 0 ? x.at : { k: 'bin', op: 'add', a: k(x.base), b: x.at });
      },
      state: (slot) => { const x = computed.get(slot); return x && { i: x.base, at: x.at }; },
      label,
    });
    const rest = first.rest.map((r) => t.stmt(r));
    // Each copy starts as a flow block did: its private locals zero.
    const zero = t.privateLocals.map((n) => setL(n, k(0)));
    return [...pre, ...zero, { k: 'block', label: label(first.block.label), catchFaults: true, body: { k: 'seq', body: rest } }];
  };
}

/**
 * values[i] = base + positions[i] * step for all i (u32 arithmetic), or undefined. A state word
 * index also needs base >= 0: S[base + at] names a word only from a base inside the state.
 */
function evenStep(values: readonly number[], positions: readonly number[], isState: boolean): { base: number; step: number } | undefined {
  const d = (values[1]! - values[0]!) | 0, dp = positions[1]! - positions[0]!;
  if (d % dp !== 0) return undefined;
  const step = d / dp;
  if (!values.every((v, i) => ((v - values[0]!) >>> 0) === (Math.imul(positions[i]! - positions[0]!, step) >>> 0))) return undefined;
  const base = values[0]! - positions[0]! * step;
  if (isState && base < 0) return undefined;
  return { base: base >>> 0, step: step >>> 0 };
}

/**
 * Runs the shared rest for each flow found at a site whose head completes, in flow order and
 * once per flow (two sites may find the same flow): round r picks the smallest position above
 * the last one run.
 */
function inOrder(shared: SharedRest, found: readonly number[], completes: readonly number[], fresh: Fresh): Stmt[] {
  const last = fresh.local(), next = fresh.local();
  const plus1 = (q: number): Expr => ({ k: 'bin', op: 'add', a: L(q), b: k(1) });
  const round = (r: number): Stmt[] => {
    const pick: Stmt[] = found.map((q, j) => ({
      k: 'if',
      cond: { k: 'land', a: L(completes[j]!), b: { k: 'land', a: { k: 'bin', op: 'gt', a: plus1(q), b: L(last) }, b: { k: 'bin', op: 'lt', a: plus1(q), b: L(next) } } },
      then: setL(next, plus1(q)),
    }));
    const q = fresh.local();
    const run: Stmt[] = [setL(last, L(next)), setL(q, { k: 'bin', op: 'sub', a: L(next), b: k(1) }), ...shared(q, fresh), ...(r + 1 < found.length ? round(r + 1) : [])];
    return [setL(next, k(NONE)), ...pick, { k: 'if', cond: { k: 'bin', op: 'ne', a: L(next), b: k(NONE) }, then: { k: 'seq', body: run } }];
  };
  return [setL(last, k(0)), ...round(0)];
}

/**
 * Runs, in order, the block at each position i whose head completes: i = q with ok for some
 * found flow, or i found by none when `others` (the probe completed).
 */
function positions(blocks: readonly Stmt[], others: Expr, found: readonly { q: Expr; ok: Expr }[], from = 0, to = blocks.length): Stmt {
  const land = (a: Expr, b: Expr): Expr => ({ k: 'land', a, b });
  if (to - from === 1) {
    const at = (q: Expr): Expr => ({ k: 'bin', op: 'eq', a: q, b: k(from) });
    const notFound = found.reduce<Expr>((e, f) => land(e, { k: 'lnot', a: at(f.q) }), others);
    return { k: 'if', cond: lorAll([notFound, ...found.map((f) => land(at(f.q), f.ok))]), then: blocks[from]! };
  }
  // from <= q < to as one unsigned comparison (NONE is never in range).
  const inRange = (q: Expr): Expr => ({ k: 'bin', op: 'lt', a: from === 0 ? q : { k: 'bin', op: 'sub', a: q, b: k(from) }, b: k(to - from) });
  const cond = lorAll([others, ...found.map((f) => land(inRange(f.q), f.ok))]);
  const mid = (from + to) >>> 1;
  return { k: 'if', cond, then: { k: 'seq', body: [positions(blocks, others, found, from, mid), positions(blocks, others, found, mid, to)] } };
}

/**
 * The probe: a head rewritten into statements so that each site can record the value it meets.
 * Expressions that contain a site are evaluated step by step into fresh locals, in the IR's
 * order (operands left to right, short-circuits and `cond` arms as branches); the rest stay
 * expressions. Leaving the flow becomes leaving the probe block.
 */
class Probe {
  private readonly labels = new Map<number, number>();
  private readonly locals = new Map<number, number>();
  private readonly siteFree = new WeakMap<Expr, boolean>();

  /**
   * `mode`: record what each site meets (locals values[j], met[j]) taking its test as false, or
   * evaluate the head for one K (a site `e == K` becomes `e == k`).
   */
  constructor(flowLabel: number, probeLabel: number, private readonly siteOf: ReadonlyMap<Expr, number>,
    private readonly mode: { values: readonly number[]; met: readonly number[] } | { k: Expr }, private readonly fresh: Fresh) {
    this.labels.set(flowLabel, probeLabel);
  }

  private local(n: number): number {
    let m = this.locals.get(n);
    if (m === undefined) { m = this.fresh.local(); this.locals.set(n, m); }
    return m;
  }

  private free(e: Expr): boolean {
    if ('k' in this.mode) return true;   // no site records anything: plain expressions all through
    let f = this.siteFree.get(e);
    if (f === undefined) {
      f = !this.siteOf.has(e);
      if (f) forEachSubExpr(e, (x) => { if (!this.free(x)) f = false; });
      this.siteFree.set(e, f);
    }
    return f;
  }

  /** A site-free expression with the head's locals renamed. */
  private plain(e: Expr): Expr {
    switch (e.k) {
      case 'local': return { k: 'local', n: this.local(e.n) };
      case 'const': case 'meta': case 'field': case 'reg': case 'state': return e;
      case 'mem': return { k: 'mem', index: this.plain(e.index) };
      case 'load': return { k: 'load', off: this.plain(e.off), size: e.size };
      case 'bin': {
        if ('k' in this.mode && this.siteOf.has(e)) {
          return e.a.k === 'const' ? { k: 'bin', op: 'eq', a: this.mode.k, b: this.plain(e.b) } : { k: 'bin', op: 'eq', a: this.plain(e.a), b: this.mode.k };
        }
        return { k: 'bin', op: e.op, a: this.plain(e.a), b: this.plain(e.b) };
      }
      case 'neg': case 'bnot': case 'lnot': return { k: e.k, a: this.plain(e.a) };
      case 'land': case 'lor': return { k: e.k, a: this.plain(e.a), b: this.plain(e.b) };
      case 'cond': return { k: 'cond', c: this.plain(e.c), a: this.plain(e.a), b: this.plain(e.b) };
      case 'hash': return { k: 'hash', off: this.plain(e.off), len: this.plain(e.len), range: this.plain(e.range) };
      case 'extern': return { k: 'extern', id: e.id, args: e.args.map((a) => this.plain(a)) };
      case 'inset': return { k: 'inset', e: this.plain(e.e), set: e.set };
      case 'search': return { k: 'search', from: this.plain(e.from), to: this.plain(e.to), patterns: e.patterns };
    }
    throw new Error(`internal: unknown expression ${(e as Expr).k}`);
  }

  /** Statements leaving e's value in local `t` (written last, after every read). */
  private into(e: Expr, t: number): Stmt[] {
    if (this.free(e)) return [setL(t, this.plain(e))];
    const site = this.siteOf.get(e);
    if (site !== undefined && 'met' in this.mode) {
      const other = constOf(e as Eq)!.other;
      return [setL(this.mode.values[site]!, this.plain(other)), setL(this.mode.met[site]!, k(1)), setL(t, k(0))];
    }
    const operand = (x: Expr): { pre: Stmt[]; v: Expr } => {
      if (this.free(x)) return { pre: [], v: this.plain(x) };
      const tx = this.fresh.local();
      return { pre: this.into(x, tx), v: L(tx) };
    };
    const truth = (x: Expr): Expr => ({ k: 'bin', op: 'ne', a: x, b: k(0) });
    switch (e.k) {
      case 'bin': {
        if (this.free(e.b)) {
          const a = operand(e.a);
          return [...a.pre, setL(t, { k: 'bin', op: e.op, a: a.v, b: this.plain(e.b) })];
        }
        // b computes in steps: a's value must be taken before them (operands run left to right).
        const ta = this.fresh.local();
        const b = operand(e.b);
        return [...this.into(e.a, ta), ...b.pre, setL(t, { k: 'bin', op: e.op, a: L(ta), b: b.v })];
      }
      case 'neg': case 'bnot': case 'lnot': {
        const a = operand(e.a);
        return [...a.pre, setL(t, { k: e.k, a: a.v })];
      }
      case 'land': case 'lor': {
        const a = operand(e.a);
        const b = operand(e.b);
        const evalB: Stmt = { k: 'seq', body: [...b.pre, setL(t, truth(b.v))] };
        const short = setL(t, k(e.k === 'land' ? 0 : 1));
        return [...a.pre, e.k === 'land' ? { k: 'if', cond: a.v, then: evalB, else: short } : { k: 'if', cond: a.v, then: short, else: evalB }];
      }
      case 'cond': {
        const c = operand(e.c);
        return [...c.pre, { k: 'if', cond: c.v, then: { k: 'seq', body: this.into(e.a, t) }, else: { k: 'seq', body: this.into(e.b, t) } }];
      }
      case 'load': {
        const off = operand(e.off);
        return [...off.pre, setL(t, { k: 'load', off: off.v, size: e.size })];
      }
      case 'hash': {
        // Three operands in order: each one computed into a local before the next.
        const parts = [e.off, e.len, e.range].map((x) => {
          const tx = this.fresh.local();
          return { pre: this.into(x, tx), v: L(tx) };
        });
        return [...parts.flatMap((p) => p.pre), setL(t, { k: 'hash', off: parts[0]!.v, len: parts[1]!.v, range: parts[2]!.v })];
      }
      case 'inset': {
        const x = operand(e.e);
        return [...x.pre, setL(t, { k: 'inset', e: x.v, set: e.set })];
      }
      case 'search': {
        const tf = this.fresh.local();
        const to = operand(e.to);
        return [...this.into(e.from, tf), ...to.pre, setL(t, { k: 'search', from: L(tf), to: to.v, patterns: e.patterns })];
      }
      default:
        throw new Error(`internal: ${e.k} cannot contain a dispatch site`);
    }
  }

  stmt(s: Stmt): Stmt {
    switch (s.k) {
      case 'seq': return { k: 'seq', body: s.body.map((b) => this.stmt(b)) };
      case 'if': {
        const rest = (cond: Expr): Stmt => (s.else
          ? { k: 'if', cond, then: this.stmt(s.then), else: this.stmt(s.else) }
          : { k: 'if', cond, then: this.stmt(s.then) });
        if (this.free(s.cond)) return rest(this.plain(s.cond));
        const t = this.fresh.local();
        return { k: 'seq', body: [...this.into(s.cond, t), rest(L(t))] };
      }
      case 'block': {
        const label = this.fresh.label();
        this.labels.set(s.label, label);
        return { k: 'block', label, body: this.stmt(s.body), ...(s.catchFaults ? { catchFaults: true } : {}) };
      }
      case 'exit': return { k: 'exit', label: this.labels.get(s.label)! };
      case 'setlocal': {
        const n = this.local(s.n);
        if (this.free(s.value)) return setL(n, this.plain(s.value));
        const t = this.fresh.local();
        return { k: 'seq', body: [...this.into(s.value, t), setL(n, L(t))] };
      }
      case 'eval': return this.free(s.e) ? { k: 'eval', e: this.plain(s.e) } : { k: 'seq', body: this.into(s.e, this.fresh.local()) };
      default: throw new Error(`internal: ${s.k} in a probed head`);
    }
  }
}

export const dispatchPass: Pass = {
  name: 'dispatch',
  run: (p) => dispatchFlows(p),
  doc: `runs of flow blocks (${MIN_DISPATCH_FLOWS} or more) whose heads differ by one constant dispatch through a table lookup`,
};
