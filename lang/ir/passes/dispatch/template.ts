/**
 * Statements that are one program up to constants: N flows with the same chain differ only in
 * the constants of their steps and in where their state lives (PKT_COUNTER's words are S[6..9]
 * for one flow, S[16..19] for the next). A `Templater` walks statements in one fixed order and
 *
 * - builds their shape: every node's kind and attributes, with each constant and each state
 *   word index as a numbered slot, the given block label as "the flow", other labels and the
 *   flow's private locals numbered by first appearance (other locals keep their number);
 * - rebuilds them at the same time, letting the caller replace any slot (a constant by an
 *   expression, S[i] by S[i' + at]) and rename labels.
 *
 * Two statement lists with the same shape differ only in their slots' values, so one copy of
 * them with the varying slots computed from "which flow" (dispatch.ts) does what each did.
 */
import { patternKey, type Expr, type Stmt } from '../../ir.js';
import { mapSubExprs, mapSubStmts } from '../../walk.js';

export interface TemplateHooks {
  /** Slot `slot` holds constant `v`: its replacement, or undefined to keep it. */
  konst?(slot: number, v: number): Expr | undefined;
  /** Slot `slot` holds state word index `i`: the word to use instead (S[i + at]), or undefined. */
  state?(slot: number, i: number): { i: number; at: Expr } | undefined;
  /** The label a block or exit gets in the rebuilt statements (default: unchanged). */
  label?(l: number): number;
}

export class Templater {
  private readonly parts: (string | number)[] = [];
  private slots = 0;
  private readonly labelIds = new Map<number, number>();
  private readonly localIds = new Map<number, number>();
  /** The private locals met, in order of first appearance. */
  readonly privateLocals: number[] = [];

  constructor(flowLabel: number, private readonly isPrivate: (n: number) => boolean, private readonly hooks: TemplateHooks = {}) {
    this.labelIds.set(flowLabel, -1);
  }

  /** The shape of everything walked so far (equal strings: equal programs up to slot values). */
  get key(): string { return JSON.stringify(this.parts); }

  private label(l: number): number {
    let id = this.labelIds.get(l);
    if (id === undefined) { id = this.labelIds.size; this.labelIds.set(l, id); }
    this.parts.push('B', id);
    return this.hooks.label ? this.hooks.label(l) : l;
  }

  private local(n: number): void {
    if (!this.isPrivate(n)) { this.parts.push('L', n); return; }
    let id = this.localIds.get(n);
    if (id === undefined) { id = this.localIds.size; this.localIds.set(n, id); this.privateLocals.push(n); }
    this.parts.push('P', id);
  }

  /** A state word: its slot, and the replacement (an existing `at` is added to the new one, evaluated first). */
  private stateWord(i: number, at: Expr | undefined): { i: number; at?: Expr } {
    const slot = this.slots++;
    this.parts.push('S', at ? 1 : 0);
    const oldAt = at ? this.expr(at) : undefined;
    const r = this.hooks.state?.(slot, i);
    if (!r) return oldAt ? { i, at: oldAt } : { i };
    return { i: r.i, at: oldAt ? { k: 'bin', op: 'add', a: oldAt, b: r.at } : r.at };
  }

  expr(e: Expr): Expr {
    const p = this.parts;
    p.push(e.k);
    switch (e.k) {
      case 'const': {
        const slot = this.slots++;
        return this.hooks.konst?.(slot, e.v) ?? e;
      }
      case 'state': return { k: 'state', ...this.stateWord(e.i, e.at) };
      case 'local': this.local(e.n); return e;
      case 'reg': p.push(e.n); return e;
      case 'meta': p.push(e.m); return e;
      case 'field': p.push(e.name, e.shift ?? 0); return e;
      case 'load': p.push(e.size); break;
      case 'bin': p.push(e.op); break;
      case 'extern': p.push(e.id, e.args.length); break;
      case 'inset': p.push(e.set.join(',')); break;
      case 'lookup': p.push(e.keys.join(','), e.values.join(',')); break;
      case 'search': p.push(e.patterns.map(patternKey).join(',')); break;
      default: break;   // mem, neg, bnot, lnot, land, lor, cond, hash: their operands say the rest
    }
    return mapSubExprs(e, (x) => this.expr(x));
  }

  stmt(s: Stmt): Stmt {
    const p = this.parts;
    p.push(s.k);
    const fe = (x: Expr) => this.expr(x);
    const fs = (x: Stmt) => this.stmt(x);
    switch (s.k) {
      case 'seq': p.push(s.body.length); break;
      case 'if': p.push(s.else ? 1 : 0); break;
      case 'for': p.push(s.reg, s.cmp, s.step); break;
      case 'block': {
        p.push(s.catchFaults ? 1 : 0);
        const label = this.label(s.label);
        return { ...mapSubStmts(s, fs, fe), label } as Stmt;
      }
      case 'exit': return { k: 'exit', label: this.label(s.label) };
      case 'setreg': p.push(s.n); break;
      case 'setlocal': this.local(s.n); break;
      case 'setstate': {
        const w = this.stateWord(s.i, s.at);
        return { k: 'setstate', ...w, value: this.expr(s.value) };
      }
      default: break;   // break, return, setmem, eval
    }
    return mapSubStmts(s, fs, fe);
  }
}
