/**
 * The reference interpreter: the IR's semantics (ir.ts, header comment) written plainly, for
 * obviousness rather than speed. It is the oracle the WebAssembly backend is tested against
 * bit for bit (results, R[], M[], fuel count), so every rule lives here once, in its most
 * direct form:
 * - values are u32 (`>>> 0` after every operation, Math.imul for products);
 * - a fault (load past the captured length, division or modulo by zero, no fuel left) ends
 *   the packet with result 0 at once; writes made before it stay;
 * - `land`/`lor` short-circuit and `cond` runs only its taken arm;
 * - locals are zeroed per packet, registers and memory persist in the caller's state.
 */
import type { BinOp, Expr, Program, RelOp, Stmt } from './ir.js';
import { LOOKUP_MISS } from './ir.js';
import { lowerField } from './fields.js';

export interface InterpState {
  registers: Uint32Array;     // 256 cells, whatever program.registers says
  memory: Uint32Array;        // program.memoryCells cells
  state: Uint32Array;         // program.stateWords words (host-function state)
  fuelExhausted: number;      // packets that ran out of loop fuel
}

export interface InterpOptions {
  /** Loop iterations allowed per packet; default program.fuel. */
  fuel?: number;
  /** The packet's timestamp [seconds, sub-second units] for `tssec`/`tsfrac` (default [0, 0]). */
  timestamp?: readonly [number, number];
  /**
   * Called for {k:'extern'} nodes after their arguments are evaluated; the result is taken
   * as a u32. Default: throws Error(`extern <name> has no implementation`).
   */
  callExtern?: (id: number, args: number[], packet: Uint8Array, wirelen: number, state: InterpState) => number;
}

export interface PacketResult { result: number; fuelExhausted: boolean }

export const REGISTER_CELLS = 256;

export function newState(program: Program): InterpState {
  return {
    registers: new Uint32Array(REGISTER_CELLS),
    memory: new Uint32Array(program.memoryCells),
    state: new Uint32Array(program.stateWords ?? 0),
    fuelExhausted: 0,
  };
}

// Non-local control flow, thrown and caught inside runPacket only.
/** Ends the packet: `return v`, or a fault (result 0, `outOfFuel` when fuel ran out). */
class Stop {
  constructor(readonly result: number, readonly outOfFuel = false, readonly fault = true) {}
}
/** `break`: leaves the innermost `for`. */
class Break {}
/** `exit label`: leaves the enclosing block with that label. */
class Exit {
  constructor(readonly label: number) {}
}

export const FNV_OFFSET_BASIS = 2166136261;
export const FNV_PRIME = 16777619;

/** An unsigned comparison. */
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

/** A binary operator on u32 values; `undefined` means a fault (division or modulo by zero). */
export function binop(op: BinOp, a: number, b: number): number | undefined {
  switch (op) {
    case 'add': return (a + b) >>> 0;
    case 'sub': return (a - b) >>> 0;
    case 'mul': return Math.imul(a, b) >>> 0;
    case 'div': return b === 0 ? undefined : ((a - (a % b)) / b) >>> 0;
    case 'mod': return b === 0 ? undefined : (a % b) >>> 0;
    case 'and': return (a & b) >>> 0;
    case 'or': return (a | b) >>> 0;
    case 'xor': return (a ^ b) >>> 0;
    // The shift count is the whole u32: 32 or more shifts every bit out (no masking to 5 bits).
    case 'shl': return b >= 32 ? 0 : (a << b) >>> 0;
    case 'shr': return b >= 32 ? 0 : a >>> b;
    case 'eq': case 'ne': case 'lt': case 'le': case 'gt': case 'ge':
      return rel(op, a, b) ? 1 : 0;
  }
}

/** FNV-1a, 32 bits. */
export function fnv1a(bytes: Uint8Array): number {
  let h = FNV_OFFSET_BASIS;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h;
}

/**
 * The `search` node, naively: whether any pattern occurs whole inside packet[from, min(to, caplen)).
 * Position by position, pattern by pattern, byte by byte: the oracle the compiled search is tested against.
 */
export function searchRegion(packet: Uint8Array, from: number, to: number, patterns: readonly Uint8Array[]): boolean {
  const end = Math.min(to, packet.length);
  for (let at = from; at < end; at++) {
    for (const p of patterns) {
      if (at + p.length > end) continue;
      let j = 0;
      while (j < p.length && packet[at + j] === p[j]) j++;
      if (j === p.length) return true;
    }
  }
  return false;
}

/** Whether `v` is in `set` (ascending): binary search. */
export function inSortedSet(set: readonly number[], v: number): boolean {
  return sortedIndex(set, v) >= 0;
}

/** The position of `v` in an ascending array, or -1. */
export function sortedIndex(set: readonly number[], v: number): number {
  let lo = 0, hi = set.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = set[mid]!;
    if (x === v) return mid;
    if (x < v) lo = mid + 1; else hi = mid;
  }
  return -1;
}

/** Lowered field expressions, per node and link type (lowering is pure, so caching is safe). */
const loweredFields = new WeakMap<Expr, { linkType: number; lowered: Expr }>();

function lowered(e: Extract<Expr, { k: 'field' }>, linkType: number): Expr {
  const hit = loweredFields.get(e);
  if (hit && hit.linkType === linkType) return hit.lowered;
  const low = lowerField(e.name, linkType, e.shift ?? 0);
  loweredFields.set(e, { linkType, lowered: low });
  return low;
}

export function runPacket(program: Program, state: InterpState, packet: Uint8Array, wirelen: number,
  opts: InterpOptions = {}): PacketResult {
  const caplen = packet.length;
  const locals = new Uint32Array(program.locals);
  const memMask = program.memoryCells - 1;
  let fuelLeft = opts.fuel ?? program.fuel;

  /** Bytes [off, off+len) of the packet, or a fault if any is past the captured length. */
  const bytesAt = (off: number, len: number): Uint8Array => {
    if (off + len > caplen) throw new Stop(0);   // plain numbers: no u32 wrap-around
    return packet.subarray(off, off + len);
  };

  /** The word S[i + at] stands for; a word outside S[] is a fault. */
  const stateIndex = (i: number, at: Expr | undefined): number => {
    if (!at) return i;
    const w = (i + ev(at)) >>> 0;
    if (w >= state.state.length) throw new Stop(0);
    return w;
  };

  const ev = (e: Expr): number => {
    switch (e.k) {
      case 'const': return e.v >>> 0;
      case 'reg': return state.registers[e.n]!;
      case 'mem': return state.memory[ev(e.index) & memMask]!;
      case 'local': return locals[e.n]!;
      case 'meta':
        switch (e.m) {
          case 'caplen': return caplen;
          case 'wirelen': return wirelen >>> 0;
          case 'tssec': return (opts.timestamp?.[0] ?? 0) >>> 0;
          case 'tsfrac': return (opts.timestamp?.[1] ?? 0) >>> 0;
        }
        break;
      case 'state': return state.state[stateIndex(e.i, e.at)]!;
      case 'load': {
        let v = 0;
        for (const b of bytesAt(ev(e.off), e.size)) v = v * 256 + b;   // big-endian
        return v >>> 0;
      }
      case 'field': return ev(lowered(e, program.linkType));
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
        const h = fnv1a(bytesAt(off, len));
        return range === 0 ? 0 : h % range;
      }
      case 'search': {
        const from = ev(e.from);
        const to = ev(e.to);
        return searchRegion(packet, from, to, e.patterns) ? 1 : 0;
      }
      case 'inset': return inSortedSet(e.set, ev(e.e)) ? 1 : 0;
      case 'lookup': {
        const j = sortedIndex(e.keys, ev(e.e));
        return j < 0 ? LOOKUP_MISS : e.values[j]! >>> 0;
      }
      case 'extern': {
        const args = e.args.map(ev);
        if (!opts.callExtern) {
          const name = program.externs[e.id]?.name ?? `#${e.id}`;
          throw new Error(`extern ${name} has no implementation`);
        }
        return opts.callExtern(e.id, args, packet, wirelen, state) >>> 0;
      }
    }
  };

  const run = (s: Stmt): void => {
    switch (s.k) {
      case 'seq':
        for (const b of s.body) run(b);
        return;
      case 'if':
        if (ev(s.cond) !== 0) run(s.then);
        else if (s.else) run(s.else);
        return;
      case 'for': {
        state.registers[s.reg] = ev(s.init);
        const limit = ev(s.limit);   // once, after init
        while (rel(s.cmp, state.registers[s.reg]!, limit)) {
          if (fuelLeft <= 0) throw new Stop(0, true);
          fuelLeft--;
          try {
            run(s.body);
          } catch (x) {
            if (x instanceof Break) return;
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
          if (s.catchFaults && x instanceof Stop && x.fault && !x.outOfFuel) return;
          throw x;
        }
        return;
      case 'exit': throw new Exit(s.label);
      case 'return': throw new Stop(ev(s.value), false, false);
      case 'setreg': state.registers[s.n] = ev(s.value); return;
      case 'setmem': {
        const i = ev(s.index) & memMask;   // index first, then value
        state.memory[i] = ev(s.value);
        return;
      }
      case 'setlocal': locals[s.n] = ev(s.value); return;
      case 'setstate': {
        const i = stateIndex(s.i, s.at);   // `at` first, then the value
        state.state[i] = ev(s.value);
        return;
      }
      case 'eval': ev(s.e); return;
      case 'searchall': {
        const from = ev(s.from);
        const to = ev(s.to);
        const words = new Uint32Array(Math.ceil(s.patterns.length / 32));
        s.patterns.forEach((p, j) => {
          if (searchRegion(packet, from, to, [p])) words[j >>> 5]! |= 1 << (j & 31);
        });
        locals.set(words, s.into);
        return;
      }
    }
  };

  try {
    run(program.body);
    return { result: 0, fuelExhausted: false };   // fell off the end
  } catch (x) {
    if (x instanceof Stop) {
      if (x.outOfFuel) state.fuelExhausted++;
      return { result: x.result >>> 0, fuelExhausted: x.outOfFuel };
    }
    if (x instanceof Break) throw new Error('break outside of a for loop (the program does not validate)');
    if (x instanceof Exit) throw new Error(`exit ${x.label} outside of a block with that label (the program does not validate)`);
    throw x;
  }
}

/** Runs packets in order with shared state; one result per packet. */
export function runPackets(program: Program, state: InterpState,
  packets: readonly { bytes: Uint8Array; wirelen: number }[], opts: InterpOptions = {}): Uint32Array {
  const results = new Uint32Array(packets.length);
  packets.forEach((p, i) => { results[i] = runPacket(program, state, p.bytes, p.wirelen, opts).result; });
  return results;
}
