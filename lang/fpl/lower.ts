/**
 * Checks an FPL syntax tree and lowers it to the IR (lang/ir/ir.ts). Every check runs over the
 * whole tree and records its error, so one run reports every problem it can find; a failed
 * node lowers to a placeholder constant so the walk can go on.
 */
import { makeDiagnostic, type Diagnostic } from '../diagnostics.js';
import { FieldError, lowerField, type FieldName } from '../ir/fields.js';
import { bin, c, field, land, lor, lnot, seq, type BinOp, type Expr, type Extern, type RelOp, type Stmt } from '../ir/ir.js';
import type { AssignNode, AstExpr, AstStmt, Span, StringLiteral } from './ast.js';
import { foldConstant, hasSideEffects, isCheapToRepeat } from './fold.js';
import {
  FPL_CONSTANTS, FPL_EITHER_FIELDS, FPL_FIELDS, FPL_META, FPL_RAW_LOADS, FPL_SUBFIELDS, PKT_MEMBER_NAMES, closestName,
} from './names.js';
import type { ExternSignature } from './index.js';

export interface LowerContext {
  source: string;
  file?: string;
  linkType: number;
  memoryCells: number;
  externs: readonly ExternSignature[];
}

export interface Lowered {
  body: Stmt;
  registers: number;
  locals: number;
  externs: Extern[];
  diagnostics: Diagnostic[];
}

const MAX_REGISTERS = 256;

const BINARY_OPS: Readonly<Record<string, BinOp>> = {
  '|': 'or', '^': 'xor', '&': 'and', '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge',
  '<<': 'shl', '>>': 'shr', '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod',
};
const COMPOUND_OPS: Readonly<Record<string, BinOp>> = {
  '+=': 'add', '-=': 'sub', '*=': 'mul', '/=': 'div', '%=': 'mod', '&=': 'and', '|=': 'or', '^=': 'xor',
  '<<=': 'shl', '>>=': 'shr',
};
const REL_OPS: Readonly<Record<string, RelOp>> = { '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '==': 'eq', '!=': 'ne' };

const U32_MAX = 0xffffffff;

class Lowering {
  readonly diagnostics: Diagnostic[] = [];
  readonly externs: Extern[] = [];
  private highestRegister = -1;
  private localCount = 0;
  /** Registers of the FOR loops enclosing the statement being lowered, outermost first. */
  private readonly loopRegisters: number[] = [];
  private readonly fieldChecked = new Map<FieldName, string | undefined>();

  constructor(private readonly ctx: LowerContext) {}

  get registers(): number { return this.highestRegister + 1; }
  get locals(): number { return this.localCount; }

  private report(severity: 'error' | 'warning', span: Span, message: string, hint?: string): void {
    if (severity === 'error') this.errors++;
    this.diagnostics.push(makeDiagnostic(this.ctx.source, severity, span.off, span.len, message, {
      ...(this.ctx.file !== undefined ? { file: this.ctx.file } : {}),
      ...(hint !== undefined ? { hint } : {}),
    }));
  }
  private error(span: Span, message: string, hint?: string): Expr {
    this.report('error', span, message, hint);
    return c(0);
  }

  private newLocal(): number { return this.localCount++; }

  // ---- statements ----

  statements(list: readonly AstStmt[]): Stmt {
    return { k: 'seq', body: list.map((s) => this.statement(s)) }; // not seq(...): a long program has more statements than a call may have arguments
  }

  private statement(s: AstStmt): Stmt {
    switch (s.k) {
      case 'if': {
        if (!s.closed) this.report('warning', s.span, 'IF has no FI; it is closed at the end of the input');
        const cond = this.expr(s.cond);
        const then = this.statements(s.then);
        return s.else ? { k: 'if', cond, then, else: this.statements(s.else) } : { k: 'if', cond, then };
      }
      case 'for': return this.forLoop(s);
      case 'break':
        if (this.loopRegisters.length === 0) this.error(s.span, 'BREAK outside a FOR loop; BREAK may only appear inside FOR … ROF');
        return { k: 'break' };
      case 'return': return { k: 'return', value: this.expr(s.value) };
      case 'call': return { k: 'eval', e: this.expr(s.call) };
      case 'assign': return this.assignment(s);
    }
  }

  private assignment(s: AssignNode): Stmt {
    const t = s.target;
    if (t.k === 'reg') {
      const n = this.registerIndex(t);
      if (n !== undefined && this.loopRegisters.includes(n)) {
        this.error(t.span, `R[${n}] is the register of an enclosing FOR loop; the loop body may not write it`);
      }
      const reg: Expr = { k: 'reg', n: n ?? 0 };
      return { k: 'setreg', n: n ?? 0, value: this.updatedValue(s, reg) };
    }
    const index = this.expr(t.index);
    if (s.op === '=') return { k: 'setmem', index, value: this.expr(s.value!) };
    // M[e] op= v: e is evaluated once. A side-effect-free, cheap index may be repeated (nothing
    // between the two evaluations can change it); otherwise it goes through a local.
    if (isCheapToRepeat(index)) return { k: 'setmem', index, value: this.updatedValue(s, { k: 'mem', index }) };
    const tmp = this.newLocal();
    const at: Expr = { k: 'local', n: tmp };
    return seq({ k: 'setlocal', n: tmp, value: index }, { k: 'setmem', index: at, value: this.updatedValue(s, { k: 'mem', index: at }) });
  }

  /** The new value of `current` after `s` (x++, x--, x op= v, x = v). */
  private updatedValue(s: AssignNode, current: Expr): Expr {
    if (s.op === '++') return bin('add', current, c(1));
    if (s.op === '--') return bin('sub', current, c(1));
    const value = this.expr(s.value!);
    return s.op === '=' ? value : bin(COMPOUND_OPS[s.op]!, current, value);
  }

  private forLoop(s: Extract<AstStmt, { k: 'for' }>): Stmt {
    const shape = 'FOR (R[k] = start; R[k] < limit; R[k]++) — the update may be R[k]++, R[k]--, R[k] += c or R[k] -= c';
    let k: number | undefined;
    if (s.init.target.k !== 'reg' || s.init.op !== '=') {
      this.error(s.init.span, `a FOR loop starts by assigning its register: ${shape}`);
    } else {
      k = this.registerIndex(s.init.target);
      if (k !== undefined && this.loopRegisters.includes(k)) {
        this.error(s.init.target.span, `R[${k}] is the register of an enclosing FOR loop; the loop body may not write it`);
      }
    }
    const init = s.init.value ? this.expr(s.init.value) : c(0);

    let cmp: RelOp = 'lt';
    let limit: Expr = c(0);
    const cond = s.cond;
    if (cond.k === 'bin' && REL_OPS[cond.op] && cond.a.k === 'reg') {
      cmp = REL_OPS[cond.op]!;
      this.expectLoopRegister(cond.a, k, 'condition');
      limit = this.expr(cond.b);
    } else {
      this.expr(cond);
      this.error(cond.span, `a FOR condition compares the loop register with a limit (<, <=, >, >=, == or !=): ${shape}`);
    }

    let step = 1;
    const u = s.update;
    if (u.target.k === 'reg' && (u.op === '++' || u.op === '--' || u.op === '+=' || u.op === '-=')) {
      this.expectLoopRegister(u.target, k, 'update');
      if (u.op === '--') step = U32_MAX;
      else if (u.op === '+=' || u.op === '-=') {
        const v = this.constant(u.value!, 'the step of a FOR loop');
        step = v === undefined ? 1 : u.op === '+=' ? v : (0 - v) >>> 0;
      }
    } else {
      this.error(u.span, `a FOR update steps the loop register: ${shape}`);
    }

    this.loopRegisters.push(k ?? -1);
    const body = this.statements(s.body);
    this.loopRegisters.pop();
    return { k: 'for', reg: k ?? 0, init, cmp, limit, step, body };
  }

  private expectLoopRegister(r: Extract<AstExpr, { k: 'reg' }>, k: number | undefined, part: string): void {
    const n = this.registerIndex(r);
    if (n !== undefined && k !== undefined && n !== k) {
      this.error(r.span, `the FOR ${part} uses R[${n}] but the loop register is R[${k}]; all three parts must use the same register`);
    }
  }

  // ---- expressions ----

  expr(e: AstExpr): Expr {
    switch (e.k) {
      case 'num': return this.number(e.text, e.span);
      case 'bool': return c(e.value ? 1 : 0);
      case 'name': return this.constantName(e.name, e.span);
      case 'unary': {
        const a = this.expr(e.a);
        return e.op === '!' ? lnot(a) : e.op === '~' ? { k: 'bnot', a } : { k: 'neg', a };
      }
      case 'bin': {
        if ((e.op === '==' || e.op === '!=') && (this.isEitherField(e.a) || this.isEitherField(e.b))) return this.eitherComparison(e);
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        if (e.op === '&&') return land(a, b);
        if (e.op === '||') return lor(a, b);
        return bin(BINARY_OPS[e.op]!, a, b);
      }
      case 'reg': return { k: 'reg', n: this.registerIndex(e) ?? 0 };
      case 'mem': return { k: 'mem', index: this.expr(e.index) };
      case 'pkt': return this.packet(e);
      case 'hash': {
        const off = this.expr(e.off);
        const len = this.expr(e.len);
        const range = this.expr(e.range);
        if (foldConstant(range) === 0) this.error(e.range.span, 'the range of Hash must not be 0 (the hash is taken modulo the range)');
        return { k: 'hash', off, len, range };
      }
      case 'extern': return this.externCall(e);
    }
  }

  private number(text: string, span: Span): Expr {
    if (text.includes('.')) {
      const octets = text.split('.').map((o) => (o.length > 3 ? Infinity : Number(o)));
      if (octets.some((o) => o > 255)) return this.error(span, `${text} is not an IPv4 address: each part must be from 0 to 255`);
      return c(octets.reduce((acc, o) => acc * 256 + o, 0));
    }
    const digits = /^0[xX]/.test(text) ? text.slice(2).replace(/^0+(?=.)/, '') : text.replace(/^0+(?=.)/, '');
    const value = /^0[xX]/.test(text) ? (digits.length > 8 ? Infinity : parseInt(digits, 16)) : (digits.length > 10 ? Infinity : Number(digits));
    if (value > U32_MAX) return this.error(span, `the number ${text} does not fit in 32 bits (the largest is 4294967295 = 0xffffffff)`);
    return c(value);
  }

  private constantName(name: string, span: Span): Expr {
    const v = FPL_CONSTANTS[name];
    if (v !== undefined) return c(v);
    if (name in FPL_FIELDS || name in FPL_EITHER_FIELDS) {
      return this.error(span, `${name} is a packet field; write PKT.${name}`);
    }
    const guess = closestName(name, Object.keys(FPL_CONSTANTS));
    return this.error(span, `unknown constant ${name}`, guess ? `did you mean ${guess}?` : undefined);
  }

  /** The value of a constant expression, or an error saying that `what` must be constant. */
  private constant(e: AstExpr, what: string): number | undefined {
    const errorsBefore = this.errorCount();
    const v = foldConstant(this.expr(e));
    if (v === undefined && this.errorCount() === errorsBefore) this.error(e.span, `${what} must be a constant`);
    return this.errorCount() === errorsBefore ? v : undefined;
  }

  private errors = 0;
  private errorCount(): number { return this.errors; }

  private registerIndex(r: Extract<AstExpr, { k: 'reg' }>): number | undefined {
    const n = this.constant(r.index, `the register index in R[…] (0 to ${MAX_REGISTERS - 1})`);
    if (n === undefined) return undefined;
    if (n >= MAX_REGISTERS) {
      this.error(r.index.span, `register R[${n}] does not exist; registers are R[0] to R[${MAX_REGISTERS - 1}]`);
      return undefined;
    }
    this.highestRegister = Math.max(this.highestRegister, n);
    return n;
  }

  // ---- packet access ----

  private checkedField(name: FieldName, span: Span): Expr {
    if (!this.fieldChecked.has(name)) {
      let problem: string | undefined;
      try {
        lowerField(name, this.ctx.linkType);
      } catch (err) {
        if (!(err instanceof FieldError)) throw err;
        problem = err.message;
      }
      this.fieldChecked.set(name, problem);
    }
    const problem = this.fieldChecked.get(name);
    if (problem !== undefined) return this.error(span, `this field cannot be read on this link type: ${problem}`);
    return field(name);
  }

  private isEitherField(e: AstExpr): boolean {
    return e.k === 'pkt' && e.name in FPL_EITHER_FIELDS;
  }

  /**
   * `PKT.TCP_PORT == e` is `(TCP_SPORT == e || TCP_DPORT == e)` and `!=` is `(… != e && … != e)`,
   * source first, with `e` evaluated once. The lowering repeats `e` in both comparisons: that
   * is the same as evaluating it once whenever `e` has no side effects, since nothing that runs
   * between the two copies (two field reads) can change what `e` reads, and if the first copy
   * faults the packet ends before the second runs. Externs are the only expressions with side
   * effects (they may write M and count calls), so an extern call on the other side is rejected
   * with a message that shows the way around it (assign it to a register first).
   */
  private eitherComparison(e: Extract<AstExpr, { k: 'bin' }>): Expr {
    const pseudoOnLeft = this.isEitherField(e.a);
    const pseudo = (pseudoOnLeft ? e.a : e.b) as Extract<AstExpr, { k: 'pkt' }>;
    const otherAst = pseudoOnLeft ? e.b : e.a;
    if (this.isEitherField(otherAst)) {
      return this.error(e.opSpan, `PKT.${pseudo.name} is compared with another either-direction field; compare it with a value`);
    }
    if (pseudo.index || pseudo.sub) return this.error(pseudo.span, `PKT.${pseudo.name} takes no index or sub-field`);
    const other = this.expr(otherAst);
    if (hasSideEffects(other)) {
      return this.error(otherAst.span,
        `the value compared with PKT.${pseudo.name} may not call EXTERN (it would be evaluated once per direction)`,
        `assign it to a register first: R[n] = EXTERN(…); … PKT.${pseudo.name} ${e.op} R[n]`);
    }
    const [srcName, dstName] = FPL_EITHER_FIELDS[pseudo.name]!;
    const src = this.checkedField(FPL_FIELDS[srcName]!, pseudo.nameSpan);
    const dst = this.checkedField(FPL_FIELDS[dstName]!, pseudo.nameSpan);
    const op: BinOp = e.op === '==' ? 'eq' : 'ne';
    const compare = (f: Expr): Expr => (pseudoOnLeft ? bin(op, f, other) : bin(op, other, f));
    return op === 'eq' ? lor(compare(src), compare(dst)) : land(compare(src), compare(dst));
  }

  private packet(e: Extract<AstExpr, { k: 'pkt' }>): Expr {
    const name = e.name;
    const size = FPL_RAW_LOADS[name];
    if (size !== undefined) {
      if (!e.index) return this.error(e.nameSpan, `PKT.${name} reads at a byte offset: write PKT.${name}[offset]`);
      const loaded: Expr = { k: 'load', off: this.expr(e.index), size };
      return e.sub ? this.subField(loaded, size * 8, e.sub) : loaded;
    }
    if (e.index || e.sub) {
      const known = name in FPL_FIELDS || name in FPL_META || name in FPL_EITHER_FIELDS;
      if (known) {
        return this.error(e.index ? e.index.span : e.sub!.nameSpan,
          `PKT.${name} takes no index; only PKT.B, PKT.W and PKT.DW take [offset] and sub-fields`);
      }
    }
    const meta = FPL_META[name];
    if (meta !== undefined) return { k: 'meta', m: meta };
    const fieldName = FPL_FIELDS[name];
    if (fieldName !== undefined) return this.checkedField(fieldName, e.nameSpan);
    if (name in FPL_EITHER_FIELDS) {
      const [s, d] = FPL_EITHER_FIELDS[name]!;
      return this.error(e.span,
        `PKT.${name} means "PKT.${s} or PKT.${d}" and may only be one side of == or != (e.g. PKT.${name} == 80)`);
    }
    const guess = closestName(name, PKT_MEMBER_NAMES);
    return this.error(e.nameSpan, `unknown packet field PKT.${name}`,
      guess ? `did you mean PKT.${guess}?` : `fields are ${PKT_MEMBER_NAMES.join(', ')}`);
  }

  /**
   * `.U<n>[m]` of a `width`-bit load: the m-th n-bit group counting from the most significant
   * end. The index must be a constant below width/n (a compile error otherwise), so the shift
   * and mask are fixed at compile time.
   */
  private subField(base: Expr, width: number, sub: { name: string; nameSpan: Span; index: AstExpr }): Expr {
    const bits = FPL_SUBFIELDS[sub.name];
    if (bits === undefined || bits > width) {
      const allowed = Object.keys(FPL_SUBFIELDS).filter((s) => FPL_SUBFIELDS[s]! <= width);
      return this.error(sub.nameSpan, `unknown sub-field .${sub.name} of a ${width}-bit load; use ${allowed.map((s) => `.${s}[m]`).join(', ')}`);
    }
    const count = width / bits;
    const m = this.constant(sub.index, `the index of .${sub.name}[…]`);
    if (m === undefined) return c(0);
    if (m >= count) {
      return this.error(sub.index.span, `.${sub.name}[${m}] is out of range: a ${width}-bit load has ${sub.name === 'U1' ? 'bits' : `${bits}-bit parts`} 0 to ${count - 1}`);
    }
    const shift = width - bits * (m + 1);
    const shifted = shift === 0 ? base : bin('shr', base, c(shift));
    return bits === width ? shifted : bin('and', shifted, c(2 ** bits - 1));
  }

  // ---- externs ----

  private externCall(x: Extract<AstExpr, { k: 'extern' }>): Expr {
    const sig = this.ctx.externs.find((s) => s.name === x.name);
    if (!sig) {
      const names = this.ctx.externs.map((s) => s.name);
      const guess = closestName(x.name, names);
      return this.error(x.nameSpan,
        `unknown extern "${x.name}"; ${names.length ? `the externs available are ${names.join(', ')}` : 'no externs are available'}`,
        guess ? `did you mean "${guess}"?` : undefined);
    }
    if (sig.inCells !== undefined || sig.outCells !== undefined) return this.ffpfExtern(x, sig);
    const config: (string | number)[] = [];
    for (const a of x.args) {
      if (a.k === 'str') config.push(a.value);
      else config.push(this.constant(a, `an argument of EXTERN("${x.name}", …) (a number or a string)`) ?? 0);
    }
    let problem: string | undefined;
    try {
      problem = sig.validate?.(config);
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    if (problem !== undefined) return this.error(x.span, `EXTERN("${x.name}", …): ${problem}`);
    this.externs.push({ name: x.name, config });
    return { k: 'extern', id: this.externs.length - 1, args: [] };
  }

  /** `EXTERN(name, in, out)`: the function reads M[in, in+inCells) and writes M[out, out+outCells). */
  private ffpfExtern(x: Extract<AstExpr, { k: 'extern' }>, sig: ExternSignature): Expr {
    const form = `EXTERN(${x.name}, in, out)`;
    if (x.args.length !== 2) {
      return this.error(x.span, `${x.name} is called as ${form} with two cell numbers in M; found ${x.args.length} argument${x.args.length === 1 ? '' : 's'}`);
    }
    const cells = [sig.inCells ?? 0, sig.outCells ?? 0];
    const where = ['input', 'output'];
    const at: number[] = [];
    x.args.forEach((a: AstExpr | StringLiteral, i) => {
      if (a.k === 'str') { this.error(a.span, `the ${where[i]} cell of ${form} must be a number, not a string`); return; }
      const v = this.constant(a, `the ${where[i]} cell of ${form}`);
      if (v === undefined) return;
      if (v + cells[i]! > this.ctx.memoryCells) {
        this.error(a.span, `the ${where[i]} of ${x.name} is ${cells[i]} cell${cells[i] === 1 ? '' : 's'} from M[${v}], which leaves M (cells 0 to ${this.ctx.memoryCells - 1})`);
        return;
      }
      at[i] = v;
    });
    this.externs.push({ name: x.name, config: [], inCell: at[0] ?? 0, outCell: at[1] ?? 0 });
    return { k: 'extern', id: this.externs.length - 1, args: [] };
  }
}

export function lowerFpl(ast: readonly AstStmt[], ctx: LowerContext): Lowered {
  const l = new Lowering(ctx);
  const body = l.statements(ast);
  return { body, registers: l.registers, locals: l.locals, externs: l.externs, diagnostics: l.diagnostics };
}
