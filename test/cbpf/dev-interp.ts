// Stand-in for lang/ir/interp.ts until it lands (the subset of the IR that cBPF lowering emits); delete it then.
import type { Expr, Program, Stmt } from '../../lang/ir/ir.js';
class Ret { constructor(readonly v: number) {} }
class Exit { constructor(readonly label: number) {} }
export interface State { regs: Uint32Array; mem: Uint32Array }
export function newState(p: Program): State { return { regs: new Uint32Array(p.registers), mem: new Uint32Array(p.memoryCells) }; }
export function runPacket(p: Program, _s: State, pkt: Uint8Array, wirelen: number): number {
  const L = new Uint32Array(p.locals);
  const ev = (e: Expr): number => {
    switch (e.k) {
      case 'const': return e.v;
      case 'local': return L[e.n];
      case 'meta': return e.m === 'wirelen' ? wirelen : pkt.length;
      case 'load': { const o = ev(e.off); if (o + e.size > pkt.length) throw new Ret(0); let v = 0; for (let i = 0; i < e.size; i++) v = v * 256 + pkt[o + i]; return v >>> 0; }
      case 'neg': return (0 - ev(e.a)) >>> 0;
      case 'bin': { const a = ev(e.a), b = ev(e.b); switch (e.op) {
        case 'add': return (a + b) >>> 0; case 'sub': return (a - b) >>> 0; case 'mul': return Math.imul(a, b) >>> 0;
        case 'div': if (b === 0) throw new Ret(0); return Math.floor(a / b) >>> 0;
        case 'mod': if (b === 0) throw new Ret(0); return (a % b) >>> 0;
        case 'and': return (a & b) >>> 0; case 'or': return (a | b) >>> 0; case 'xor': return (a ^ b) >>> 0;
        case 'shl': return b >= 32 ? 0 : (a << b) >>> 0; case 'shr': return b >= 32 ? 0 : a >>> b;
        case 'eq': return +(a === b); case 'ne': return +(a !== b); case 'lt': return +(a < b); case 'le': return +(a <= b); case 'gt': return +(a > b); case 'ge': return +(a >= b);
      } }
    }
    throw new Error('unsupported ' + e.k);
  };
  const ex = (s: Stmt): void => {
    switch (s.k) {
      case 'seq': for (const b of s.body) ex(b); return;
      case 'if': if (ev(s.cond)) ex(s.then); else if (s.else) ex(s.else); return;
      case 'block': try { ex(s.body); } catch (x) { if (x instanceof Exit && x.label === s.label) return; throw x; } return;
      case 'exit': throw new Exit(s.label);
      case 'return': throw new Ret(ev(s.value));
      case 'setlocal': L[s.n] = ev(s.value); return;
    }
    throw new Error('unsupported ' + s.k);
  };
  try { ex(p.body); } catch (x) { if (x instanceof Ret) return x.v; throw x; }
  return 0;
}
