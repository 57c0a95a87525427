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
import type { Expr, Stmt } from './ir.js';
import { binop } from './interp.js';

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
