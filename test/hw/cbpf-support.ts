/**
 * Helpers for the IR → classic BPF tests: a stateless variant of the random IR programs, and
 * the three ways of running an emitted program (fplc's own cBPF front end + the reference
 * interpreter, libpcap's bpf_filter, and the Linux checker).
 */
import type { Expr, Program, Stmt } from '../../lang/ir/ir.js';
import { compileCbpf, formatDdd } from '../../lang/cbpf/index.js';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { mapSubExprs } from '../../lang/ir/walk.js';
import type { CbpfInsn } from '../../codegen/hw/cbpf/emit.js';
import type { BpfInsn } from '../../drivers/libpcap.js';

const k = (v: number): Expr => ({ k: 'const', v: v >>> 0 });

/**
 * The same program with what classic BPF cannot hold replaced by what it can, keeping the
 * shape: R[]/M[]/S[] reads become locals or constants, their writes become local writes or
 * evaluations, caplen becomes wirelen (loads near the end stay near the end), hashes and
 * searches become loads over their operands, loops become ifs, fault-catching blocks plain
 * blocks. Locals stay below 8, leaving the emitter half the scratch cells for temporaries.
 */
export function statelessVariant(p: Program): Program {
  const locals = Math.min(Math.max(p.locals, 2), 8);
  const expr = (e: Expr): Expr => {
    const x = mapSubExprs(e, expr);
    switch (x.k) {
      case 'reg': return { k: 'local', n: x.n % locals };
      case 'mem': return { k: 'bin', op: 'add', a: x.index, b: { k: 'local', n: 1 % locals } };
      case 'state': return x.at ? { k: 'bin', op: 'xor', a: x.at, b: k(x.i) } : k(x.i * 7);
      case 'meta': return x.m === 'caplen' || x.m === 'tssec' || x.m === 'tsfrac' ? { k: 'meta', m: 'wirelen' } : x;
      case 'hash': return { k: 'bin', op: 'mod', a: { k: 'load', off: x.off, size: 1 }, b: x.range };
      case 'search': return { k: 'bin', op: 'lt', a: x.from, b: x.to };
      case 'extern': return x.args.reduce<Expr>((acc, a) => ({ k: 'bin', op: 'add', a: acc, b: a }), k(7));
      case 'local': return { k: 'local', n: x.n % locals };
      default: return x;
    }
  };
  const stmt = (s: Stmt): Stmt => {
    switch (s.k) {
      case 'seq': return { k: 'seq', body: s.body.map(stmt) };
      case 'if': return { k: 'if', cond: expr(s.cond), then: stmt(s.then), ...(s.else ? { else: stmt(s.else) } : {}) };
      case 'for': return { k: 'if', cond: { k: 'bin', op: s.cmp, a: expr(s.init), b: expr(s.limit) }, then: stmt(s.body) };
      case 'break': return { k: 'eval', e: k(0) };
      case 'block': return { k: 'block', label: s.label, body: stmt(s.body) };
      case 'exit': return s;
      case 'return': return { k: 'return', value: expr(s.value) };
      case 'setreg': return { k: 'setlocal', n: s.n % locals, value: expr(s.value) };
      case 'setmem': return { k: 'setlocal', n: 1 % locals, value: { k: 'bin', op: 'sub', a: expr(s.value), b: expr(s.index) } };
      case 'setlocal': return { k: 'setlocal', n: s.n % locals, value: expr(s.value) };
      case 'setstate': return { k: 'eval', e: s.at ? { k: 'bin', op: 'add', a: expr(s.at), b: expr(s.value) } : expr(s.value) };
      case 'searchall': return { k: 'setlocal', n: s.into % locals, value: { k: 'bin', op: 'ge', a: expr(s.from), b: expr(s.to) } };
      case 'eval': return { k: 'eval', e: expr(s.e) };
    }
  };
  return { ...p, body: stmt(p.body), registers: 0, memoryCells: 1, locals, stateWords: 0, externs: [] };
}

export const toBpf = (insns: readonly CbpfInsn[]): BpfInsn[] => insns.map((i) => [i.code, i.jt, i.jf, i.k]);

/** The emitted program read back by fplc's classic BPF front end (which checks it as Linux does), as IR. */
export function reloaded(insns: readonly CbpfInsn[], linkType: number): Program {
  return compileCbpf(formatDdd(insns), { linkType }).program;
}

export function interpret(program: Program, packets: readonly { bytes: Uint8Array; wirelen: number }[]): number[] {
  const state = newState(program);
  return packets.map((p) => runPacket(program, state, p.bytes, p.wirelen).result);
}
