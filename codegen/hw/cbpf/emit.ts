/**
 * IR → classic BPF, for stateless programs (libpcap expressions, stateless FPL): the kernel's
 * socket-filter machine (A, X, M[0..15], ≤ 4,096 instructions, forward jumps only) running
 * the IR's semantics exactly, packet for packet, under libpcap's bpf_filter and Linux alike.
 *
 * How IR maps:
 * - control flow (if, block/exit, land/lor/cond, return) becomes forward jumps; conditions are
 *   compiled for their jumps (`jeq`/`jgt`/`jge`/`jset` with swapped targets for ≠, <, ≤), and a
 *   `return c ? a : b` becomes two `ret`s;
 * - loads at a constant offset are `ld [k]`; at base + k (a field over the IPv4 header length,
 *   an expression) the base goes to X — `ldxb 4*([k]&0xf)` for the header length — and the
 *   load is `ld [x + k]`;
 * - IR locals and temporaries share the 16 scratch cells, all zeroed first (the IR zeroes
 *   locals per packet; Linux checks that a cell is stored before it is read).
 *
 * Faults: every IR fault ends the packet with 0 and a stateless program has no other effect,
 * so the order of the operands of one operator does not matter, only short-circuiting does;
 * a load past the captured length and a division by a zero X return 0 in cBPF too. Where the
 * kernel differs from the IR, a guard makes it agree (see profile.ts `faults`).
 *
 * Constructs the machine cannot express give `{ ok: false }` naming the node, for the splitter.
 */
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JEQ, BPF_JGE, BPF_JGT,
  BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MEMWORDS, BPF_MISC, BPF_MOD, BPF_MSH,
  BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_SUB, BPF_TAX, BPF_W, BPF_X, BPF_XOR, BPF_MAXINSNS,
} from '../../../lang/cbpf/opcodes.js';
import { FieldError, lowerField } from '../../../lang/ir/fields.js';
import type { BinOp, Expr, Program, RelOp, Stmt } from '../../../lang/ir/ir.js';
import { rel } from '../../../lang/ir/interp.js';
import { splitOffset } from '../../../lang/ir/offsets.js';
import { printExpr, printStmt } from '../../../lang/ir/print.js';
import { forEachStmtPart, forEachSubExpr } from '../../../lang/ir/walk.js';
import { Assembler, excludes, Label, withFact, type CbpfInsn, type RegState } from './asm.js';
import { CBPF_PROFILE } from './profile.js';

export type { CbpfInsn } from './asm.js';

export type CbpfLowering =
  | {
    ok: true;
    insns: CbpfInsn[];
    /** Per instruction: the source atom its block starts, where known (for the text listing). */
    notes: (string | undefined)[];
    stats: { instructions: number; trampolines: number; scratchCells: number };
  }
  | {
    ok: false;
    /** What cannot be expressed and why. */
    reason: string;
    /** The IR node at fault (the splitter keeps it in software). */
    node: Expr | Stmt | undefined;
    /** The node as IR text (shortened), to point a person at it. */
    where: string;
  };

export interface CbpfOptions {
  /** Instruction limit (default 4,096, Linux's BPF_MAXINSNS; BSD kernels take 512). */
  maxInstructions?: number;
}

/** Thrown inside the emitter, turned into `{ ok: false }` at the top. */
class NotExpressible extends Error {
  constructor(readonly reason: string, readonly node: Expr | Stmt | undefined) { super(reason); }
}

const TWO31 = 0x80000000;
const ALU_OP: Partial<Record<BinOp, number>> = {
  add: BPF_ADD, sub: BPF_SUB, mul: BPF_MUL, div: BPF_DIV, mod: BPF_MOD, and: BPF_AND, or: BPF_OR, xor: BPF_XOR,
  shl: BPF_LSH, shr: BPF_RSH,
};
const COMMUTATIVE = new Set<BinOp>(['add', 'mul', 'and', 'or', 'xor', 'eq', 'ne']);
/** a op b ≡ b flip(op) a */
const FLIP: Record<string, BinOp> = { eq: 'eq', ne: 'ne', lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' };
const SIZE_CODE = { 1: BPF_B, 2: BPF_H, 4: BPF_W } as const;
const MAX_KEY = 160;

const isRel = (op: BinOp) => op === 'eq' || op === 'ne' || op === 'lt' || op === 'le' || op === 'gt' || op === 'ge';
const shorten = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}...` : s);

/** Lowers a program to classic BPF, or says which node it cannot express. */
export function lowerToCbpf(program: Program, opts: CbpfOptions = {}): CbpfLowering {
  const emitter = new Emitter(program);
  try {
    emitter.program();
    const { insns, notes, trampolines } = emitter.asm.assemble();
    const max = opts.maxInstructions ?? BPF_MAXINSNS;
    if (insns.length > max) {
      throw new NotExpressible(`the program needs ${insns.length} classic BPF instructions, more than the ${max} allowed`, program.body);
    }
    return { ok: true, insns, notes, stats: { instructions: insns.length, trampolines, scratchCells: emitter.cellsUsed } };
  } catch (e) {
    if (e instanceof NotExpressible) {
      const where = e.node ? shorten(isStmtNode(e.node) ? printStmt(e.node).trim().split('\n')[0]! : printExpr(e.node)) : '';
      return { ok: false, reason: e.reason, node: e.node, where };
    }
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      return { ok: false, reason: 'the program is nested too deeply to lower', node: undefined, where: '' };
    }
    throw e;
  }
}

const STMT_KINDS = new Set(['seq', 'if', 'for', 'break', 'block', 'exit', 'return', 'setreg', 'setmem', 'setlocal', 'setstate', 'searchall', 'eval']);
const isStmtNode = (n: Expr | Stmt): n is Stmt => STMT_KINDS.has(n.k);

class Emitter {
  readonly asm = new Assembler();
  /** IR local → scratch cell. */
  private readonly cellOf = new Map<number, number>();
  /** Temporaries: cells above the locals, used as a stack. */
  private tempTop = 0;
  private tempBase = 0;
  cellsUsed = 0;
  private readonly blockLabels = new Map<number, Label>();
  private readonly fault = new Label();
  private faultUsed = false;

  constructor(private readonly p: Program) {}

  program(): void {
    const { read } = localUse(this.p.body);
    for (const n of [...read].sort((a, b) => a - b)) this.cellOf.set(n, this.cellOf.size);
    // Locals written but never read need no cell: their stores are dropped.
    if (this.cellOf.size > BPF_MEMWORDS) {
      throw new NotExpressible(`the program reads ${this.cellOf.size} locals; classic BPF has ${BPF_MEMWORDS} scratch cells`, undefined);
    }
    this.tempBase = this.tempTop = this.cellOf.size;
    this.cellsUsed = this.cellOf.size;
    this.stmt(this.p.body);
    this.asm.comment('falling off the end');
    this.asm.ret(BPF_RET | BPF_K, 0);
    if (this.faultUsed) {
      this.asm.bind(this.fault);
      this.asm.comment('fault: the IR ends the packet with 0');
      this.asm.ret(BPF_RET | BPF_K, 0);
    }
    // Every scratch cell the program uses starts at 0: the IR zeroes locals per packet, and
    // Linux's check that a cell is stored before it is read treats the code after a `ret` as
    // reached from the `ret` (so a shared `ret` trampoline would make it reject a program
    // whose reads are all preceded by stores).
    if (this.cellsUsed > 0) {
      const cells = Array.from({ length: this.cellsUsed }, (_, i) => ({ code: BPF_ST, k: i }));
      this.asm.prepend([{ code: BPF_LD | BPF_IMM, k: 0, note: 'scratch cells start at 0' }, ...cells]);
    }
  }

  // ---- statements

  private stmt(s: Stmt): void {
    if (!this.asm.reachable) return;
    switch (s.k) {
      case 'seq':
        for (const b of s.body) this.stmt(b);
        return;
      case 'if': {
        const then = new Label();
        const other = new Label();
        const end = new Label();
        this.cond(s.cond, then, other);
        this.asm.bind(then);
        this.stmt(s.then);
        this.asm.ja(end);
        this.asm.bind(other);
        if (s.else) this.stmt(s.else);
        this.asm.bind(end);
        return;
      }
      case 'block': {
        if (s.catchFaults) throw new NotExpressible('a block that catches faults (one MAPI flow\'s failed step): classic BPF ends the program at a fault', s);
        const end = new Label();
        this.blockLabels.set(s.label, end);
        this.stmt(s.body);
        this.blockLabels.delete(s.label);
        this.asm.bind(end);
        return;
      }
      case 'exit': {
        const l = this.blockLabels.get(s.label);
        if (!l) throw new Error(`exit ${s.label} outside its block`);
        this.asm.ja(l);
        return;
      }
      case 'return': return this.ret(s.value);
      case 'setlocal': {
        const cell = this.cellOf.get(s.n);
        if (cell === undefined) { this.evalForFaults(s.value); return; }   // never read
        this.value(s.value);
        this.asm.op(BPF_ST, cell, this.asm.regs);
        return;
      }
      case 'eval': return this.evalForFaults(s.e);
      default:
        throw new NotExpressible(`${s.k}: ${CBPF_PROFILE.notExpressible[s.k] ?? 'not expressible in classic BPF'}`, s);
    }
  }

  private ret(v: Expr): void {
    if (v.k === 'const') { this.asm.ret(BPF_RET | BPF_K, v.v); return; }
    if (v.k === 'cond') {
      const a = new Label();
      const b = new Label();
      this.cond(v.c, a, b);
      this.asm.bind(a);
      this.ret(v.a);
      this.asm.bind(b);
      this.ret(v.b);
      return;
    }
    if (isBoolean(v)) {
      const t = new Label();
      const f = new Label();
      this.cond(v, t, f);
      this.asm.bind(t);
      this.asm.ret(BPF_RET | BPF_K, 1);
      this.asm.bind(f);
      this.asm.ret(BPF_RET | BPF_K, 0);
      return;
    }
    this.value(v);
    this.asm.ret(BPF_RET | BPF_A, 0);
  }

  /** Evaluates an expression only for its faults (an `eval`, an unread local). */
  private evalForFaults(e: Expr): void {
    this.refuse(e);
    if (!canFault(e)) return;
    // Only the parts that can fault: the operands of operators that cannot.
    if (e.k === 'bin' && !((e.op === 'div' || e.op === 'mod') && !(e.b.k === 'const' && e.b.v !== 0))) {
      this.evalForFaults(e.a);
      this.evalForFaults(e.b);
      return;
    }
    if (e.k === 'neg' || e.k === 'bnot') return this.evalForFaults(e.a);
    this.value(e);
  }

  // ---- conditions: jump to t when e != 0, else to f

  private cond(e: Expr, t: Label, f: Label): void {
    if (!this.asm.reachable) return;
    switch (e.k) {
      case 'const': this.asm.ja(e.v !== 0 ? t : f); return;
      case 'lnot': this.cond(e.a, f, t); return;
      case 'land': {
        const mid = new Label();
        this.cond(e.a, mid, f);
        this.thread(mid, e.b, t, f);
        this.asm.bind(mid);
        this.cond(e.b, t, f);
        return;
      }
      case 'lor': {
        const mid = new Label();
        this.cond(e.a, t, mid);
        this.thread(mid, e.b, t, f);
        this.asm.bind(mid);
        this.cond(e.b, t, f);
        return;
      }
      case 'cond': {
        const a = new Label();
        const b = new Label();
        this.cond(e.c, a, b);
        this.asm.bind(a);
        this.cond(e.a, t, f);
        this.asm.bind(b);
        this.cond(e.b, t, f);
        return;
      }
      case 'inset': {
        this.asm.comment(shorten(printExpr(e)));
        if (e.set.length === 0) { this.evalForFaults(e.e); this.asm.ja(f); return; }
        this.value(e.e);
        e.set.forEach((v, j) => {
          if (j === e.set.length - 1) { this.asm.jump(BPF_JMP | BPF_JEQ | BPF_K, v, t, f); return; }
          const next = new Label();
          this.asm.jump(BPF_JMP | BPF_JEQ | BPF_K, v, t, next);
          this.asm.bind(next);
        });
        return;
      }
      case 'bin':
        if (isRel(e.op)) { this.asm.comment(shorten(printExpr(e))); this.compare(e.op, e.a, e.b, t, f); return; }
        if (e.op === 'and' && e.b.k === 'const') {   // x & k != 0
          this.asm.comment(shorten(printExpr(e)));
          this.value(e.a);
          this.asm.jump(BPF_JMP | BPF_JSET | BPF_K, e.b.v, t, f);
          return;
        }
        break;
      case 'field': {
        const low = this.lowered(e);
        this.cond(low, t, f);
        return;
      }
    }
    this.value(e);
    this.asm.jump(BPF_JMP | BPF_JEQ | BPF_K, 0, f, t);
  }

  /**
   * Before binding `at`, where `next` is compiled to jump to t or f: paths into `at` that
   * already know the outcome of next's leading test go where that outcome leads.
   */
  private thread(at: Label, next: Expr, t: Label, f: Label): void {
    const lead = this.leading(next, t, f);
    if (!lead) return;
    this.asm.retarget(at, (regs) => {
      const fact = regs.facts?.get(lead.key);
      if (!fact) return undefined;
      let outcome: boolean | undefined;
      if (fact.in?.length) {
        const outcomes = new Set(fact.in.map((v) => relConst(lead.op, v, lead.k)));
        if (outcomes.size === 1) outcome = outcomes.has(true);
      } else if ((lead.op === 'eq' || lead.op === 'ne') && excludes(fact, lead.k)) outcome = lead.op === 'ne';
      return outcome === undefined ? undefined : outcome ? lead.yes : lead.no;
    });
  }

  /** The first test `e` makes (`key op k`), and where e's jumps go when it is true or false, where that is fixed. */
  private leading(e: Expr, yes: Label | undefined, no: Label | undefined): { key: string; op: BinOp; k: number; yes?: Label; no?: Label } | undefined {
    switch (e.k) {
      case 'lnot': return this.leading(e.a, no, yes);
      case 'land': return this.leading(e.a, undefined, no);
      case 'lor': return this.leading(e.a, yes, undefined);
      case 'field': return this.leading(this.lowered(e), yes, no);
      case 'bin': {
        if (!isRel(e.op)) return undefined;
        let a = e.a.k === 'field' ? this.lowered(e.a) : e.a;
        let b = e.b.k === 'field' ? this.lowered(e.b) : e.b;
        a = fold(a);
        b = fold(b);
        let op: BinOp = e.op;
        if (a.k === 'const' && b.k !== 'const') { [a, b] = [b, a]; op = FLIP[op]!; }
        if (b.k !== 'const') return undefined;
        const ka = key(a);
        if (ka === undefined) return undefined;
        return { key: ka, op, k: b.v, ...(yes ? { yes } : {}), ...(no ? { no } : {}) };
      }
      default: return undefined;
    }
  }

  /** a op b (unsigned), jumping. */
  private compare(op: BinOp, a: Expr, b: Expr, t: Label, f: Label): void {
    if (a.k === 'field') a = this.lowered(a);
    if (b.k === 'field') b = this.lowered(b);
    a = fold(a);
    b = fold(b);
    if (a.k === 'const' && b.k !== 'const') return this.compare(FLIP[op]!, b, a, t, f);
    // x & k == 0 / != 0: jset
    if ((op === 'eq' || op === 'ne') && b.k === 'const' && b.v === 0 && a.k === 'bin' && a.op === 'and' && a.b.k === 'const') {
      this.value(a.a);
      if (op === 'ne') this.asm.jump(BPF_JMP | BPF_JSET | BPF_K, a.b.v, t, f);
      else this.asm.jump(BPF_JMP | BPF_JSET | BPF_K, a.b.v, f, t);
      return;
    }
    if (b.k === 'const') return this.compareK(op, a, b.v, t, f);
    this.operands(a, b);
    const j = BPF_JMP | BPF_X;
    switch (op) {
      case 'eq': return this.asm.jump(j | BPF_JEQ, 0, t, f);
      case 'ne': return this.asm.jump(j | BPF_JEQ, 0, f, t);
      case 'gt': return this.asm.jump(j | BPF_JGT, 0, t, f);
      case 'ge': return this.asm.jump(j | BPF_JGE, 0, t, f);
      case 'lt': return this.asm.jump(j | BPF_JGE, 0, f, t);
      case 'le': return this.asm.jump(j | BPF_JGT, 0, f, t);
    }
    throw new Error(`not a comparison: ${op}`);
  }

  /**
   * a op k. Decided without a jump when a's range settles it, or when A is known to hold a
   * constant (or not to hold k) on every path here: how a chain of tests on one field
   * skips the tests an earlier one already answered.
   */
  private compareK(op: BinOp, a: Expr, k: number, t: Label, f: Label): void {
    const max = maxValue(a);
    const byRange = op === 'gt' ? (max <= k ? false : undefined) : op === 'ge' ? (max < k ? false : undefined)
      : op === 'lt' ? (max < k ? true : undefined) : op === 'le' ? (max <= k ? true : undefined)
      : max < k ? op === 'ne' : undefined;
    if (byRange !== undefined) {
      this.evalForFaults(a);
      this.asm.ja(byRange ? t : f);
      return;
    }
    // What earlier tests on every path here say of a's value (those tests read a without a
    // fault, and a is pure: no need to read it again).
    const ka = key(a);
    const fact = ka !== undefined ? this.asm.regs.facts?.get(ka) : undefined;
    if (fact?.in?.length) {
      const outcomes = new Set(fact.in.map((v) => relConst(op, v, k)));
      if (outcomes.size === 1) { this.asm.ja(outcomes.has(true) ? t : f); return; }
    }
    if (fact && (op === 'eq' || op === 'ne') && excludes(fact, k)) { this.asm.ja(op === 'ne' ? t : f); return; }
    this.value(a);
    const { aEq, aNe } = this.asm.regs;
    if (aEq !== undefined) { this.asm.ja(relConst(op, aEq, k) ? t : f); return; }
    if ((op === 'eq' || op === 'ne') && aNe?.includes(k)) { this.asm.ja(op === 'ne' ? t : f); return; }
    const regs = this.asm.regs;
    const equal: RegState = { ...regs, aEq: k, aNe: undefined, ...(ka !== undefined ? { facts: withFact(regs.facts, ka, { in: [k] }) } : {}) };
    const unequal: RegState = { ...regs, aNe: [...(regs.aNe ?? []), k].slice(-32), ...(ka !== undefined ? { facts: withFact(regs.facts, ka, { notIn: [k] }) } : {}) };
    const j = BPF_JMP | BPF_K;
    switch (op) {
      case 'eq': return this.asm.jump(j | BPF_JEQ, k, t, f, equal, unequal);
      case 'ne': return this.asm.jump(j | BPF_JEQ, k, f, t, equal, unequal);
      case 'gt': return this.asm.jump(j | BPF_JGT, k, t, f);
      case 'ge': return this.asm.jump(j | BPF_JGE, k, t, f);
      case 'lt': return this.asm.jump(j | BPF_JGE, k, f, t);
      case 'le': return this.asm.jump(j | BPF_JGT, k, f, t);
    }
    throw new Error(`not a comparison: ${op}`);
  }

  /** Leaves a in A and b in X (b is not a constant). */
  private operands(a: Expr, b: Expr): void {
    if (this.directX(b)) {
      this.value(a);
      this.loadX(b);
    } else if (xSafe(a)) {
      this.loadX(b);
      this.value(a);
    } else {
      this.value(b);
      const cell = this.pushTemp(b);
      this.value(a);
      this.asm.op(BPF_LDX | BPF_MEM, cell, this.xIs(key(b)));
      this.popTemp();
    }
  }

  // ---- values: leave e in A

  private value(e: Expr): void {
    if (!this.asm.reachable) return;
    const ek = key(e);
    if (ek !== undefined && this.asm.regs.a === ek) return;
    switch (e.k) {
      case 'const': this.ldImm(e.v); return;
      case 'local': {
        const cell = this.cellOf.get(e.n);
        if (cell === undefined) throw new Error(`local ${e.n} read but not counted`);
        this.asm.op(BPF_LD | BPF_MEM, cell, this.aIs(undefined));
        return;
      }
      case 'meta':
        if (e.m !== 'wirelen') {
          throw new NotExpressible(`meta ${e.m}: classic BPF reads the wire length only (\`ld len\`), not the captured length or timestamps`, e);
        }
        this.asm.op(BPF_LD | BPF_W | BPF_LEN, 0, this.aIs(ek));
        return;
      case 'load': return this.load(e);
      case 'field': return this.value(this.lowered(e));
      case 'bin':
        if (isRel(e.op)) break;
        return this.arith(e);
      case 'neg':
        this.value(e.a);
        this.asm.op(BPF_ALU | BPF_NEG, 0, this.aIs(ek));
        return;
      case 'bnot':
        this.value(e.a);
        this.asm.op(BPF_ALU | BPF_XOR | BPF_K, 0xffffffff, this.aIs(ek));
        return;
      case 'lnot': case 'land': case 'lor': case 'inset': break;
      case 'cond': {
        const a = new Label();
        const b = new Label();
        const end = new Label();
        this.cond(e.c, a, b);
        this.asm.bind(a);
        this.value(e.a);
        this.asm.ja(end);
        this.asm.bind(b);
        this.value(e.b);
        this.asm.bind(end);
        return;
      }
      case 'lookup': {
        this.value(e.e);
        const end = new Label();
        const hits = e.keys.map(() => new Label());
        e.keys.forEach((kv, j) => {
          const next = new Label();
          this.asm.jump(BPF_JMP | BPF_JEQ | BPF_K, kv, hits[j]!, next);
          this.asm.bind(next);
        });
        this.ldImm(0xffffffff);
        this.asm.ja(end);
        e.values.forEach((v, j) => {
          this.asm.bind(hits[j]!);
          this.ldImm(v);
          this.asm.ja(end);
        });
        this.asm.bind(end);
        return;
      }
      default:
        this.refuse(e);
        throw new NotExpressible(`${e.k}: not expressible in classic BPF`, e);
    }
    // A boolean as a value: 1 or 0.
    const t = new Label();
    const f = new Label();
    const end = new Label();
    this.cond(e, t, f);
    this.asm.bind(t);
    this.ldImm(1);
    this.asm.ja(end);
    this.asm.bind(f);
    this.ldImm(0);
    this.asm.bind(end);
  }

  /** Register knowledge after an instruction that sets A to the value named `a`. */
  private aIs(a: string | undefined): RegState {
    const { x, facts } = this.asm.regs;
    return facts ? { a, x, facts } : { a, x };
  }

  /** Register knowledge after an instruction that sets X (A and what is known of it stay). */
  private xIs(x: string | undefined): RegState { return { ...this.asm.regs, x }; }

  private ldImm(v: number): void {
    const k = printExpr({ k: 'const', v: v >>> 0 });
    if (this.asm.regs.a === k) return;
    this.asm.op(BPF_LD | BPF_IMM, v >>> 0, { ...this.aIs(k), aEq: v >>> 0 });
  }

  private tax(e: Expr): void {
    this.asm.op(BPF_MISC | BPF_TAX, 0, this.xIs(key(e) ?? this.asm.regs.a));
  }

  private lowered(e: Extract<Expr, { k: 'field' }>): Expr {
    try {
      return lowerField(e.name, this.p.linkType, e.shift ?? 0);
    } catch (err) {
      if (err instanceof FieldError) throw new NotExpressible(err.message, e);
      throw err;
    }
  }

  /** Throws NotExpressible when e contains a construct the target lacks. */
  private refuse(e: Expr): void {
    const bad = findRefused(e);
    if (bad) throw new NotExpressible(`${bad.k}: ${CBPF_PROFILE.notExpressible[bad.k] ?? 'not expressible in classic BPF'}`, bad);
  }

  private arith(e: Extract<Expr, { k: 'bin' }>): void {
    const op = ALU_OP[e.op]!;
    const ek = key(e);
    let a = fold(e.a);
    let b = fold(e.b);
    if (a.k === 'const' && b.k === 'const' && fold(e).k === 'const') { this.ldImm((fold(e) as { v: number }).v); return; }
    if (COMMUTATIVE.has(e.op) && a.k === 'const' && b.k !== 'const') [a, b] = [b, a];
    if (b.k === 'const') {
      const k = b.v;
      if ((e.op === 'div' || e.op === 'mod') && k === 0) {
        this.asm.comment(`${shorten(printExpr(e))}: division by zero`);
        this.jumpFault();
        return;
      }
      if ((e.op === 'shl' || e.op === 'shr') && k >= 32) {
        this.evalForFaults(a);
        this.ldImm(0);
        return;
      }
      this.value(a);
      this.asm.op(BPF_ALU | op | BPF_K, k, this.aIs(ek));
      return;
    }
    if (e.op === 'shl' || e.op === 'shr') return this.shiftByX(e, op);
    this.operands(a, b);
    this.asm.op(BPF_ALU | op | BPF_X, 0, this.aIs(ek));
  }

  /** a << b, a >> b: the IR gives 0 for b >= 32, the kernel masks b to 5 bits, so test it. */
  private shiftByX(e: Extract<Expr, { k: 'bin' }>, op: number): void {
    const zero = new Label();
    const ok = new Label();
    const end = new Label();
    const ek = key(e);
    if (xSafe(e.a)) {
      this.value(e.b);
      this.asm.jump(BPF_JMP | BPF_JGE | BPF_K, 32, zero, ok);
      this.asm.bind(ok);
      this.tax(e.b);
      this.value(e.a);
      this.asm.op(BPF_ALU | op | BPF_X, 0, this.aIs(ek));
      this.asm.ja(end);
      this.asm.bind(zero);
      this.evalForFaults(e.a);
    } else {
      this.value(e.a);
      const cell = this.pushTemp(e.a);
      this.value(e.b);
      this.asm.jump(BPF_JMP | BPF_JGE | BPF_K, 32, zero, ok);
      this.asm.bind(ok);
      this.tax(e.b);
      this.asm.op(BPF_LD | BPF_MEM, cell, this.aIs(key(e.a)));
      this.asm.op(BPF_ALU | op | BPF_X, 0, this.aIs(ek));
      this.asm.ja(end);
      this.asm.bind(zero);
      this.popTemp();
    }
    this.ldImm(0);
    this.asm.bind(end);
  }

  private jumpFault(): void {
    if (!this.asm.reachable) return;
    this.faultUsed = true;
    this.asm.ja(this.fault);
  }

  private pushTemp(e: Expr): number {
    if (this.tempTop >= BPF_MEMWORDS) {
      throw new NotExpressible(`the expression needs more than the ${BPF_MEMWORDS - this.tempBase} scratch cells left for temporaries`, e);
    }
    const cell = this.tempTop++;
    this.cellsUsed = Math.max(this.cellsUsed, this.tempTop);
    this.asm.op(BPF_ST, cell, this.asm.regs);
    return cell;
  }

  private popTemp(): void { this.tempTop--; }

  // ---- loads

  /** Whether one instruction loads e into X without touching A. */
  private directX(e: Expr): boolean {
    return e.k === 'const' || (e.k === 'local' && this.cellOf.has(e.n)) || (e.k === 'meta' && e.m === 'wirelen') ||
      (ihlBytes(e) ?? TWO31) < TWO31;
  }

  /** X = e; A is kept when directX(e), else it ends up holding e too. */
  private loadX(e: Expr): void {
    const ek = key(e);
    if (ek !== undefined && this.asm.regs.x === ek) return;
    const regs = this.xIs(ek);
    if (e.k === 'const') this.asm.op(BPF_LDX | BPF_IMM, e.v, regs);
    else if (e.k === 'local' && this.cellOf.has(e.n)) this.asm.op(BPF_LDX | BPF_MEM, this.cellOf.get(e.n)!, regs);
    else if (e.k === 'meta' && e.m === 'wirelen') this.asm.op(BPF_LDX | BPF_W | BPF_LEN, 0, regs);
    else if ((ihlBytes(e) ?? TWO31) < TWO31) this.asm.op(BPF_LDX | BPF_B | BPF_MSH, ihlBytes(e)!, regs);
    else {
      this.value(e);
      this.tax(e);
    }
  }

  private load(e: Extract<Expr, { k: 'load' }>): void {
    const size = SIZE_CODE[e.size];
    const ek = key(e);
    const { base, k } = splitOffset(e.off);
    if (base.k === 'const') {
      const off = (base.v + k) % 0x100000000;
      // Offsets at 2^31 and above always pass the captured length (a fault); the kernel would read SKF_* data there.
      if (off + e.size > TWO31) { this.jumpFault(); return; }
      this.asm.op(BPF_LD | size | BPF_ABS, off, this.aIs(ek));
      return;
    }
    if (k + maxValue(base) + e.size <= TWO31) {
      this.loadX(base);
      this.asm.op(BPF_LD | size | BPF_IND, k, this.aIs(ek));
      return;
    }
    // The whole offset in X, checked below 2^31 (libpcap would agree anyway; the kernel reads
    // ancillary data at "negative" offsets).
    this.value(e.off);
    const ok = new Label();
    const bad = new Label();
    this.asm.jump(BPF_JMP | BPF_JGE | BPF_K, TWO31 - e.size + 1, bad, ok);
    this.asm.bind(bad);
    this.jumpFault();
    this.asm.bind(ok);
    this.tax(e.off);
    this.asm.op(BPF_LD | size | BPF_IND, 0, this.aIs(ek));
  }
}

// ---- analyses

/** The interpreter's unsigned comparison, for the relational operators the callers pass. */
const relConst = (op: BinOp, a: number, b: number): boolean => rel(op as RelOp, a, b);

/** Constant subtrees folded (never a division by zero: that stays, as the fault it is). */
function fold(e: Expr): Expr {
  if (e.k === 'neg' || e.k === 'bnot') {
    const a = fold(e.a);
    if (a.k !== 'const') return e;
    return { k: 'const', v: (e.k === 'neg' ? -a.v : ~a.v) >>> 0 };
  }
  if (e.k !== 'bin') return e;
  const a = fold(e.a);
  const b = fold(e.b);
  if (a.k !== 'const' || b.k !== 'const') return a === e.a && b === e.b ? e : { ...e, a, b };
  const x = a.v, y = b.v;
  switch (e.op) {
    case 'add': return { k: 'const', v: (x + y) >>> 0 };
    case 'sub': return { k: 'const', v: (x - y) >>> 0 };
    case 'mul': return { k: 'const', v: Math.imul(x, y) >>> 0 };
    case 'div': return y === 0 ? e : { k: 'const', v: Math.floor(x / y) >>> 0 };
    case 'mod': return y === 0 ? e : { k: 'const', v: (x % y) >>> 0 };
    case 'and': return { k: 'const', v: (x & y) >>> 0 };
    case 'or': return { k: 'const', v: (x | y) >>> 0 };
    case 'xor': return { k: 'const', v: (x ^ y) >>> 0 };
    case 'shl': return { k: 'const', v: y >= 32 ? 0 : (x << y) >>> 0 };
    case 'shr': return { k: 'const', v: y >= 32 ? 0 : x >>> y };
    default: return { k: 'const', v: relConst(e.op, x, y) ? 1 : 0 };
  }
}

/** `4 * (load1[k] & 0xf)` (or `<< 2`): cBPF's `ldxb 4*([k]&0xf)`. Returns k. */
function ihlBytes(e: Expr): number | undefined {
  if (e.k !== 'bin') return undefined;
  const scaled = (e.op === 'mul' && e.b.k === 'const' && e.b.v === 4) || (e.op === 'shl' && e.b.k === 'const' && e.b.v === 2);
  if (!scaled) return undefined;
  const m = e.a;
  if (m.k !== 'bin' || m.op !== 'and' || m.b.k !== 'const' || m.b.v !== 0xf) return undefined;
  const l = m.a;
  if (l.k !== 'load' || l.size !== 1 || l.off.k !== 'const') return undefined;
  return l.off.v;
}

/** Expressions whose value A is computed without X or a temporary. */
function xSafe(e: Expr): boolean {
  switch (e.k) {
    case 'const': case 'local': return true;
    case 'meta': return e.m === 'wirelen';
    case 'load': return splitOffset(e.off).base.k === 'const';
    case 'field': return e.name.startsWith('ip4.') || e.name.startsWith('ip6.') || e.name === 'link.type';
    case 'neg': case 'bnot': return xSafe(e.a);
    case 'bin': return !isRel(e.op) && e.b.k === 'const' && xSafe(e.a);
    default: return false;
  }
}

/** An upper bound of e's value (u32). */
function maxValue(e: Expr): number {
  const M = 0xffffffff;
  switch (e.k) {
    case 'const': return e.v;
    case 'load': return e.size === 4 ? M : 2 ** (8 * e.size) - 1;
    case 'lnot': case 'land': case 'lor': case 'inset': return 1;
    case 'cond': return Math.max(maxValue(e.a), maxValue(e.b));
    case 'bin': {
      const a = maxValue(e.a);
      const b = maxValue(e.b);
      switch (e.op) {
        case 'add': return a + b <= M ? a + b : M;
        case 'mul': return a * b <= M ? a * b : M;
        case 'and': return Math.min(a, b);
        case 'or': case 'xor': return a <= 0xffff && b <= 0xffff ? 0xffff : M;
        case 'shr': return e.b.k === 'const' ? Math.floor(a / 2 ** Math.min(e.b.v, 32)) : a;
        case 'shl': return e.b.k === 'const' && e.b.v < 32 && a * 2 ** e.b.v <= M ? a * 2 ** e.b.v : M;
        case 'div': return a;
        case 'mod': return e.b.k === 'const' && e.b.v > 0 ? Math.min(a, e.b.v - 1) : a;
        case 'sub': return M;
        default: return 1;   // comparisons
      }
    }
    default: return M;
  }
}

/** Whether evaluating e can fault (a load, a division, a field). */
function canFault(e: Expr): boolean {
  switch (e.k) {
    case 'const': case 'local': case 'meta': case 'reg': return false;
    case 'load': case 'field': case 'hash': return true;
    case 'bin':
      if ((e.op === 'div' || e.op === 'mod') && !(e.b.k === 'const' && e.b.v !== 0)) return true;
      return canFault(e.a) || canFault(e.b);
    case 'neg': case 'bnot': case 'lnot': return canFault(e.a);
    case 'land': case 'lor': return canFault(e.a) || canFault(e.b);
    case 'cond': return canFault(e.c) || canFault(e.a) || canFault(e.b);
    case 'inset': case 'lookup': return canFault(e.e);
    default: return true;
  }
}

const isBoolean = (e: Expr) =>
  e.k === 'lnot' || e.k === 'land' || e.k === 'lor' || e.k === 'inset' || (e.k === 'bin' && isRel(e.op));

/**
 * A key naming a pure packet expression (same key, same value within one packet), for the
 * register tracking; undefined for expressions that read locals or are too large to bother.
 */
function key(e: Expr): string | undefined {
  if (!pureSmall(e, 0)) return undefined;
  const s = printExpr(e);
  return s.length <= MAX_KEY ? s : undefined;
}

function pureSmall(e: Expr, depth: number): boolean {
  if (depth > 8) return false;
  switch (e.k) {
    case 'const': case 'field': return true;
    case 'meta': return e.m === 'wirelen';
    case 'load': return pureSmall(e.off, depth + 1);
    case 'bin': return pureSmall(e.a, depth + 1) && pureSmall(e.b, depth + 1);
    case 'neg': case 'bnot': return pureSmall(e.a, depth + 1);
    case 'cond': return pureSmall(e.c, depth + 1) && pureSmall(e.a, depth + 1) && pureSmall(e.b, depth + 1);
    default: return false;
  }
}

/** The first node in e the target cannot express. */
function findRefused(e: Expr): Expr | undefined {
  const stack: Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    switch (x.k) {
      case 'reg': case 'mem': case 'state': case 'extern': case 'hash': case 'search': return x;
      case 'meta': if (x.m !== 'wirelen') return x; break;
      case 'load': stack.push(x.off); break;
      case 'bin': case 'land': case 'lor': stack.push(x.a, x.b); break;
      case 'neg': case 'bnot': case 'lnot': stack.push(x.a); break;
      case 'cond': stack.push(x.c, x.a, x.b); break;
      case 'inset': case 'lookup': stack.push(x.e); break;
      default: break;
    }
  }
  return undefined;
}

/** The locals the program reads (a local written but never read needs no cell). */
function localUse(body: Stmt): { read: Set<number> } {
  const read = new Set<number>();
  const onExpr = (e: Expr): void => {
    if (e.k === 'local') read.add(e.n);
    forEachSubExpr(e, onExpr);
  };
  const onStmt = (s: Stmt): void => forEachStmtPart(s, onStmt, onExpr);
  onStmt(body);
  return { read };
}
