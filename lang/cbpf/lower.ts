/**
 * Lowers a validated classic BPF program to IR with the exact semantics of libpcap's
 * interpreter (bpf_filter.c, 1.10.3):
 *   - A, X and the 16 scratch cells are locals, zero at the start of every packet;
 *   - packet loads are IR loads, whose fault (load past the captured length → result 0) is
 *     bpf_filter's `return 0`; an indexed load whose X + k overflows 32 bits also returns 0
 *     (bpf_filter checks k and X against buflen separately, so it never wraps);
 *   - `ld len` / `ldx len` read the wire length;
 *   - division and modulo by X = 0 return 0, shifts by X >= 32 give 0 (both IR semantics);
 *   - `ret` returns its value as the program's result.
 *
 * Control flow: the program is a DAG of forward jumps. Every instruction that is the target of
 * a taken jump ends a labelled block that begins at (or before) the first jump to it, so
 * `exit t` lands exactly on instruction t; blocks nest, and each instruction is emitted once.
 * Programs whose blocks would nest deeper than MAX_BLOCK_DEPTH use a flat form instead (see
 * flatBody). Construction is iterative either way.
 */
import { bin, c, type BinOp, type Expr, type Program, type Stmt, DEFAULT_FUEL } from '../ir/ir.js';
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JMP, BPF_JSET, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MOD, BPF_MSH, BPF_MUL,
  BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TXA, BPF_W, BPF_X, BPF_XOR,
  bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc, isCondJump,
} from './opcodes.js';

export interface Insn { code: number; jt: number; jf: number; k: number }

/** Local numbers: the accumulator, the index register, then scratch cells M[0..15]. */
export const LOCAL_A = 0;
export const LOCAL_X = 1;
export const LOCAL_M0 = 2;
/** The next instruction, in the flat form used for very deeply nested programs. */
export const LOCAL_PC = LOCAL_M0 + 16;
export const CBPF_LOCALS = LOCAL_PC + 1;

const A: Expr = { k: 'local', n: LOCAL_A };
const X: Expr = { k: 'local', n: LOCAL_X };
const setA = (value: Expr): Stmt => ({ k: 'setlocal', n: LOCAL_A, value });
const setX = (value: Expr): Stmt => ({ k: 'setlocal', n: LOCAL_X, value });
const scratch = (k: number): Expr => ({ k: 'local', n: LOCAL_M0 + k });
const exit = (label: number): Stmt => ({ k: 'exit', label });

const ALU: Record<number, BinOp> = {
  [BPF_ADD]: 'add', [BPF_SUB]: 'sub', [BPF_MUL]: 'mul', [BPF_DIV]: 'div', [BPF_MOD]: 'mod',
  [BPF_AND]: 'and', [BPF_OR]: 'or', [BPF_XOR]: 'xor', [BPF_LSH]: 'shl', [BPF_RSH]: 'shr',
};
const SIZE: Record<number, 1 | 2 | 4> = { [BPF_W]: 4, [BPF_H]: 2, [BPF_B]: 1 };

/** The jump condition and its negation, so a branch that falls through needs no `else`. */
function condition(code: number, k: number): { yes: Expr; no: Expr } {
  const v = bpfSrc(code) === BPF_X ? X : c(k);
  switch (bpfOp(code)) {
    case BPF_JEQ: return { yes: bin('eq', A, v), no: bin('ne', A, v) };
    case BPF_JGT: return { yes: bin('gt', A, v), no: bin('le', A, v) };
    case BPF_JGE: return { yes: bin('ge', A, v), no: bin('lt', A, v) };
    case BPF_JSET: return { yes: bin('ne', bin('and', A, v), c(0)), no: bin('eq', bin('and', A, v), c(0)) };
  }
  throw new Error(`not a conditional jump: 0x${code.toString(16)}`);
}

/** Indexed load: bpf_filter fails it when X + k would pass the captured length, without wrapping. */
function indexedLoad(k: number, size: 1 | 2 | 4): Stmt[] {
  if (k === 0) return [setA({ k: 'load', off: X, size })];
  return [
    { k: 'if', cond: bin('gt', X, c(0xffffffff - k)), then: { k: 'return', value: c(0) } },
    setA({ k: 'load', off: bin('add', X, c(k)), size }),
  ];
}

/** The statements of instruction `pc`; a jump to pc + 1 is a fall-through and emits nothing. */
function lowerInsn(ins: Insn, pc: number): Stmt[] {
  const { code, jt, jf, k } = ins;
  const cls = bpfClass(code);
  switch (cls) {
    case BPF_LD:
      switch (bpfMode(code)) {
        case BPF_IMM: return [setA(c(k))];
        case BPF_ABS: return [setA({ k: 'load', off: c(k), size: SIZE[bpfSize(code)] })];
        case BPF_IND: return indexedLoad(k, SIZE[bpfSize(code)]);
        case BPF_MEM: return [setA(scratch(k))];
        case BPF_LEN: return [setA({ k: 'meta', m: 'wirelen' })];
      }
      break;
    case BPF_LDX:
      switch (bpfMode(code)) {
        case BPF_IMM: return [setX(c(k))];
        case BPF_MEM: return [setX(scratch(k))];
        case BPF_LEN: return [setX({ k: 'meta', m: 'wirelen' })];
        case BPF_MSH: return [setX(bin('shl', bin('and', { k: 'load', off: c(k), size: 1 }, c(0xf)), c(2)))];
      }
      break;
    case BPF_ST: return [{ k: 'setlocal', n: LOCAL_M0 + k, value: A }];
    case BPF_STX: return [{ k: 'setlocal', n: LOCAL_M0 + k, value: X }];
    case BPF_ALU:
      if (bpfOp(code) === BPF_NEG) return [setA({ k: 'neg', a: A })];
      return [setA(bin(ALU[bpfOp(code)], A, bpfSrc(code) === BPF_X ? X : c(k)))];
    case BPF_JMP: {
      if (bpfOp(code) === BPF_JA) return k === 0 ? [] : [exit(pc + 1 + k)];
      if (jt === jf) return jt === 0 ? [] : [exit(pc + 1 + jt)];
      const { yes, no } = condition(code, k);
      if (jt === 0) return [{ k: 'if', cond: no, then: exit(pc + 1 + jf) }];
      if (jf === 0) return [{ k: 'if', cond: yes, then: exit(pc + 1 + jt) }];
      return [{ k: 'if', cond: yes, then: exit(pc + 1 + jt), else: exit(pc + 1 + jf) }];
    }
    case BPF_RET: return [{ k: 'return', value: (code & 0x18) === BPF_A ? A : c(k) }];
    case BPF_MISC: return [(code & 0xf8) === BPF_TXA ? setA(X) : setX(A)];
  }
  throw new Error(`instruction ${pc}: opcode 0x${code.toString(16)} passed validation but has no lowering`);
}

/** Which instructions run at all, and the earliest instruction that jumps to each target (-1: none). */
function analyse(insns: readonly Insn[]): { reachable: Uint8Array; firstSource: Int32Array } {
  const n = insns.length;
  const reachable = new Uint8Array(n);
  const firstSource = new Int32Array(n).fill(-1);
  reachable[0] = 1;
  for (let pc = 0; pc < n; pc++) {
    if (!reachable[pc]) continue;
    const { code, jt, jf, k } = insns[pc];
    const next: number[] = [];
    if (code === (BPF_JMP | BPF_JA)) next.push(pc + 1 + k);
    else if (isCondJump(code)) next.push(pc + 1 + jt, pc + 1 + jf);
    else if (bpfClass(code) !== BPF_RET) next.push(pc + 1);
    for (const t of next) {
      reachable[t] = 1;
      // A jump to the next instruction is a fall-through: it needs no block.
      if (t !== pc + 1 && firstSource[t] < 0) firstSource[t] = pc;
    }
  }
  return { reachable, firstSource };
}

/**
 * The start of the block each target closes: at its earliest jump, moved earlier where needed
 * so that blocks nest (a block that would begin inside another and end after it must enclose
 * it). One pass with a stack of the outermost blocks so far, in order. Returns the starts
 * (-1 for non-targets) and the deepest nesting.
 */
function blockStarts(firstSource: Int32Array): { start: Int32Array; depth: number } {
  const n = firstSource.length;
  const start = new Int32Array(n).fill(-1);
  const depthOf = new Int32Array(n);
  const outer: number[] = [];   // targets of the outermost blocks, by position
  let depth = 0;
  for (let t = 0; t < n; t++) {
    if (firstSource[t] < 0) continue;
    let s = firstSource[t];
    let inner = 0;
    while (outer.length && outer[outer.length - 1] > s) {
      const enclosed = outer.pop()!;
      s = Math.min(s, start[enclosed]);
      inner = Math.max(inner, depthOf[enclosed]);
    }
    start[t] = s;
    depthOf[t] = inner + 1;
    depth = Math.max(depth, inner + 1);
    outer.push(t);
  }
  return { start, depth };
}

/**
 * Nesting beyond this is lowered to the flat form instead, so that no consumer of the IR
 * (printers, interpreters, code generators, which may recurse) meets thousands of levels.
 */
export const MAX_BLOCK_DEPTH = 128;

/** Structured form: each target t closes a block opened at start[t]; each instruction is emitted once. */
function nestedBody(insns: readonly Insn[], reachable: Uint8Array, start: Int32Array): Stmt {
  const n = insns.length;
  // Blocks opening at each instruction, outermost (largest target) first.
  const opening: number[][] = Array.from({ length: n }, () => []);
  for (let t = n - 1; t >= 0; t--) if (start[t] >= 0) opening[start[t]].push(t);
  const open: { label: number; body: Stmt[] }[] = [{ label: -1, body: [] }];
  for (let pc = 0; pc < n; pc++) {
    if (start[pc] >= 0) {
      const done = open.pop()!;   // laminar blocks: the one ending here is innermost
      open[open.length - 1].body.push({ k: 'block', label: done.label, body: { k: 'seq', body: done.body } });
    }
    for (const t of opening[pc]) open.push({ label: t, body: [] });
    if (reachable[pc]) open[open.length - 1].body.push(...lowerInsn(insns[pc], pc));
  }
  return { k: 'seq', body: open[0].body };
}

/**
 * Flat form for programs whose jumps would nest too deeply: a local PC names the next
 * instruction to run, and each run of instructions starting at a jump target runs only when
 * PC reaches it. Jumps only go forward, so one pass over the runs in order executes the program.
 */
function flatBody(insns: readonly Insn[], reachable: Uint8Array, firstSource: Int32Array): Stmt {
  const n = insns.length;
  const setPc = (v: number): Stmt => ({ k: 'setlocal', n: LOCAL_PC, value: c(v) });
  const goto = (label: number, target: number): Stmt => ({ k: 'seq', body: [setPc(target), exit(label)] });
  const runs: Stmt[] = [];
  for (let first = 0; first < n;) {
    let end = first + 1;
    while (end < n && firstSource[end] < 0) end++;
    const body: Stmt[] = [];
    for (let pc = first; pc < end; pc++) {
      if (!reachable[pc]) continue;
      // Jumps out of the run set PC and leave the run's block.
      body.push(...lowerInsn(insns[pc], pc).map((st) => retarget(st, first, goto)));
    }
    if (end < n) body.push(setPc(end));
    runs.push({ k: 'if', cond: bin('eq', { k: 'local', n: LOCAL_PC }, c(first)), then: { k: 'block', label: first, body: { k: 'seq', body } } });
    first = end;
  }
  return { k: 'seq', body: runs };
}

/** Rewrites the `exit t` statements lowerInsn makes (alone or as an if's arms) into goto(run, t). */
function retarget(st: Stmt, run: number, goto: (label: number, target: number) => Stmt): Stmt {
  if (st.k === 'exit') return goto(run, st.label);
  if (st.k === 'if') {
    return { ...st, then: retarget(st.then, run, goto), ...(st.else ? { else: retarget(st.else, run, goto) } : {}) };
  }
  return st;
}

/** Lowers a validated program (see validate.ts) to IR. `maxBlockDepth` (tests) overrides MAX_BLOCK_DEPTH. */
export function lowerCbpf(insns: readonly Insn[], linkType: number, source?: Program['source'],
  opts: { maxBlockDepth?: number } = {}): Program {
  const { reachable, firstSource } = analyse(insns);
  const { start, depth } = blockStarts(firstSource);
  return {
    body: depth <= (opts.maxBlockDepth ?? MAX_BLOCK_DEPTH) ? nestedBody(insns, reachable, start) : flatBody(insns, reachable, firstSource),
    linkType,
    registers: 0,
    memoryCells: 1,
    locals: CBPF_LOCALS,
    externs: [],
    fuel: DEFAULT_FUEL,
    ...(source ? { source } : {}),
  };
}
