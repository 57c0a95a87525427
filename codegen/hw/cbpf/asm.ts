/**
 * A classic BPF assembler with symbolic forward labels: the emitter (emit.ts) writes
 * instructions and jumps to labels; `assemble` lays them out as `struct sock_filter` words.
 *
 * Layout does what the 8-bit jt/jf fields force: a conditional jump whose target lies more
 * than 255 instructions ahead goes through a trampoline placed right after it — a copy of the
 * target when the target is a `ret`, else a `ja` (whose offset is 32 bits) — shared by later
 * far jumps to the same target while it stays in their range. Inserting trampolines moves
 * other targets further away, so layout repeats until every jump fits.
 *
 * While emitting, the assembler tracks what A and X are known to hold (a key naming a pure
 * packet expression) across straight-line code and forward jumps: at a label the knowledge
 * is what every incoming edge agrees on. The emitter uses it to skip reloading a value A or X
 * already holds — what libpcap's optimizer does for `ldh [12]` repeated in a chain of tests.
 */
import { BPF_JA, BPF_JMP, BPF_RET, bpfClass } from '../../../lang/cbpf/opcodes.js';

export interface CbpfInsn { code: number; jt: number; jf: number; k: number }

/**
 * What A and X hold, as keys of pure expressions (undefined: unknown), and what is known of
 * A's value: equal to a constant, or unequal to some (the two sides of a `jeq #k`).
 */
export interface RegState {
  a?: string; x?: string; aEq?: number; aNe?: readonly number[];
  /** What the tests on every path here say of pure expressions' values, by key. */
  facts?: ReadonlyMap<string, Fact>;
}

/** A value known to be one of `in`, or none of `notIn`. */
export interface Fact { in?: readonly number[]; notIn?: readonly number[] }

const MAX_FACT_VALUES = 16;
const MAX_FACTS = 64;

/** Whether a fact rules out the value v. */
export const excludes = (f: Fact, v: number): boolean => (f.in ? !f.in.includes(v) : !!f.notIn?.includes(v));

/** The fact the given ones all imply (undefined: nothing is known on every path). */
function joinFacts(fs: readonly Fact[]): Fact | undefined {
  if (fs.every((f) => f.in)) {
    const all = [...new Set(fs.flatMap((f) => f.in!))];
    return all.length <= MAX_FACT_VALUES ? { in: all } : undefined;
  }
  const candidates = [...new Set(fs.flatMap((f) => f.notIn ?? []))];
  const notIn = candidates.filter((v) => fs.every((f) => excludes(f, v)));
  return notIn.length ? { notIn: notIn.slice(-MAX_FACT_VALUES) } : undefined;
}

/** Adds what a test learnt of `key` to the facts. */
export function withFact(facts: ReadonlyMap<string, Fact> | undefined, key: string, f: Fact): ReadonlyMap<string, Fact> {
  const m = new Map(facts);
  const old = m.get(key);
  let next: Fact = f;
  if (old && f.notIn) {
    next = old.in ? { in: old.in.filter((v) => !f.notIn!.includes(v)) } : { notIn: [...new Set([...(old.notIn ?? []), ...f.notIn])].slice(-MAX_FACT_VALUES) };
  }
  m.delete(key);
  m.set(key, next);
  if (m.size > MAX_FACTS) m.delete(m.keys().next().value!);
  return m;
}

function joinAllFacts(states: readonly RegState[]): ReadonlyMap<string, Fact> | undefined {
  const first = states[0]!.facts;
  if (!first) return undefined;
  const out = new Map<string, Fact>();
  for (const key of first.keys()) {
    const fs = states.map((s) => s.facts?.get(key));
    if (fs.some((f) => f === undefined)) continue;
    const j = joinFacts(fs as Fact[]);
    if (j) out.set(key, j);
  }
  return out.size ? out : undefined;
}

/** A jump into a label: the register knowledge it carries, and which field of which jump it is. */
interface Edge { regs: RegState; node: Node; side: 'jt' | 'jf' }

export class Label {
  /** The jumps to the label so far. */
  edges: Edge[] = [];
  node?: Node;
  bound = false;
  get incoming(): RegState[] { return this.edges.map((e) => e.regs); }
}

/** An instruction before layout; jumps name their targets as nodes. */
interface Node {
  code: number;
  k: number;
  jt?: Label;
  jf?: Label;
  note?: string;
}

const JA = BPF_JMP | BPF_JA;
export const MAX_JUMP = 255;

export class Assembler {
  private readonly nodes: Node[] = [];
  /** Labels bound since the last instruction: they name the next one. */
  private pending: Label[] = [];
  private live = true;
  private note: string | undefined;
  regs: RegState = {};

  /** False after a ret or a jump, until a label something jumps to is bound. */
  get reachable(): boolean { return this.live; }

  /** A comment for the next instruction emitted (the text listing shows it). */
  comment(text: string): void { if (this.live && this.note === undefined) this.note = text; }

  /** A straight-line instruction. `regs` is the register knowledge after it. */
  op(code: number, k: number, regs: RegState): void {
    if (!this.live) return;
    this.push({ code, k });
    this.regs = regs;
  }

  ret(code: number, k: number): void {
    if (!this.live) return;
    this.push({ code, k });
    this.live = false;
  }

  ja(target: Label): void {
    if (!this.live) return;
    const node: Node = { code: JA, k: 0, jt: target };
    this.edge(target, this.regs, node, 'jt');
    this.push(node);
    this.live = false;
  }

  /** A conditional jump (`code` holds the operation and source bits). */
  jump(code: number, k: number, jt: Label, jf: Label, tRegs = this.regs, fRegs = this.regs): void {
    if (!this.live) return;
    if (jt === jf) return this.ja(jt);
    const node: Node = { code, k, jt, jf };
    this.edge(jt, tRegs, node, 'jt');
    this.edge(jf, fRegs, node, 'jf');
    this.push(node);
    this.live = false;
  }

  /**
   * Sends the jumps into `from` for which `decide` (given what each knows) names another,
   * still unbound label straight there: how a test that an incoming path has already
   * answered is skipped on that path only.
   */
  retarget(from: Label, decide: (regs: RegState) => Label | undefined): void {
    const keep: Edge[] = [];
    for (const e of from.edges) {
      const to = decide(e.regs);
      if (to && to !== from && !to.bound) {
        e.node[e.side] = to;
        to.edges.push(e);
      } else keep.push(e);
    }
    from.edges = keep;
  }

  bind(label: Label): void {
    if (label.bound) throw new Error('label bound twice');
    label.bound = true;
    const states = this.live ? [this.regs, ...label.incoming] : label.incoming;
    if (states.length === 0) return;   // nothing reaches it
    this.live = true;
    const first = states[0]!;
    const ne = first.aNe?.filter((v) => states.every((s) => s.aNe?.includes(v) || (s.aEq !== undefined && s.aEq !== v)));
    this.regs = {
      a: states.every((s) => s.a === first.a) ? first.a : undefined,
      x: states.every((s) => s.x === first.x) ? first.x : undefined,
      ...(states.every((s) => s.aEq !== undefined && s.aEq === first.aEq) ? { aEq: first.aEq } : {}),
      ...(ne?.length ? { aNe: ne } : {}),
    };
    const facts = joinAllFacts(states);
    if (facts) this.regs.facts = facts;
    this.pending.push(label);
  }

  private edge(target: Label, regs: RegState, node: Node, side: 'jt' | 'jf'): void {
    if (target.bound) throw new Error('classic BPF jumps only forward: jump to a label already bound');
    target.edges.push({ regs, node, side });
  }

  private push(n: Node): void {
    if (this.note !== undefined) { n.note = this.note; this.note = undefined; }
    for (const l of this.pending) l.node = n;
    this.pending = [];
    this.nodes.push(n);
  }

  /** Puts straight-line instructions before everything emitted so far (no jump can target them). */
  prepend(ops: readonly { code: number; k: number; note?: string }[]): void {
    this.nodes.unshift(...ops.map((o) => ({ ...o })));
  }

  /** Instructions emitted so far (before trampolines). */
  get size(): number { return this.nodes.length; }

  /**
   * Lays the program out. Every label jumped to must have been bound and followed by an
   * instruction (the emitter ends every path with a ret).
   */
  assemble(): { insns: CbpfInsn[]; notes: (string | undefined)[]; trampolines: number } {
    if (this.live) throw new Error('the program can fall off its end');
    const target = (l: Label): Node => {
      if (!l.node) throw new Error('jump to a label that names no instruction');
      // Thread jumps through unconditional jumps.
      let n = l.node;
      for (let hops = 0; n.code === JA && n.jt && hops < 64; hops++) n = n.jt.node!;
      return n;
    };
    type Out = { code: number; k: number; note?: string };
    // Resolve labels to nodes, then work on a list whose jumps point at list entries.
    let list: Out[] = [];
    const outOf = new Map<Node, Out>();
    for (const n of this.nodes) {
      const o: Out = { code: n.code, k: n.k, ...(n.note !== undefined ? { note: n.note } : {}) };
      outOf.set(n, o);
      list.push(o);
    }
    const targetOf = new Map<Out, { t?: Out; f?: Out }>();
    for (const n of this.nodes) {
      const o = outOf.get(n)!;
      targetOf.set(o, { ...(n.jt ? { t: outOf.get(target(n.jt))! } : {}), ...(n.jf ? { f: outOf.get(target(n.jf))! } : {}) });
    }
    // Drop `ja` to the very next instruction and unreachable code, keeping order.
    list = prune(list, targetOf);
    let trampolines = 0;
    for (let round = 0; ; round++) {
      if (round > 64) throw new Error('jump layout did not settle');
      const pos = new Map<Out, number>();
      list.forEach((o, i) => pos.set(o, i));
      // For each target, the trampolines to it (positions ascending, this round's numbering).
      const near = new Map<Out, Out[]>();
      const inserts = new Map<number, Out[]>();   // after position p: new trampolines
      let changed = false;
      for (let p = list.length - 1; p >= 0; p--) {
        const o = list[p]!;
        if (o.code === JA || bpfClass(o.code) !== BPF_JMP) continue;
        const tg = targetOf.get(o)!;
        for (const side of ['t', 'f'] as const) {
          const t = tg[side]!;
          const tp = pos.get(t)!;
          if (tp - p - 1 <= MAX_JUMP) continue;
          // An existing trampoline to t in range (with slack for insertions this round)?
          const reuse = (near.get(t) ?? []).find((tr) => { const q = pos.get(tr); return q !== undefined && q > p && q - p - 1 <= MAX_JUMP - 16; });
          if (reuse) { tg[side] = reuse; continue; }
          const isRet = bpfClass(t.code) === BPF_RET;
          const tr: Out = { code: isRet ? t.code : JA, k: isRet ? t.k : 0 };
          targetOf.set(tr, isRet ? {} : { t });
          const at = inserts.get(p) ?? [];
          at.push(tr);
          inserts.set(p, at);
          // Until positions are recomputed, give it p's position plus a little, for reuse checks.
          pos.set(tr, p + at.length);
          near.set(t, [...(near.get(t) ?? []), tr]);
          if (isRet) near.set(tr, near.get(t)!);
          tg[side] = tr;
          trampolines++;
          changed = true;
        }
      }
      if (!changed) break;
      const next: Out[] = [];
      list.forEach((o, i) => { next.push(o); next.push(...(inserts.get(i) ?? [])); });
      list = next;
    }
    const pos = new Map<Out, number>();
    list.forEach((o, i) => pos.set(o, i));
    const insns = list.map((o, i): CbpfInsn => {
      const tg = targetOf.get(o) ?? {};
      if (o.code === JA) return { code: JA, jt: 0, jf: 0, k: pos.get(tg.t!)! - i - 1 };
      if (bpfClass(o.code) === BPF_JMP) return { code: o.code, jt: pos.get(tg.t!)! - i - 1, jf: pos.get(tg.f!)! - i - 1, k: o.k >>> 0 };
      return { code: o.code, jt: 0, jf: 0, k: o.k >>> 0 };
    });
    for (const [i, ins] of insns.entries()) {
      if ((ins.code !== JA && bpfClass(ins.code) === BPF_JMP && (ins.jt > MAX_JUMP || ins.jf > MAX_JUMP)) || ins.jt < 0 || ins.jf < 0) {
        throw new Error(`jump at ${i} out of range after layout`);
      }
    }
    return { insns, notes: list.map((o) => o.note), trampolines };
  }
}

/**
 * Removes instructions no path reaches and `ja` to the next instruction (as positions shift,
 * the second may uncover more, so both repeat until nothing changes).
 */
function prune<T extends { code: number }>(list: T[], targetOf: Map<T, { t?: T; f?: T }>): T[] {
  for (;;) {
    const reached = new Set<T>();
    const idx = new Map<T, number>();
    list.forEach((o, i) => idx.set(o, i));
    for (let i = 0; i < list.length; i++) {
      const o = list[i]!;
      if (i > 0 && !reached.has(o)) continue;
      reached.add(o);
      const tg = targetOf.get(o) ?? {};
      if (tg.t) reached.add(tg.t);
      if (tg.f) reached.add(tg.f);
      if (!tg.t && bpfClass(o.code) !== BPF_RET && i + 1 < list.length) reached.add(list[i + 1]!);
    }
    const kept = list.filter((o, i) => {
      if (!reached.has(o)) return false;
      if (o.code === JA) {
        // A `ja` whose target is the next reached instruction is a fall-through.
        let j = i + 1;
        while (j < list.length && !reached.has(list[j]!)) j++;
        if (list[j] === targetOf.get(o)!.t) return false;
      }
      return true;
    });
    if (kept.length === list.length) return kept;
    // Jumps to a removed `ja` go where it went.
    const keptSet = new Set(kept);
    const via = (t: T | undefined): T | undefined => {
      let n = t;
      while (n && !keptSet.has(n)) n = targetOf.get(n)?.t;
      return n;
    };
    for (const o of kept) {
      const tg = targetOf.get(o);
      if (!tg) continue;
      if (tg.t) tg.t = via(tg.t)!;
      if (tg.f) tg.f = via(tg.f)!;
    }
    list = kept;
  }
}
