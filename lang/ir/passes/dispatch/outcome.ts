/**
 * Whether a flow's head can complete (reach its end) when some of its tests are known false:
 * the question the dispatch pass asks of a head whose `e == K` tests all fail (no flow's K was
 * met). `tcp dst port K` with its port test false always leaves the flow, so no flow runs
 * unless the lookup finds it; a head like `tcp dst port K or udp` may complete for every K.
 *
 * An abstract evaluation over known constants: each expression is a known u32 or unknown, locals
 * carry known values along paths and meet at joins. Only executions that do not fault matter
 * (a fault leaves the flow, which is not completing), so `x && 0` is 0 even though x might
 * fault. Anything it cannot follow counts as "may complete", so a `false` answer is a proof.
 */
import type { Expr, Stmt } from '../../ir.js';
import { binop } from '../../interp.js';
import { forEachStmtPart, forEachSubExpr, isStmt } from '../../walk.js';

type Env = Map<number, number>;

function meet(a: Env | null, b: Env | null): Env | null {
  if (!a) return b;
  if (!b) return a;
  const out: Env = new Map();
  for (const [n, v] of a) if (b.get(n) === v) out.set(n, v);
  return out;
}

/**
 * False only if no execution of `head` that does not fault falls through its end, given that
 * every node in `falseTests` evaluates to 0 (leaving by `exit flowLabel` is not falling through).
 */
export function mayComplete(head: Stmt, falseTests: ReadonlySet<Expr>): boolean {
  const exits = new Map<number, Env | null>();

  const ev = (e: Expr, env: Env): number | undefined => {
    if (falseTests.has(e)) return 0;
    switch (e.k) {
      case 'const': return e.v >>> 0;
      case 'local': return env.get(e.n);
      case 'land': {
        const a = ev(e.a, env);
        if (a === 0) return 0;
        const b = ev(e.b, env);
        if (b === 0) return 0;
        return a !== undefined && b !== undefined ? 1 : undefined;
      }
      case 'lor': {
        const a = ev(e.a, env);
        if (a !== undefined && a !== 0) return 1;
        const b = ev(e.b, env);
        if (b !== undefined && b !== 0) return 1;
        return a === 0 && b === 0 ? 0 : undefined;
      }
      case 'lnot': {
        const a = ev(e.a, env);
        return a === undefined ? undefined : a === 0 ? 1 : 0;
      }
      case 'cond': {
        const c = ev(e.c, env);
        if (c !== undefined) return ev(c !== 0 ? e.a : e.b, env);
        const a = ev(e.a, env), b = ev(e.b, env);
        return a === b ? a : undefined;
      }
      case 'bin': {
        const a = ev(e.a, env), b = ev(e.b, env);
        return a === undefined || b === undefined ? undefined : binop(e.op, a, b);
      }
      default: return undefined;
    }
  };

  /** The environment after `s` falls through, or null if it cannot; exits are recorded. */
  const run = (s: Stmt, env: Env | null): Env | null => {
    if (!env) return null;
    switch (s.k) {
      case 'seq': {
        let cur: Env | null = env;
        for (const b of s.body) cur = run(b, cur);
        return cur;
      }
      case 'if': {
        const c = ev(s.cond, env);
        const then = c === 0 ? null : run(s.then, new Map(env));
        const other = c !== undefined && c !== 0 ? null : s.else ? run(s.else, new Map(env)) : env;
        return meet(then, other);
      }
      case 'block': {
        exits.set(s.label, null);
        const fall = run(s.body, env);
        let out = meet(fall, exits.get(s.label) ?? null);
        exits.delete(s.label);
        // A fault anywhere inside goes on after the block, knowing nothing of the locals it set.
        if (s.catchFaults) out = meet(out, new Map());
        return out;
      }
      case 'exit': {
        // An exit to the flow's own label (not a block inside the head) is not recorded: it leaves.
        if (exits.has(s.label)) exits.set(s.label, meet(exits.get(s.label)!, env));
        return null;
      }
      case 'setlocal': {
        const v = ev(s.value, env);
        const out = new Map(env);
        if (v === undefined) out.delete(s.n); else out.set(s.n, v);
        return out;
      }
      case 'eval': return env;
      default: return env;   // not in a pure head; "may complete" is the safe answer
    }
  };

  return run(head, new Map()) !== null;
}

type Node = Stmt | Expr;

/** The nodes from `root` down to `target` (both included), or undefined unless it occurs exactly once. */
function pathTo(root: Stmt, target: Expr): Node[] | undefined {
  let found: Node[] | undefined, count = 0;
  const path: Node[] = [];
  const visit = (x: Node): void => {
    path.push(x);
    if (x === target) { count++; found = [...path]; }
    if (isStmt(x)) forEachStmtPart(x, visit, visit); else forEachSubExpr(x, visit);
    path.pop();
  };
  visit(root);
  return count === 1 ? found : undefined;
}

/** An expression that cannot fault (no packet, memory or state reads, no division, no externs). */
function cannotFault(e: Expr): boolean {
  switch (e.k) {
    case 'const': case 'local': case 'meta': return true;
    case 'bin': return e.op !== 'div' && e.op !== 'mod' && cannotFault(e.a) && cannotFault(e.b);
    case 'neg': case 'bnot': case 'lnot': return cannotFault(e.a);
    case 'land': case 'lor': return cannotFault(e.a) && cannotFault(e.b);
    case 'cond': return cannotFault(e.c) && cannotFault(e.a) && cannotFault(e.b);
    default: return false;
  }
}

/** How running a statement ends: it falls through, exits a label, or does what this cannot follow. */
type Ending = 'fall' | 'unknown' | { exit: number };

/** Runs `s` where nothing it does may fault or depend on the packet: a tail of exits and plain assignments. */
function straightEnding(s: Stmt): Ending {
  switch (s.k) {
    case 'seq': {
      for (const b of s.body) {
        const o = straightEnding(b);
        if (o !== 'fall') return o;
      }
      return 'fall';
    }
    case 'exit': return { exit: s.label };
    case 'setlocal': return cannotFault(s.value) ? 'fall' : 'unknown';
    case 'block': {
      const o = straightEnding(s.body);
      return typeof o === 'object' && o.exit === s.label ? 'fall' : o;
    }
    default: return 'unknown';
  }
}

/**
 * True only if every execution of `head` in which `site` (an `eq` test, occurring once) is
 * evaluated and is true falls through the head's end without a fault. The dispatch pass asks
 * it of `tcp dst port K`-like heads: reaching the port test means the tests before it passed,
 * and its being true decides the rest (`… && port == K` inside `(…) || (…)`, then `if (that)
 * exit inner-block else exit flow`), so the found flow's head need not run again.
 *
 * It walks up from the site: in `a && b` reaching b means a was true, so b decides; in `a || b`
 * a true a or b decides; `!`, `c ? k1 : k2` with constant arms and `x != 0` / `x == 0` map the
 * known truth on; the enclosing `if` then picks its branch, and the statements from there to the
 * head's end must be exits and plain assignments. Anything else answers false (run the head).
 */
export function completesWhenTrue(head: Stmt, site: Expr): boolean {
  const path = pathTo(head, site);
  if (!path) return false;
  // The value known so far: an exact u32, or only whether it is non-zero.
  let v: { exact: number } | boolean = { exact: 1 };
  const truthy = (x: typeof v): boolean => (typeof x === 'boolean' ? x : x.exact !== 0);
  let i = path.length - 2;
  for (; i >= 0 && !isStmt(path[i]!); i--) {
    const parent = path[i] as Expr, child = path[i + 1] as Expr;
    switch (parent.k) {
      case 'land':
        if (parent.a === parent.b) return false;
        if (child === parent.a && truthy(v)) return false;   // b runs next: not decided here
        v = { exact: truthy(v) ? 1 : 0 };
        break;
      case 'lor':
        if (parent.a === parent.b) return false;
        if (child === parent.a && !truthy(v)) return false;
        v = { exact: truthy(v) ? 1 : 0 };
        break;
      case 'lnot': v = { exact: truthy(v) ? 0 : 1 }; break;
      case 'cond': {
        if (child !== parent.c) break;   // an arm's value is the cond's value
        const arm: Expr = truthy(v) ? parent.a : parent.b;
        if (arm.k !== 'const') return false;
        v = { exact: arm.v >>> 0 };
        break;
      }
      case 'bin': {
        const other = child === parent.a ? parent.b : parent.a;
        if (parent.a === parent.b || other.k !== 'const' || other.v !== 0 || (parent.op !== 'ne' && parent.op !== 'eq')) return false;
        v = { exact: truthy(v) === (parent.op === 'ne') ? 1 : 0 };
        break;
      }
      default: return false;
    }
  }
  const at = path[i];
  if (!at || at.k !== 'if' || at.cond !== path[i + 1]) return false;
  const branch = truthy(v) ? at.then : at.else;
  let o: Ending = branch ? straightEnding(branch) : 'fall';
  // Finish each enclosing statement in turn, up to the head itself.
  for (; i >= 0; i--) {
    const node = path[i] as Stmt;
    if (node.k === 'block' && typeof o === 'object' && o.exit === node.label) o = 'fall';
    if (o === 'unknown') return false;
    if (o !== 'fall' || i === 0) continue;
    const parent = path[i - 1] as Stmt;
    if (parent.k === 'seq') {
      for (const sib of parent.body.slice(parent.body.indexOf(node) + 1)) {
        o = straightEnding(sib);
        if (o !== 'fall') break;
      }
    } else if (parent.k !== 'if' && parent.k !== 'block') {
      return false;
    }
  }
  return o === 'fall';
}
