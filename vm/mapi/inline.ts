/**
 * Inlining a compiled filter program (libpcap expression, FPL) as one step of a flow in a
 * device program. The program's names are moved out of the way of every other step:
 * registers R[n] → R[regBase+n], locals L[n] → L[localBase+n], block labels → labelBase+label,
 * M[i] → M[memBase + (i & (memoryCells-1))], S[i] → S[stateBase+i], externs → the device's ids.
 * `return v` becomes "v == 0: leave the flow (exit flowLabel); else: leave the step"; falling
 * off the end (which returns 0) leaves the flow.
 *
 * Faults (a load past the captured bytes, division by zero) leave the enclosing flow block,
 * which catches them (see device.ts): the step gets libpcap's meaning, the packet leaves the flow.
 */
import type { Expr, Extern, Program, Stmt } from '../../lang/ir/ir.js';
import { mapSubExprs, mapSubStmts } from '../../lang/ir/walk.js';

export interface InlineTarget {
  regBase: number;
  localBase: number;
  labelBase: number;
  /** Start of the step's M[] region (a multiple of program.memoryCells); ignored if the program uses no M[]. */
  memBase: number;
  stateBase: number;
  /** The label of the enclosing flow block: the statement that leaves the flow is `exit flowLabel`. */
  flowLabel: number;
  /** The device-program id for one of the program's externs. */
  externId(x: Extern): number;
}

export interface Inlined {
  step: Stmt;
  /** Locals and labels the step uses from localBase / labelBase on. */
  locals: number;
  labels: number;
}

export class InlineError extends Error {}

export function inlineProgram(p: Program, t: InlineTarget): Inlined {
  let maxLabel = -1;
  const findLabels = (s: Stmt): void => {
    switch (s.k) {
      case 'seq': s.body.forEach(findLabels); return;
      case 'if': findLabels(s.then); if (s.else) findLabels(s.else); return;
      case 'for': findLabels(s.body); return;
      case 'block': maxLabel = Math.max(maxLabel, s.label); findLabels(s.body); return;
      default: return;
    }
  };
  findLabels(p.body);
  const stepLabel = t.labelBase + maxLabel + 1;
  const memMask = p.memoryCells - 1;
  const externIds = p.externs.map((x) => t.externId(x));

  const expr = (e: Expr): Expr => {
    switch (e.k) {
      case 'reg': return { k: 'reg', n: t.regBase + e.n };
      case 'local': return { k: 'local', n: t.localBase + e.n };
      case 'state': return e.at ? { k: 'state', i: t.stateBase + e.i, at: expr(e.at) } : { k: 'state', i: t.stateBase + e.i };
      case 'mem': return { k: 'mem', index: memIndex(e.index) };
      case 'extern': {
        const id = externIds[e.id];
        if (id === undefined) throw new InlineError(`extern id ${e.id} is not declared by the program`);
        return { k: 'extern', id, args: e.args.map(expr) };
      }
      default: return mapSubExprs(e, expr);
    }
  };
  const memIndex = (index: Expr): Expr => ({
    k: 'bin', op: 'add', a: { k: 'bin', op: 'and', a: expr(index), b: { k: 'const', v: memMask } }, b: { k: 'const', v: t.memBase >>> 0 },
  });

  const stmt = (s: Stmt): Stmt => {
    switch (s.k) {
      case 'for': return { ...s, reg: t.regBase + s.reg, init: expr(s.init), limit: expr(s.limit), body: stmt(s.body) };
      case 'block': return { ...s, label: t.labelBase + s.label, body: stmt(s.body) };
      case 'exit': return { k: 'exit', label: t.labelBase + s.label };
      case 'return': return { k: 'if', cond: expr(s.value), then: { k: 'exit', label: stepLabel }, else: { k: 'exit', label: t.flowLabel } };
      case 'setreg': return { k: 'setreg', n: t.regBase + s.n, value: expr(s.value) };
      case 'setmem': return { k: 'setmem', index: memIndex(s.index), value: expr(s.value) };
      case 'setlocal': return { k: 'setlocal', n: t.localBase + s.n, value: expr(s.value) };
      case 'setstate': {
        const at = s.at ? { at: expr(s.at) } : {};   // before the value, in evaluation order
        return { k: 'setstate', i: t.stateBase + s.i, ...at, value: expr(s.value) };
      }
      default: return mapSubStmts(s, stmt, expr);   // seq, if, eval, break
    }
  };

  const step: Stmt = { k: 'block', label: stepLabel, body: { k: 'seq', body: [stmt(p.body), { k: 'exit', label: t.flowLabel }] } };
  return { step, locals: p.locals, labels: maxLabel + 2 };
}
