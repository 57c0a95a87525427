/**
 * MAPI functions as FPL externs: `EXTERN("STR_SEARCH", "GET ", 0, 1500)`, `EXTERN("PKT_COUNTER")`,
 * `EXTERN("SAMPLE", 2, 0)` … (spec/fpl.md, EXTERN). Between the FPL front end and the backend,
 * each such call is replaced by the function's own IR (hostfns/mapi-*.ts), instantiated at
 * compile time with MAPI's argument checks:
 *
 * - its state words are allocated in the program's S[], its registers after the program's;
 * - a filtering function's value is 1 when the packet passes it, 0 when it would leave the flow;
 *   a value function's value is the low 32 bits of its result (the first state word: counters,
 *   HASH, PKTINFO's size; functions whose result is not that, such as GAP, are refused);
 * - the call keeps its place in the evaluation order: a statement whose expressions contain such
 *   a call is rewritten into statements that evaluate them left to right, with `&&`, `||` and
 *   `?:` still short-circuiting, so a call runs only for the packets that reach it;
 * - a fault inside the function (an inlined BPF_FILTER reading past the packet) ends the program
 *   with 0, as any load in the program does;
 * - the parts that run in JavaScript (STR_SEARCH) become externs named `mapi:NAME` whose constant
 *   config is [linkType, index, …arguments]: a module compiled ahead of time finds them again
 *   through `MAPI_EXTERN_IMPLS`, which re-instantiates the function from that config once.
 */
import type { Expr, Extern, Program, Stmt } from '../../lang/ir/ir.js';
import { forEachStmtPart, mapSubExprs, someExpr } from '../../lang/ir/walk.js';
import type { ExternSignature } from '../../lang/fpl/index.js';
import { MAPI_FUNCTIONS, mapiFunction } from '../../hostfns/lib/library.js';
import type { MapiApplyContext, MapiFunctionDef, MapiLowerContext } from '../../hostfns/lib/types.js';
import type { ExternCallContext, ExternImpl } from '../../abi/index.js';
import { MAPI_EXTERN_PREFIX, MAX_REGISTERS } from '../../abi/index.js';
import { DEFAULT_SNAPLEN, type FilterCompilers } from '../frontends.js';
import { checkArguments } from './args.js';
import { inlineProgram } from './inline.js';

/** Compilers a function may need while it is instantiated (BPF_FILTER, FPL_FILTER): vm/frontends.ts. */
export type MapiCompilers = FilterCompilers;

const EXTERN_PREFIX = MAPI_EXTERN_PREFIX;

function applyContext(linkType: number, compilers: MapiCompilers | undefined): MapiApplyContext {
  const missing = (): never => { throw new Error('no compiler is loaded here'); };
  return {
    linkType, snaplen: DEFAULT_SNAPLEN, nanoseconds: false,
    compilePcap: (e) => (compilers ? compilers.compilePcap(e, linkType) : missing()),
    compileFpl: (s) => (compilers ? compilers.compileFpl(s, linkType) : missing()),
  };
}

type Instance = { def: MapiFunctionDef<any>; config: unknown };

/** MAPI's checks for `EXTERN("NAME", args…)`: an error message, or the instance. */
function instantiate(def: MapiFunctionDef<any>, args: readonly (string | number)[], linkType: number,
  compilers: MapiCompilers | undefined): { ok: true; inst: Instance } | { ok: false; message: string } {
  const bad = checkArguments(def, args);
  if (bad) return { ok: false, message: `${bad.message} (MAPI error ${bad.code})` };
  const r = def.instance(args, applyContext(linkType, compilers));
  if (!r.ok) return { ok: false, message: `${r.message} (MAPI error ${r.code})` };
  return { ok: true, inst: { def, config: r.config } };
}

/** Why a function cannot be an extern's value, or undefined when it can. */
function unusable(inst: Instance): string | undefined {
  const { def, config } = inst;
  if (def.cooked) return `${def.name} emits reassembled units to the rest of a MAPI flow; an FPL program has no such flow`;
  if (def.name === 'TO_BUFFER') return 'TO_BUFFER hands packets to a MAPI flow reader; an FPL program has none (use RETURN and fpl run -w)';
  if (def.memoryCells?.(config)) {
    const p = (config as { program?: Program }).program;
    if (!p || usesMemory(p.body)) return `${def.name}: a program that uses M[] cannot be inlined into another program's M[]`;
  }
  if (!def.filters) {
    if (!def.result) return `${def.name} has neither a filter decision nor a result to return`;
    if (!resultIsFirstWord(inst)) return `${def.name}'s result is not a 32-bit per-packet value; read it through the MAPI API`;
  }
  return undefined;
}

/** Whether the low 32 bits of the function's result are its first state word (probed on two states). */
function resultIsFirstWord({ def, config }: Instance): boolean {
  const words = def.stateWords(config);
  if (words === 0) return false;
  for (const seed of [0x12345678, 0x9e3779b9]) {
    const state = new Uint32Array(words);
    for (let i = 0; i < words; i++) state[i] = (seed + Math.imul(i + 1, 0x01000193)) >>> 0;
    let res: unknown;
    try { res = def.result!(config, state, { nanoseconds: false }).res; } catch { return false; }
    const low = typeof res === 'bigint' ? Number(BigInt.asUintN(32, res)) : typeof res === 'number' ? res >>> 0 : NaN;
    if (low !== state[0]) return false;
  }
  return true;
}

/**
 * Signatures the FPL front end checks `EXTERN("NAME", …)` against, for the MAPI functions not
 * shadowed by `taken` (the application's and the built-in externs) and allowed by `allowed`.
 * The check is MAPI's own: its message becomes the compile error at the call.
 */
export function mapiExternSignatures(linkType: number, compilers: MapiCompilers, taken: ReadonlySet<string>,
  allowed?: ReadonlySet<string>): ExternSignature[] {
  return MAPI_FUNCTIONS.filter((def) => !taken.has(def.name) && (!allowed || allowed.has(def.name))).map((def) => ({
    name: def.name,
    summary: def.summary,
    validate: (config) => {
      const r = instantiate(def, config, linkType, compilers);
      return r.ok ? unusable(r.inst) : r.message;
    },
  }));
}

// ---- the rewrite ----

interface Alloc { locals: number; labels: number; registers: number; stateWords: number }

/**
 * Replaces every call of a MAPI function (an extern named in `names`) by the function's IR.
 * The program's other externs keep their ids' order after the MAPI ones are removed.
 */
export function lowerMapiExterns(program: Program, names: ReadonlySet<string>, compilers: MapiCompilers): Program {
  const isMapi = program.externs.map((x) => names.has(x.name) && mapiFunction(x.name) !== undefined);
  if (!isMapi.some(Boolean)) return program;

  const externs: Extern[] = [];
  const newId = new Map<number, number>();
  program.externs.forEach((x, id) => { if (!isMapi[id]) newId.set(id, externs.push(x) - 1); });
  const alloc: Alloc = { locals: program.locals, labels: maxLabel(program.body) + 1, registers: program.registers, stateWords: program.stateWords ?? 0 };
  const prologue: Stmt[] = [];
  const initWrites: Stmt[] = [];

  /** The statements that run instance `id` for this packet, leaving its value in local `out`. */
  const callSite = (id: number, out: number): Stmt => {
    const x = program.externs[id]!;
    const def = mapiFunction(x.name)!;
    const r = instantiate(def, x.config, program.linkType, compilers);
    if (!r.ok) throw new RangeError(`EXTERN("${x.name}"): ${r.message}`);
    const problem = unusable(r.inst);
    if (problem) throw new RangeError(`EXTERN("${x.name}"): ${problem}`);
    const config = r.inst.config;
    const words = def.stateWords(config);
    const stateBase = alloc.stateWords;
    alloc.stateWords += words;
    const nregs = def.registers?.(config) ?? 0;
    const regBase = alloc.registers;
    alloc.registers += nregs;
    if (alloc.registers > MAX_REGISTERS) throw new RangeError(`EXTERN("${x.name}"): the program needs more than ${MAX_REGISTERS} registers`);
    if (def.init && words) {
      const scratch = new Uint32Array(words);
      def.init(config, scratch, { seed: (0x2545f491 ^ Math.imul(id + 1, 0x9e3779b9)) >>> 0 });
      scratch.forEach((v, i) => { if (v) initWrites.push({ k: 'setstate', i: stateBase + i, value: { k: 'const', v } }); });
    }
    const label = alloc.labels++;
    let externIndex = 0;
    const at: MapiLowerContext = {
      linkType: program.linkType, stateBase, regBase,
      exitFlow: { k: 'exit', label },
      local: () => alloc.locals++,
      inline: (p) => {
        const inl = inlineProgram(p, {
          regBase, localBase: alloc.locals, labelBase: alloc.labels, memBase: 0, stateBase, flowLabel: label,
          externId: (e) => externs.push({ ...e, config: [...e.config] }) - 1,
        });
        alloc.locals += inl.locals;
        alloc.labels += inl.labels;
        return inl.step;
      },
      externCall: (_name, _call, args) => {
        const ext: Extern = { name: EXTERN_PREFIX + def.name, config: [program.linkType, externIndex++, ...x.config] };
        return { k: 'extern', id: externs.push(ext) - 1, args };
      },
    };
    const step = def.lower(config, at);
    const value: Expr = def.filters ? { k: 'const', v: 1 } : { k: 'state', i: stateBase };
    return { k: 'block', label, body: { k: 'seq', body: [
      { k: 'setlocal', n: out, value: { k: 'const', v: 0 } }, step, { k: 'setlocal', n: out, value },
    ] } };
  };

  const rw = new Rewriter((id) => isMapi[id] === true, (id) => newId.get(id)!, callSite, () => alloc.locals++);
  const body = rw.stmt(program.body);
  if (initWrites.length) {
    // Functions that start from a non-zero state (SAMPLE's generator seed) get it on the first packet.
    const flag = alloc.stateWords++;
    prologue.push({ k: 'if', cond: { k: 'lnot', a: { k: 'state', i: flag } }, then: { k: 'seq', body: [
      ...initWrites, { k: 'setstate', i: flag, value: { k: 'const', v: 1 } },
    ] } });
  }
  return {
    ...program,
    body: prologue.length ? { k: 'seq', body: [...prologue, body] } : body,
    externs, locals: alloc.locals, registers: alloc.registers, stateWords: alloc.stateWords,
  };
}

function maxLabel(s: Stmt): number {
  switch (s.k) {
    case 'seq': return s.body.reduce((m, b) => Math.max(m, maxLabel(b)), -1);
    case 'if': return Math.max(maxLabel(s.then), s.else ? maxLabel(s.else) : -1);
    case 'for': return maxLabel(s.body);
    case 'block': return Math.max(s.label, maxLabel(s.body));
    default: return -1;
  }
}

function usesMemory(s: Stmt): boolean {
  // M[] is written by `setmem`, read by `mem` and possibly by an extern.
  if (s.k === 'setmem') return true;
  let uses = false;
  forEachStmtPart(s, (sub) => { uses ||= usesMemory(sub); }, (x) => { uses ||= someExpr(x, (y) => y.k === 'mem' || y.k === 'extern'); });
  return uses;
}

type Lin = { pre: Stmt[]; v: Expr };

/** Rewrites statements so that MAPI calls run as statements, in the order the expressions would. */
class Rewriter {
  constructor(private readonly isMapi: (id: number) => boolean, private readonly renumber: (id: number) => number,
    private readonly callSite: (id: number, out: number) => Stmt, private readonly local: () => number) {}

  has(e: Expr): boolean {
    return someExpr(e, (x) => x.k === 'extern' && this.isMapi(x.id));
  }

  /** An expression without MAPI calls, with only the extern ids renumbered. */
  private plain(e: Expr): Expr {
    if (e.k === 'extern') return { k: 'extern', id: this.renumber(e.id), args: e.args.map((a) => this.plain(a)) };
    return mapSubExprs(e, (x) => this.plain(x));
  }

  /**
   * Operands evaluated left to right: each operand's statements run after the values of the
   * operands before it were taken into locals (those values may read state the calls change).
   */
  private operands(es: Expr[]): { pre: Stmt[]; vs: Expr[] } {
    const pre: Stmt[] = [];
    const vs: Expr[] = [];
    es.forEach((e, i) => {
      const l = this.expr(e);
      pre.push(...l.pre);
      const laterCalls = es.slice(i + 1).some((x) => this.has(x));
      if (laterCalls && !isStable(l.v)) {
        const t = this.local();
        pre.push({ k: 'setlocal', n: t, value: l.v });
        vs.push({ k: 'local', n: t });
      } else {
        vs.push(l.v);
      }
    });
    return { pre, vs };
  }

  expr(e: Expr): Lin {
    if (!this.has(e)) return { pre: [], v: this.plain(e) };
    const bool = (x: Expr): Expr => ({ k: 'lnot', a: { k: 'lnot', a: x } });
    switch (e.k) {
      case 'extern': {
        const { pre, vs } = this.operands(e.args);
        if (!this.isMapi(e.id)) return { pre, v: { k: 'extern', id: this.renumber(e.id), args: vs } };
        const t = this.local();
        return { pre: [...pre, this.callSite(e.id, t)], v: { k: 'local', n: t } };
      }
      case 'mem': { const l = this.expr(e.index); return { pre: l.pre, v: { k: 'mem', index: l.v } }; }
      case 'load': { const l = this.expr(e.off); return { pre: l.pre, v: { ...e, off: l.v } }; }
      case 'neg': case 'bnot': case 'lnot': { const l = this.expr(e.a); return { pre: l.pre, v: { k: e.k, a: l.v } }; }
      case 'bin': { const { pre, vs } = this.operands([e.a, e.b]); return { pre, v: { ...e, a: vs[0]!, b: vs[1]! } }; }
      case 'hash': { const { pre, vs } = this.operands([e.off, e.len, e.range]); return { pre, v: { k: 'hash', off: vs[0]!, len: vs[1]!, range: vs[2]! } }; }
      case 'search': { const { pre, vs } = this.operands([e.from, e.to]); return { pre, v: { ...e, from: vs[0]!, to: vs[1]! } }; }
      case 'inset': case 'lookup': { const l = this.expr(e.e); return { pre: l.pre, v: { ...e, e: l.v } }; }
      case 'state': { if (!e.at) return { pre: [], v: e }; const l = this.expr(e.at); return { pre: l.pre, v: { ...e, at: l.v } }; }
      case 'land': case 'lor': {
        const a = this.expr(e.a);
        if (!this.has(e.b)) return { pre: a.pre, v: { k: e.k, a: a.v, b: this.plain(e.b) } };
        const b = this.expr(e.b);
        const t = this.local();
        const tv: Expr = { k: 'local', n: t };
        const rhs: Stmt = { k: 'seq', body: [...b.pre, { k: 'setlocal', n: t, value: bool(b.v) }] };
        return { pre: [...a.pre, { k: 'setlocal', n: t, value: bool(a.v) },
          { k: 'if', cond: e.k === 'land' ? tv : { k: 'lnot', a: tv }, then: rhs }], v: tv };
      }
      case 'cond': {
        const c = this.expr(e.c);
        const a = this.expr(e.a), b = this.expr(e.b);
        if (!a.pre.length && !b.pre.length) return { pre: c.pre, v: { k: 'cond', c: c.v, a: a.v, b: b.v } };
        const t = this.local();
        return { pre: [...c.pre, { k: 'if', cond: c.v,
          then: { k: 'seq', body: [...a.pre, { k: 'setlocal', n: t, value: a.v }] },
          else: { k: 'seq', body: [...b.pre, { k: 'setlocal', n: t, value: b.v }] } }], v: { k: 'local', n: t } };
      }
      default: return { pre: [], v: e };
    }
  }

  stmt(s: Stmt): Stmt {
    const withPre = (pre: Stmt[], last: Stmt): Stmt => (pre.length ? { k: 'seq', body: [...pre, last] } : last);
    switch (s.k) {
      case 'seq': return { k: 'seq', body: s.body.map((b) => this.stmt(b)) };
      case 'if': {
        const c = this.expr(s.cond);
        return withPre(c.pre, s.else ? { k: 'if', cond: c.v, then: this.stmt(s.then), else: this.stmt(s.else) } : { k: 'if', cond: c.v, then: this.stmt(s.then) });
      }
      case 'for': {
        const body = this.stmt(s.body);
        if (!this.has(s.limit)) {
          const i = this.expr(s.init);
          return withPre(i.pre, { ...s, init: i.v, limit: this.plain(s.limit), body });
        }
        // init is stored in R[reg] before the limit is evaluated (the limit may read it).
        const i = this.expr(s.init);
        const l = this.expr(s.limit);
        return { k: 'seq', body: [...i.pre, { k: 'setreg', n: s.reg, value: i.v }, ...l.pre,
          { ...s, init: { k: 'reg', n: s.reg }, limit: l.v, body }] };
      }
      case 'block': return { k: 'block', label: s.label, body: this.stmt(s.body) };
      case 'return': { const l = this.expr(s.value); return withPre(l.pre, { k: 'return', value: l.v }); }
      case 'setreg': { const l = this.expr(s.value); return withPre(l.pre, { k: 'setreg', n: s.n, value: l.v }); }
      case 'setlocal': { const l = this.expr(s.value); return withPre(l.pre, { k: 'setlocal', n: s.n, value: l.v }); }
      case 'setstate': {
        if (!s.at) { const l = this.expr(s.value); return withPre(l.pre, { k: 'setstate', i: s.i, value: l.v }); }
        const { pre, vs } = this.operands([s.at, s.value]);
        return withPre(pre, { k: 'setstate', i: s.i, at: vs[0]!, value: vs[1]! });
      }
      case 'setmem': { const { pre, vs } = this.operands([s.index, s.value]); return withPre(pre, { k: 'setmem', index: vs[0]!, value: vs[1]! }); }
      case 'eval': { const l = this.expr(s.e); return withPre(l.pre, { k: 'eval', e: l.v }); }
      default: return s;
    }
  }
}

/** Values later calls cannot change: constants and locals. */
const isStable = (e: Expr): boolean => e.k === 'const' || e.k === 'local';

// ---- the JavaScript parts, found again by name when a module is loaded ----

/**
 * One extern per MAPI function, `mapi:NAME`: the config [linkType, index, …arguments] names the
 * instance and which of its JavaScript calls this is. Instantiated once per config (per extern
 * of a loaded module); a config MAPI refuses (a forged module) makes the call return 0.
 */
export const MAPI_EXTERN_IMPLS: readonly ExternImpl[] = MAPI_FUNCTIONS.map((def): ExternImpl => {
  const bound = new WeakMap<readonly (string | number)[], (ctx: ExternCallContext, args: readonly number[]) => number>();
  const bind = (config: readonly (string | number)[]) => {
    const [linkType, index, ...args] = config;
    let found: ((ctx: ExternCallContext, args: readonly number[]) => number) | undefined;
    if (typeof linkType === 'number' && typeof index === 'number') {
      const r = instantiate(def, args, linkType, undefined);
      if (r.ok) {
        let n = 0;
        const noop: Stmt = { k: 'seq', body: [] };
        try {
          def.lower(r.inst.config, {
            linkType, stateBase: 0, regBase: 0, exitFlow: noop, local: () => 0, inline: () => noop,
            externCall: (_name, call) => { if (n++ === index) found = call; return { k: 'const', v: 0 }; },
          });
        } catch { found = undefined; }
      }
    }
    const call = found ?? (() => 0);
    bound.set(config, call);
    return call;
  };
  return {
    name: EXTERN_PREFIX + def.name,
    summary: `the JavaScript part of ${def.name} in a program that calls EXTERN("${def.name}", …)`,
    call: (ctx, config, args) => (bound.get(config) ?? bind(config))(ctx, args),
  };
});
