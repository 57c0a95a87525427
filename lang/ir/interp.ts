/**
 * The reference interpreter: the IR's semantics (ir.ts, header comment) written plainly, for
 * obviousness rather than speed. It is the oracle the WebAssembly backend is tested against,
 * so every rule lives here once, in the most direct form.
 */
import type { BinOp, Expr, Program, RelOp, Stmt } from './ir.js';
import { lowerField } from './fields.js';

export interface InterpState {
  registers: Uint32Array;     // 256 cells
  memory: Uint32Array;        // program.memoryCells cells
  fuelExhausted: number;      // packets that ran out of loop fuel
}

export interface InterpOptions {
  /** Loop iterations allowed per packet; default program.fuel. */
  fuel?: number;
  /** Evaluates {k:'extern'} nodes, after their arguments. */
  callExtern?: (id: number, args: number[], packet: Uint8Array, wirelen: number, state: InterpState) => number;
}

export interface PacketResult { result: number; fuelExhausted: boolean }

export function newState(program: Program): InterpState {
  return { registers: new Uint32Array(256), memory: new Uint32Array(program.memoryCells), fuelExhausted: 0 };
}

/** Ends the packet with a result: `return`, or a fault (result 0). */
class Stop {
  constructor(readonly result: number, readonly outOfFuel = false) {}
}
class Break {}
class Exit {
  constructor(readonly label: number) {}
}

const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 16777619;

export function rel(op: RelOp, a: number, b: number): boolean {
  switch (op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    case 'gt': return a > b;
    case 'ge': return a >= b;
  }
}

/** A binary operator on u32 values; `undefined` means a fault (division by zero). */
export function binop(op: BinOp, a: number, b: number): number | undefined {
  switch (op) {
    case 'add': return (a + b) >>> 0;
    case 'sub': return (a - b) >>> 0;
    case 'mul': return Math.imul(a, b) >>> 0;
    case 'div': return b === 0 ? undefined : Math.floor(a / b) >>> 0;
    case 'mod': return b === 0 ? undefined : (a % b) >>> 0;
    case 'and': return (a & b) >>> 0;
    case 'or': return (a | b) >>> 0;
    case 'xor': return (a ^ b) >>> 0;
    case 'shl': return b >= 32 ? 0 : (a << b) >>> 0;
    case 'shr': return b >= 32 ? 0 : a >>> b;
    default: return rel(op, a, b) ? 1 : 0;
  }
}

export function fnv1a(bytes: Uint8Array): number {
  let h = FNV_BASIS;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h;
}

export function runPacket(program: Program, state: InterpState, packet: Uint8Array, wirelen: number,
  opts: InterpOptions = {}): PacketResult {
  const locals = new Uint32Array(program.locals);
  const mask = program.memoryCells - 1;
  let fuel = opts.fuel ?? program.fuel;

  const bytes = (off: number, len: number): Uint8Array => {
    if (off + len > packet.length) throw new Stop(0);
    return packet.subarray(off, off + len);
  };

  const ev = (e: Expr): number => {
    switch (e.k) {
      case 'const': return e.v >>> 0;
      case 'reg': return state.registers[e.n]!;
      case 'mem': return state.memory[ev(e.index) & mask]!;
      case 'local': return locals[e.n]!;
      case 'meta': return e.m === 'caplen' ? packet.length : wirelen >>> 0;
      case 'load': {
        let v = 0;
        for (const b of bytes(ev(e.off), e.size)) v = v * 256 + b;
        return v >>> 0;
      }
      case 'field': return ev(lowerField(e.name, program.linkType, e.shift ?? 0));
      case 'bin': {
        const a = ev(e.a);
        const b = ev(e.b);
        const v = binop(e.op, a, b);
        if (v === undefined) throw new Stop(0);
        return v;
      }
      case 'neg': return (0 - ev(e.a)) >>> 0;
      case 'bnot': return ~ev(e.a) >>> 0;
      case 'lnot': return ev(e.a) === 0 ? 1 : 0;
      case 'land': return ev(e.a) !== 0 && ev(e.b) !== 0 ? 1 : 0;
      case 'lor': return ev(e.a) !== 0 || ev(e.b) !== 0 ? 1 : 0;
      case 'cond': return ev(e.c) !== 0 ? ev(e.a) : ev(e.b);
      case 'hash': {
        const off = ev(e.off);
        const len = ev(e.len);
        const range = ev(e.range);
        const h = fnv1a(bytes(off, len));
        return range === 0 ? 0 : h % range;
      }
      case 'extern': {
        const args = e.args.map(ev);
        if (!opts.callExtern) throw new Error(`extern ${e.id} has no implementation`);
        return opts.callExtern(e.id, args, packet, wirelen, state) >>> 0;
      }
    }
  };

  const run = (s: Stmt): void => {
    switch (s.k) {
      case 'seq': for (const b of s.body) run(b); return;
      case 'if': if (ev(s.cond) !== 0) run(s.then); else if (s.else) run(s.else); return;
      case 'for': {
        state.registers[s.reg] = ev(s.init);
        const limit = ev(s.limit);
        while (rel(s.cmp, state.registers[s.reg]!, limit)) {
          if (fuel === 0) throw new Stop(0, true);
          fuel--;
          try {
            run(s.body);
          } catch (x) {
            if (x instanceof Break) break;
            throw x;
          }
          state.registers[s.reg] = (state.registers[s.reg]! + s.step) >>> 0;
        }
        return;
      }
      case 'break': throw new Break();
      case 'block':
        try {
          run(s.body);
        } catch (x) {
          if (x instanceof Exit && x.label === s.label) return;
          throw x;
        }
        return;
      case 'exit': throw new Exit(s.label);
      case 'return': throw new Stop(ev(s.value));
      case 'setreg': state.registers[s.n] = ev(s.value); return;
      case 'setmem': {
        const i = ev(s.index) & mask;
        state.memory[i] = ev(s.value);
        return;
      }
      case 'setlocal': locals[s.n] = ev(s.value); return;
      case 'eval': ev(s.e); return;
    }
  };

  try {
    run(program.body);
    return { result: 0, fuelExhausted: false };
  } catch (x) {
    if (!(x instanceof Stop)) throw x;
    if (x.outOfFuel) state.fuelExhausted++;
    return { result: x.result >>> 0, fuelExhausted: x.outOfFuel };
  }
}

/** Runs packets in order with shared state; one result per packet. */
export function runPackets(program: Program, state: InterpState,
  packets: readonly { bytes: Uint8Array; wirelen: number }[], opts: InterpOptions = {}): Uint32Array {
  return Uint32Array.from(packets, (p) => runPacket(program, state, p.bytes, p.wirelen, opts).result);
}
