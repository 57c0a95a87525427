/**
 * IR → binaryen expressions for one program: the per-packet function
 * `filter(pkt, caplen) -> result` (pkt: the packet's first byte, just after its record header), with the IR's fault rules made explicit:
 *
 * - a load past the captured length, a division by zero or running out of fuel `return 0`
 *   from `filter` at once (R/M writes live in linear memory, so they stay);
 * - shifts by 32 or more give 0 (WebAssembly would take the count mod 32);
 * - length checks: the emitter tracks the captured lengths already proven on the current path
 *   (facts.ts: every load proves `caplen >= base + off + size` for what follows it, for the
 *   frame start and for packet-pure dynamic bases such as the transport header), and drops
 *   checks that are implied. Facts proven inside a branch do not survive its join unless
 *   every arm proved them; facts inside a loop body do not leave the loop.
 */
import binaryen from './binaryen.js';
import type { BinOp, Expr, Program, RelOp, Stmt } from '../../lang/ir/ir.js';
import { lowerField } from '../../lang/ir/fields.js';
import { FRAME, eqKey, frameValueKey, rawValueKey, lengthKey, meet, meetAll, neKey, NO_FACTS, proven, pureBound, splitOffset, valueKey, withExact, withFact, type Facts } from './facts.js';
import { SearchEmitter } from './search.js';
import { InSetEmitter } from './inset.js';
import { CTRL_FUEL_EXHAUSTED, CTRL_FUEL_LIMIT, MEM_OFF, RECORD_HEADER_BYTES, REGS_OFF, externImportName } from '../../abi/index.js';

type X = binaryen.ExpressionRef;
const I32 = binaryen.i32;

// filter's parameters; the wire length is read from the record header only where a program uses it.
const P_PKT = 0, P_CAPLEN = 1;
const U32_LIMIT = 2 ** 32;
/**
 * Reads of one kept load value before the bytes are loaded again into a fresh local. V8 merges
 * equal comparisons of one value into one node, and its optimizing compiler's branch-condition
 * duplication is quadratic in the branches such a node feeds (`tcp and tcp and …`, 8,000 terms:
 * 66% of a 5.5 s compile); a reload from memory is a few cycles.
 */
const MAX_VALUE_LOCAL_USES = 32;

/** The value key of a load's bytes taken as they lie in memory (little-endian), not swapped. */
const bswap32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

export class FilterEmitter {
  private readonly vars: binaryen.Type[] = [];
  private readonly firstLocal = 2;
  private fuelLocal = -1;
  /** Captured lengths proven on the current path (null: the path cannot go on). */
  private known: Facts = NO_FACTS;
  private readonly blockKnown = new Map<number, Facts[]>();
  private readonly loopStack: { name: string; known: Facts[] }[] = [];
  private loops = 0;
  private labels = 0;
  private readonly fieldCache = new Map<string, Expr>();
  /** The local holding each reusable load's value (see load). */
  private readonly valueLocals = new Map<string, number>();
  /** Reads of each generation of a kept load value (`key#generation`; see load). */
  private readonly valueLocalReads = new Map<string, number>();
  /** The search functions `search` nodes call (search.ts); they need the SIMD feature. */
  readonly searches: SearchEmitter;
  /** Set membership tests and the lookup functions they share (inset.ts). */
  private readonly sets: InSetEmitter;

  /**
   * `stateOff`: where the host-function state area S[] starts in linear memory (abi/index.ts
   * layout); `tablesOff`: where large sets may put hash tables in memory (undefined: in code).
   */
  constructor(private readonly m: binaryen.Module, private readonly program: Program, private readonly stateOff: number, tablesOff?: number) {
    for (let i = 0; i < program.locals; i++) this.vars.push(I32);
    this.searches = new SearchEmitter(m);
    this.sets = new InSetEmitter(m, tablesOff);
  }

  /** The hash tables the sets placed in memory: their data segments and the bytes they take. */
  get tables(): { segments: readonly { offset: number; data: Uint8Array }[]; bytes: number } {
    return { segments: this.sets.segments, bytes: this.sets.tablesBytes };
  }

  /** Builds `filter` into the module under `name`. */
  emitFunction(name: string): void {
    const body = this.stmt(this.program.body);
    const pre: X[] = [];
    if (this.fuelLocal >= 0) {
      pre.push(this.m.local.set(this.fuelLocal, this.m.i32.load(CTRL_FUEL_LIMIT, 4, this.m.i32.const(0))));
    }
    const fn = this.m.block(null, [...pre, body, this.m.return(this.m.i32.const(0))], binaryen.unreachable);
    this.m.addFunction(name, binaryen.createType([I32, I32]), I32, this.vars, fn);
  }

  private temp(type: binaryen.Type = I32): number {
    this.vars.push(type);
    return this.firstLocal + this.vars.length - 1;
  }

  private readonly scratchLocals = new Map<string, number>();
  /**
   * One local per use for the whole function, for values that are set and then read with no
   * IR expression evaluated in between (so no other use of the same kind can clobber them): a
   * fresh local per load made binaryen's local coalescing, quadratic in locals, dominate long
   * filters (3,000 `host and port` terms: 6,000 locals, 5 s).
   */
  private scratch(use: 'swap' | 'offset' | 'inset' | 'lookup'): number {
    let n = this.scratchLocals.get(use);
    if (n === undefined) { n = this.temp(); this.scratchLocals.set(use, n); }
    return n;
  }

  private get(i: number): X { return this.m.local.get(i, I32); }
  private k(v: number): X { return this.m.i32.const(v | 0); }
  /** Innermost enclosing `catchFaults` block, where a fault goes instead of ending the packet. */
  private readonly faultTargets: string[] = [];

  private fault(): X {
    const target = this.faultTargets[this.faultTargets.length - 1];
    return target ? this.m.br(target) : this.m.return(this.m.i32.const(0));
  }

  // ---- statements -------------------------------------------------------------------------

  private stmt(s: Stmt): X {
    const m = this.m;
    switch (s.k) {
      case 'seq': return m.block(null, s.body.map((b) => this.stmt(b)));
      case 'if': {
        const { test, end, other, a, b } = this.arms(s.cond, () => this.stmt(s.then), () => (s.else ? this.stmt(s.else) : m.nop()));
        return m.block(end, [m.block(other, [...test, a, m.br(end)]), b]);
      }
      case 'for': return this.forLoop(s);
      case 'break': {
        const loop = this.loopStack[this.loopStack.length - 1];
        if (!loop) throw new Error('internal: break outside for (the front end should have rejected it)');
        loop.known.push(this.known);
        this.known = null;
        return m.br(loop.name);
      }
      case 'block': {
        const k0 = this.known;
        this.blockKnown.set(s.label, []);
        if (s.catchFaults) this.faultTargets.push(`b${s.label}`);
        const body = this.stmt(s.body);
        if (s.catchFaults) this.faultTargets.pop();
        const exits = this.blockKnown.get(s.label)!;
        this.blockKnown.delete(s.label);
        // A fault can leave the block anywhere; every point inside knows at least what the entry knew.
        this.known = s.catchFaults ? meetAll([k0, this.known, ...exits]) : meetAll([this.known, ...exits]);
        return m.block(`b${s.label}`, [body]);
      }
      case 'exit': {
        const exits = this.blockKnown.get(s.label);
        if (!exits) throw new Error(`internal: exit ${s.label} outside its block`);
        exits.push(this.known);
        this.known = null;
        return m.br(`b${s.label}`);
      }
      case 'return': {
        const v = this.expr(s.value);
        this.known = null;
        return m.return(v);
      }
      case 'setreg': return m.i32.store(REGS_OFF + 4 * s.n, 4, m.i32.const(0), this.expr(s.value));
      case 'setmem': {
        const addr = this.memAddr(s.index);
        return m.i32.store(MEM_OFF, 4, addr, this.expr(s.value));
      }
      case 'setlocal': return m.local.set(this.firstLocal + s.n, this.expr(s.value));
      case 'setstate': {
        const addr = this.stateAddr(s.i, s.at);   // `at` before the value, as the IR says
        return m.i32.store(addr.offset, 4, addr.ptr, this.expr(s.value));
      }
      case 'eval': return m.drop(this.expr(s.e));
      case 'searchall': return this.searchAll(s);
    }
  }

  private forLoop(s: Extract<Stmt, { k: 'for' }>): X {
    const m = this.m;
    if (this.fuelLocal < 0) this.fuelLocal = this.temp();
    const id = this.loops++;
    const brk = `for${id}_end`, top = `for${id}_top`;
    const reg = REGS_OFF + 4 * s.reg;
    const lim = this.temp();
    const init = m.i32.store(reg, 4, m.i32.const(0), this.expr(s.init));
    const setLim = m.local.set(lim, this.expr(s.limit));
    const k0 = this.known;
    const regNow = m.i32.load(reg, 4, m.i32.const(0));
    const fuel = this.fuelLocal;
    const exhausted = m.block(null, [
      m.i32.store(CTRL_FUEL_EXHAUSTED, 4, m.i32.const(0),
        m.i32.add(m.i32.load(CTRL_FUEL_EXHAUSTED, 4, m.i32.const(0)), m.i32.const(1))),
      m.return(m.i32.const(0)),   // fuel is not a catchable fault
    ]);
    const frame = { name: brk, known: [] as Facts[] };
    this.loopStack.push(frame);
    const body = this.stmt(s.body);
    this.loopStack.pop();
    this.known = meetAll([k0, ...frame.known]);
    const loop = m.loop(top, m.block(null, [
      m.br(brk, m.i32.eqz(this.rel(s.cmp, regNow, this.get(lim)))),
      m.if(m.i32.eqz(this.get(fuel)), exhausted),
      m.local.set(fuel, m.i32.sub(this.get(fuel), m.i32.const(1))),
      body,
      m.i32.store(reg, 4, m.i32.const(0), m.i32.add(m.i32.load(reg, 4, m.i32.const(0)), this.k(s.step))),
      m.br(top),
    ]));
    return m.block(brk, [init, setLim, loop]);
  }

  // ---- expressions ------------------------------------------------------------------------

  private expr(e: Expr): X {
    const m = this.m;
    switch (e.k) {
      case 'const': return this.k(e.v);
      case 'reg': return m.i32.load(REGS_OFF + 4 * e.n, 4, m.i32.const(0));
      case 'mem': return m.i32.load(MEM_OFF, 4, this.memAddr(e.index));
      case 'local': return this.get(this.firstLocal + e.n);
      case 'meta': {
        if (e.m === 'caplen') return this.get(P_CAPLEN);
        // The rest comes from the record header just before the packet: ts_sec, ts_frac, caplen, wirelen.
        const at = { tssec: 0, tsfrac: 4, wirelen: 12 }[e.m];
        return m.i32.load(0, 1, m.i32.sub(this.get(P_PKT), m.i32.const(RECORD_HEADER_BYTES - at)));
      }
      case 'state': {
        const addr = this.stateAddr(e.i, e.at);
        return m.i32.load(addr.offset, 4, addr.ptr);
      }
      case 'load': return this.load(e.off, e.size);
      case 'field': return this.expr(this.lowered(e));
      case 'bin': return this.binary(e.op, e.a, e.b);
      case 'neg': return m.i32.sub(m.i32.const(0), this.expr(e.a));
      case 'bnot': return m.i32.xor(this.expr(e.a), m.i32.const(-1));
      case 'lnot': return m.i32.eqz(this.truth(e.a));
      case 'land': {
        if (this.range(e)) return this.truth(e);
        const a = this.truth(e.a);
        const k0 = this.known;
        this.assume(e.a, true);
        const b = m.i32.ne(this.truth(e.b), m.i32.const(0));
        this.known = k0;
        return m.if(a, b, m.i32.const(0));
      }
      case 'lor': {
        const a = this.truth(e.a);
        const k0 = this.known;
        this.assume(e.a, false);
        const b = m.i32.ne(this.truth(e.b), m.i32.const(0));
        this.known = k0;
        return m.if(a, m.i32.const(1), b);
      }
      case 'cond': {
        const { test, end, other, a, b } = this.arms(e.c, () => this.expr(e.a), () => this.expr(e.b));
        return m.block(end, [m.block(other, [...test, m.br(end, 0, a)]), b], I32);
      }
      case 'hash': return this.hash(e);
      case 'search': return this.search(e);
      case 'inset': {
        const x = this.scratch('inset');
        // A 4-byte load (addresses) is tested as raw bytes against the byte-swapped set:
        // membership does not change under a bijection. (2-byte values stay: a port range's
        // neighbours would be scattered by the swap and lose the bit-mask lowering.)
        const ld = this.rawCandidate(e.e);
        if (ld && ld.size === 4) {
          const set = e.set.map(bswap32).sort((p, q) => p - q);
          return m.block(null, [m.local.set(x, this.load(ld.off, 4, true)), this.sets.test(x, set)], I32);
        }
        return m.block(null, [m.local.set(x, this.expr(e.e)), this.sets.test(x, e.set)], I32);
      }
      case 'lookup': {
        const x = this.scratch('lookup');
        return m.block(null, [m.local.set(x, this.expr(e.e)), this.sets.lookup(x, e.keys, e.values)], I32);
      }
      case 'extern': {
        const args = e.args.map((a) => this.expr(a));
        return m.call(externImportName(e.id),
          [m.i32.sub(this.get(P_PKT), m.i32.const(RECORD_HEADER_BYTES)), ...args], I32);
      }
    }
  }

  /**
   * Where S[i] or S[i + at] lives: a constant address, or the checked word index times 4 (a
   * word outside S[] is a fault, as the IR says).
   */
  private stateAddr(i: number, at: Expr | undefined): { offset: number; ptr: X } {
    const m = this.m;
    if (!at) return { offset: this.stateOff + 4 * i, ptr: m.i32.const(0) };
    const w = this.temp();
    const words = this.program.stateWords ?? 0;
    return {
      offset: this.stateOff,
      ptr: m.block(null, [
        m.local.set(w, m.i32.add(this.k(i), this.expr(at))),
        m.if(m.i32.ge_u(this.get(w), this.k(words)), this.fault()),
        m.i32.shl(this.get(w), m.i32.const(2)),
      ], I32),
    };
  }

  private lowered(e: Extract<Expr, { k: 'field' }>): Expr {
    const key = `${e.name}+${e.shift ?? 0}`;
    let low = this.fieldCache.get(key);
    if (!low) {
      low = lowerField(e.name, this.program.linkType, e.shift ?? 0);
      this.fieldCache.set(key, low);
    }
    return low;
  }

  private memAddr(index: Expr): X {
    const m = this.m;
    const mask = this.program.memoryCells - 1;
    if (index.k === 'const') return m.i32.const(((index.v & mask) >>> 0) * 4);
    return m.i32.shl(m.i32.and(this.expr(index), this.k(mask)), m.i32.const(2));
  }

  /**
   * A big-endian load of `size` bytes at frame offset `off`, with its length check unless proven.
   * Packet bytes do not change while a packet runs, so a load whose offset is constant or
   * packet-pure keeps its value in a local of its own; a later load of the same bytes on a
   * path where the first one certainly ran reads the local (facts key `v:…`).
   */
  /**
   * A load's value, kept in a local for the path's later loads of the same bytes. `raw`: the
   * bytes as a little-endian number (no byte swap), for comparisons with a swapped constant.
   */
  private load(offExpr: Expr, size: 1 | 2 | 4, raw = false): X {
    const m = this.m;
    const key = this.loadKey(offExpr, size);
    const valueKey = key !== undefined && raw ? rawValueKey(key) : key;
    // The fact's value is the generation of the load whose value the local holds on this path
    // (a reload stores the same bytes in the same local: a new value for V8, the same for us).
    const generation = valueKey === undefined || this.known === null ? 0 : this.known.get(valueKey) ?? 0;
    if (generation > 0) {
      const reads = (this.valueLocalReads.get(`${valueKey}#${generation}`) ?? 0) + 1;
      this.valueLocalReads.set(`${valueKey}#${generation}`, reads);
      if (reads <= MAX_VALUE_LOCAL_USES) return this.get(this.valueLocals.get(valueKey!)!);
    }
    const loaded = this.checkedLoad(offExpr, size, !raw);
    if (valueKey === undefined || this.known === null) return loaded;
    let local = this.valueLocals.get(valueKey);
    if (local === undefined) { local = this.temp(); this.valueLocals.set(valueKey, local); }
    this.known = withFact(this.known, valueKey, generation + 1);
    return m.local.tee(local, loaded, I32);
  }

  /**
   * The two arms of a branch on `cond` in jumping code: `test` falls through into the `then`
   * arm and branches to the label `other` (the else arm); the caller ends the then arm with a
   * branch to `end`. Each arm is emitted with the facts of the paths that reach it; after it,
   * `known` is what both arms leave.
   */
  private arms(cond: Expr, whenTrue: () => X, whenFalse: () => X): { test: X[]; end: string; other: string; a: X; b: X } {
    const end = this.label('end'), other = this.label('else');
    const toElse: Facts[] = [];
    const test = this.branchOn(cond, other, false, toElse);
    const a = whenTrue();
    const afterTrue = this.known;
    this.known = meetAll(toElse);
    const b = whenFalse();
    this.known = meetAll([afterTrue, this.known]);
    return { test, end, other, a, b };
  }

  /** A fresh label name for jumping code. */
  private label(what: string): string { return `${what}${this.labels++}`; }

  /**
   * Jumping code for a condition: statements that branch to `target` when e's truth is `when`
   * and fall through otherwise, evaluating `&&`, `||` and `!` by control flow, one conditional
   * branch per leaf test, instead of materializing 0/1 values to test again. The facts known at
   * each branch to `target` are pushed on `exits`; on return, `known` is the fall-through's.
   */
  private branchOn(e: Expr, target: string, when: boolean, exits: Facts[]): X[] {
    const m = this.m;
    // A fused range is a leaf test.
    if (!this.range(e)) switch (e.k) {
      case 'lnot': return this.branchOn(e.a, target, !when, exits);
      case 'land': case 'lor': {
        // `a && b` is false as soon as a is (`a || b` true as soon as a is): both jump to target.
        const shortCircuit = (e.k === 'land') !== when;
        if (shortCircuit) return [...this.branchOn(e.a, target, when, exits), ...this.branchOn(e.b, target, when, exits)];
        // Otherwise a's deciding outcome skips b.
        const skip = this.label('skip');
        const skipped: Facts[] = [];
        const code = [...this.branchOn(e.a, skip, !when, skipped), ...this.branchOn(e.b, target, when, exits)];
        this.known = meetAll([this.known, ...skipped]);
        return [m.block(skip, code)];
      }
      case 'const': return this.branchDecided(e.v !== 0, target, when, exits);
      case 'bin': {
        // A comparison this path has already decided (the repeated ethertype test of `ip6 and
        // udp`) is no test: testing it would also record its impossible outcome as a fact.
        const known = e.op === 'eq' || e.op === 'ne' ? this.knownEquality(e.a, e.b) : undefined;
        if (known !== undefined) return this.branchDecided((e.op === 'eq') === known, target, when, exits);
        break;
      }
      default: break;
    }
    const value = this.truth(e);
    const before = this.known;
    this.assume(e, when);
    exits.push(this.known);
    this.known = before;
    this.assume(e, !when);
    return [m.br(target, when ? value : m.i32.eqz(value))];
  }

  /** branchOn for a condition whose truth is known at compile time: an unconditional branch or none. */
  private branchDecided(truth: boolean, target: string, when: boolean, exits: Facts[]): X[] {
    if (truth !== when) return [];
    exits.push(this.known);
    this.known = null;
    return [this.m.br(target)];
  }

  /**
   * `x >= lo && x <= hi` for x a load (or a field), lo <= hi: one unsigned compare,
   * `x - lo <= hi - lo`, in place of two (x is read once; its load faults first in both).
   */
  private range(e: Expr): { x: Expr; lo: number; hi: number } | undefined {
    if (e.k !== 'land' || e.a.k !== 'bin' || e.b.k !== 'bin' || e.a.op !== 'ge' || e.b.op !== 'le') return undefined;
    const { a: x, b: lo } = e.a, { a: y, b: hi } = e.b;
    if ((x.k !== 'load' && x.k !== 'field') || lo.k !== 'const' || hi.k !== 'const' || lo.v >>> 0 > hi.v >>> 0) return undefined;
    return JSON.stringify(x) === JSON.stringify(y) ? { x, lo: lo.v >>> 0, hi: hi.v >>> 0 } : undefined;
  }

  /**
   * `e` where only whether it is zero matters (a condition): non-zero exactly when e is. A
   * masked load `x & m` is then the raw bytes against m byte-swapped, as in rawEquality.
   */
  private truth(expr: Expr): X {
    const r = this.range(expr);
    if (r) return this.m.i32.le_u(this.m.i32.sub(this.expr(r.x), this.k(r.lo)), this.k(r.hi - r.lo));
    const e = expr.k === 'field' ? this.lowered(expr) : expr;
    if (e.k === 'bin' && e.op === 'and' && e.b.k === 'const') {
      const ld = this.rawCandidate(e.a);
      if (ld && (ld.size === 4 || e.b.v >>> 0 <= 0xffff)) {
        const mask = ld.size === 2 ? ((e.b.v & 0xff) << 8) | ((e.b.v >>> 8) & 0xff) : bswap32(e.b.v >>> 0);
        return this.m.i32.and(this.load(ld.off, ld.size, true), this.k(mask));
      }
    }
    return this.expr(e);
  }

  /**
   * A 2- or 4-byte load (or a field that is one) whose big-endian value this path has not
   * loaded yet, so that it can be used as raw bytes against byte-swapped constants instead.
   */
  private rawCandidate(x: Expr): Extract<Expr, { k: 'load' }> | undefined {
    const ld = x.k === 'field' ? this.lowered(x) : x;
    if (ld.k !== 'load' || ld.size === 1) return undefined;
    const key = this.loadKey(ld.off, ld.size);
    return key !== undefined && proven(this.known, key, 1) ? undefined : ld;   // else the swapped value is at hand
  }

  /**
   * `x == c` / `x != c`, and `(x & m) == c`, for x a load as rawCandidate takes: the raw bytes
   * against c (and m) byte-swapped at compile time, which saves the swap (4–6 instructions) on
   * every packet. Undefined when that does not apply.
   */
  private rawEquality(op: 'eq' | 'ne', a: Expr, b: Expr): X | undefined {
    const [operand, c] = b.k === 'const' ? [a, b.v] : a.k === 'const' ? [b, a.v] : [undefined, 0];
    if (!operand) return undefined;
    // A field may lower to a masked load (ip4.fragoff is `load2[20] & 0x1fff`).
    const x = operand.k === 'field' ? this.lowered(operand) : operand;
    const masked = x.k === 'bin' && x.op === 'and' && x.b.k === 'const' ? { e: x.a, mask: x.b.v } : undefined;
    const ld = this.rawCandidate(masked ? masked.e : x);
    if (!ld || (ld.size === 2 && (c > 0xffff || (masked && masked.mask > 0xffff)))) return undefined;
    const swap = (v: number) => (ld.size === 2 ? ((v & 0xff) << 8) | (v >>> 8) : bswap32(v));
    const raw = this.load(ld.off, ld.size, true);
    return this.rel(op, masked ? this.m.i32.and(raw, this.k(swap(masked.mask))) : raw, this.k(swap(c)));
  }

  /** The facts key of a load's value when its offset is constant or packet-pure, else undefined. */
  private loadKey(offExpr: Expr, size: number): string | undefined {
    if (offExpr.k === 'const') return frameValueKey(offExpr.v, size);
    const { base, k } = splitOffset(offExpr);
    return pureBound(base, (f) => this.lowered(f)) === undefined ? undefined : valueKey(base, k, size);
  }

  /** `x == c` with x a reusable load (or a field that is one) and c a constant: [value key, c]. */
  private equalityAtom(a: Expr, b: Expr): [string, number] | undefined {
    const [x, c] = b.k === 'const' ? [a, b.v] : a.k === 'const' ? [b, a.v] : [undefined, 0];
    if (!x) return undefined;
    const load = x.k === 'field' ? this.lowered(x) : x;
    if (load.k !== 'load') return undefined;
    const key = this.loadKey(load.off, load.size);
    return key !== undefined && (proven(this.known, key, 1) || proven(this.known, rawValueKey(key), 1)) ? [key, c] : undefined;
  }

  /**
   * Whether `a == b` is already decided on this path (true/false), from the outcomes of
   * comparisons the path took: libpcap's optimizer's main gain, e.g. the repeated ethertype
   * tests of `host a or host b or …` collapse to one.
   */
  private knownEquality(a: Expr, b: Expr): boolean | undefined {
    const atom = this.equalityAtom(a, b);
    if (!atom || this.known === null) return undefined;
    const [key, c] = atom;
    const eq = this.known.get(eqKey(key));
    if (eq !== undefined) return eq === c;
    return this.known.has(neKey(key, c)) ? false : undefined;
  }

  /**
   * Records what the path knows once `e` (already evaluated on it) is `truth`. Looks at most
   * `budget` nodes deep into and/or trees (knowing less is always safe), so long chains stay linear.
   */
  private assume(e: Expr, truth: boolean, budget = { left: 16 }): void {
    if (this.known === null || budget.left-- <= 0) return;
    switch (e.k) {
      case 'lnot': this.assume(e.a, !truth, budget); return;
      case 'land': if (truth) { this.assume(e.a, true, budget); this.assume(e.b, true, budget); } return;
      case 'lor': if (!truth) { this.assume(e.a, false, budget); this.assume(e.b, false, budget); } return;
      case 'bin': {
        // `caplen >= K` or `caplen >= base + K` (as the set-membership pass emits) proves K bytes
        // from the frame start or from a packet-pure base for what it guards.
        if (e.a.k === 'meta' && e.a.m === 'caplen' && ((e.op === 'ge' && truth) || (e.op === 'lt' && !truth))) {
          if (e.b.k === 'const') { this.known = withFact(this.known, FRAME, e.b.v); return; }
          const { base, k } = splitOffset(e.b);
          const bound = pureBound(base, (f) => this.lowered(f));
          if (bound !== undefined && bound + k < U32_LIMIT) this.known = withFact(this.known, lengthKey(base), k);
          return;
        }
        if (e.op !== 'eq' && e.op !== 'ne') return;
        const atom = this.equalityAtom(e.a, e.b);
        if (!atom) return;
        const [key, c] = atom;
        const isEq = (e.op === 'eq') === truth;
        // An outcome that contradicts what the path knows cannot happen: the path is unreachable.
        const eq = this.known.get(eqKey(key));
        if (isEq ? (eq !== undefined && eq !== c) || this.known.has(neKey(key, c)) : eq === c) { this.known = null; return; }
        this.known = isEq ? withExact(this.known, eqKey(key), c) : withExact(this.known, neKey(key, c), 1);
        return;
      }
      default: return;
    }
  }

  private checkedLoad(offExpr: Expr, size: 1 | 2 | 4, swap = true): X {
    const m = this.m;
    if (offExpr.k === 'const') {
      const end = offExpr.v + size;
      if (proven(this.known, FRAME, end)) return this.rawLoad(this.get(P_PKT), offExpr.v, size, swap);
      // Past every possible capture (MAX_CAPLEN is far below 2^32): always a fault.
      if (end >= U32_LIMIT) { this.known = null; return this.fault(); }
      const check = m.if(m.i32.lt_u(this.get(P_CAPLEN), this.k(end)), this.fault());
      this.known = withFact(this.known, FRAME, end);
      return m.block(null, [check, this.rawLoad(this.get(P_PKT), offExpr.v, size, swap)], I32);
    }
    const t = this.scratch('offset');
    const set = m.local.set(t, this.expr(offExpr));
    const addr = m.i32.add(this.get(P_PKT), this.get(t));
    // A packet-pure base small enough not to wrap can carry facts from one load to the next.
    const { base, k } = splitOffset(offExpr);
    const bound = pureBound(base, (f) => this.lowered(f));
    const key = bound !== undefined && bound + k + size < U32_LIMIT ? lengthKey(base) : undefined;
    if (key !== undefined && proven(this.known, key, k + size)) return m.block(null, [set, this.rawLoad(addr, 0, size, swap)], I32);
    // off + size > caplen: in 32 bits where the offset's bound keeps the sum below 2^32, else in
    // 64 bits so that an offset near 2^32 cannot wrap.
    const past = key !== undefined
      ? m.i32.gt_u(m.i32.add(this.get(t), this.k(size)), this.get(P_CAPLEN))
      : m.i64.gt_u(m.i64.add(m.i64.extend_u(this.get(t)), m.i64.const(BigInt(size))), m.i64.extend_u(this.get(P_CAPLEN)));
    if (key !== undefined) this.known = withFact(this.known, key, k + size);
    return m.block(null, [set, m.if(past, this.fault()), this.rawLoad(addr, 0, size, swap)], I32);
  }

  /** The bytes at ptr + offset as a big-endian number (`swap`), or as they are in memory. */
  private rawLoad(ptr: X, offset: number, size: 1 | 2 | 4, swap = true): X {
    const m = this.m;
    if (size === 1) return m.i32.load8_u(offset, 1, ptr);
    if (!swap) return size === 2 ? m.i32.load16_u(offset, 1, ptr) : m.i32.load(offset, 1, ptr);
    const t = this.scratch('swap');
    if (size === 2) {
      const v = m.local.tee(t, m.i32.load16_u(offset, 1, ptr), I32);
      return m.i32.or(m.i32.shl(m.i32.and(v, m.i32.const(0xff)), m.i32.const(8)), m.i32.shr_u(this.get(t), m.i32.const(8)));
    }
    const v = m.local.tee(t, m.i32.load(offset, 1, ptr), I32);
    return m.i32.or(
      m.i32.and(m.i32.rotl(v, m.i32.const(8)), m.i32.const(0x00ff00ff)),
      m.i32.and(m.i32.rotr(this.get(t), m.i32.const(8)), m.i32.const(0xff00ff00 | 0)));
  }

  private rel(op: RelOp, a: X, b: X): X {
    const m = this.m;
    switch (op) {
      case 'eq': return m.i32.eq(a, b);
      case 'ne': return m.i32.ne(a, b);
      case 'lt': return m.i32.lt_u(a, b);
      case 'le': return m.i32.le_u(a, b);
      case 'gt': return m.i32.gt_u(a, b);
      case 'ge': return m.i32.ge_u(a, b);
    }
  }

  private binary(op: BinOp, ea: Expr, eb: Expr): X {
    const m = this.m;
    switch (op) {
      case 'add': return m.i32.add(this.expr(ea), this.expr(eb));
      case 'sub': return m.i32.sub(this.expr(ea), this.expr(eb));
      case 'mul': return m.i32.mul(this.expr(ea), this.expr(eb));
      case 'and': return m.i32.and(this.expr(ea), this.expr(eb));
      case 'or': return m.i32.or(this.expr(ea), this.expr(eb));
      case 'xor': return m.i32.xor(this.expr(ea), this.expr(eb));
      case 'eq': case 'ne': {
        const known = this.knownEquality(ea, eb);
        if (known !== undefined) return m.i32.const((op === 'eq') === known ? 1 : 0);
        return this.rawEquality(op, ea, eb) ?? this.rel(op, this.expr(ea), this.expr(eb));
      }
      case 'lt': case 'le': case 'gt': case 'ge':
        return this.rel(op, this.expr(ea), this.expr(eb));
      case 'div': case 'mod': {
        const wasmOp = op === 'div' ? m.i32.div_u : m.i32.rem_u;
        const a = this.expr(ea);
        if (eb.k === 'const' && eb.v !== 0) return wasmOp(a, this.k(eb.v));
        if (eb.k === 'const') { this.known = null; return m.block(null, [m.drop(a), this.fault()], I32); }
        const ta = this.temp(), tb = this.temp();
        return m.block(null, [
          m.local.set(ta, a), m.local.set(tb, this.expr(eb)),
          m.if(m.i32.eqz(this.get(tb)), this.fault()),
          wasmOp(this.get(ta), this.get(tb)),
        ], I32);
      }
      case 'shl': case 'shr': {
        const wasmOp = op === 'shl' ? m.i32.shl : m.i32.shr_u;
        const a = this.expr(ea);
        if (eb.k === 'const') {
          return eb.v < 32 ? wasmOp(a, this.k(eb.v)) : m.block(null, [m.drop(a), m.i32.const(0)], I32);
        }
        const ta = this.temp(), tb = this.temp();
        return m.block(null, [
          m.local.set(ta, a), m.local.set(tb, this.expr(eb)),
          m.select(m.i32.lt_u(this.get(tb), m.i32.const(32)), wasmOp(this.get(ta), this.get(tb)), m.i32.const(0)),
        ], I32);
      }
    }
  }

  /** A search region: `from`, then `to`, into locals, the end clipped to the captured length. */
  private region(fromE: Expr, toE: Expr): { setup: X[]; empty: X; addresses: X[] } {
    const m = this.m;
    const from = this.temp(), end = this.temp();
    return {
      setup: [
        m.local.set(from, this.expr(fromE)),
        m.local.set(end, this.expr(toE)),
        m.if(m.i32.gt_u(this.get(end), this.get(P_CAPLEN)), m.local.set(end, this.get(P_CAPLEN))),
      ],
      empty: m.i32.ge_u(this.get(from), this.get(end)),
      // from < end <= caplen when the region is not empty: both addresses lie in the packet, so neither sum wraps.
      addresses: [m.i32.add(this.get(P_PKT), this.get(from)), m.i32.add(this.get(P_PKT), this.get(end))],
    };
  }

  /** L[into..] = which patterns lie whole in [from, min(to, caplen)), one bit each (search.ts). */
  private searchAll(s: Extract<Stmt, { k: 'searchall' }>): X {
    const m = this.m;
    const { setup, empty, addresses } = this.region(s.from, s.to);
    const fn = this.searches.allFunctionFor(s.patterns);
    return m.block(null, [
      ...setup,
      // An empty region is passed as [0, 0), which writes every word 0.
      m.if(empty, m.call(fn.name, [this.k(0), this.k(0)], binaryen.none), m.call(fn.name, addresses, binaryen.none)),
      ...fn.words.map((g, i) => m.local.set(this.firstLocal + s.into + i, m.global.get(g, I32))),
    ]);
  }

  /** 1 if a pattern lies whole in [from, min(to, caplen)); never a fault. */
  private search(e: Extract<Expr, { k: 'search' }>): X {
    const m = this.m;
    const { setup, empty, addresses } = this.region(e.from, e.to);
    const fn = this.searches.functionFor(e.patterns);
    return m.block(null, [...setup, m.if(empty, m.i32.const(0), m.call(fn, addresses, I32))], I32);
  }

  /** FNV-1a 32 over [off, off+len), then % range (0 when range is 0). */
  private hash(e: Extract<Expr, { k: 'hash' }>): X {
    const m = this.m;
    const off = this.temp(), len = this.temp(), range = this.temp(), h = this.temp(), p = this.temp(), end = this.temp();
    const id = this.loops++;
    const past = m.i64.gt_u(
      m.i64.add(m.i64.extend_u(this.get(off)), m.i64.extend_u(this.get(len))),
      m.i64.extend_u(this.get(P_CAPLEN)));
    return m.block(null, [
      m.local.set(off, this.expr(e.off)),
      m.local.set(len, this.expr(e.len)),
      m.local.set(range, this.expr(e.range)),
      m.if(past, this.fault()),
      m.local.set(h, m.i32.const(0x811c9dc5 | 0)),
      m.local.set(p, m.i32.add(this.get(P_PKT), this.get(off))),
      m.local.set(end, m.i32.add(this.get(p), this.get(len))),
      m.block(`hash${id}_end`, [m.loop(`hash${id}_top`, m.block(null, [
        m.br(`hash${id}_end`, m.i32.ge_u(this.get(p), this.get(end))),
        m.local.set(h, m.i32.mul(m.i32.xor(this.get(h), m.i32.load8_u(0, 1, this.get(p))), m.i32.const(16777619))),
        m.local.set(p, m.i32.add(this.get(p), m.i32.const(1))),
        m.br(`hash${id}_top`),
      ]))]),
      m.if(m.i32.eqz(this.get(range)), m.i32.const(0), m.i32.rem_u(this.get(h), this.get(range))),
    ], I32);
  }
}
