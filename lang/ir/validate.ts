/**
 * Well-formedness of an IR program: the conditions the interpreter and the backends assume
 * (ir.ts). `validateProgram` returns one message per problem, each prefixed with the path of
 * the node (`body.seq[2].then.value.a`), and an empty list for a well-formed program. It
 * never throws, even on objects that are not IR at all (e.g. parsed from JSON).
 */
import type { Expr, Program, Stmt } from './ir.js';
import { FIELD_NAMES, FieldError, lowerField, type FieldName } from './fields.js';
import { linkTypeInfo, linkTypeName } from './linktypes.js';

const MAX_REGISTERS = 256;
const BIN_OPS = new Set(['add', 'sub', 'mul', 'div', 'mod', 'and', 'or', 'xor', 'shl', 'shr',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge']);
const REL_OPS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
const KNOWN_FIELDS: ReadonlySet<string> = new Set(FIELD_NAMES);

/** Largest `inset` set a program may carry (the membership-set pass makes one per term list). */
export const MAX_SET_SIZE = 1 << 20;
const isU32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;
const isIndex = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isNode = (v: unknown): v is { k: unknown } => typeof v === 'object' && v !== null && 'k' in v;

interface Scope {
  inFor: boolean;
  labels: readonly number[];
  /** Registers of the enclosing `for` loops: the body may not write them. */
  loopRegs: readonly number[];
}

export function validateProgram(p: Program): string[] {
  const errors: string[] = [];
  if (typeof p !== 'object' || p === null) return ['program: expected an object'];
  const err = (path: string, msg: string) => { errors.push(`${path}: ${msg}`); };

  // Header.
  if (!Number.isInteger(p.registers) || p.registers < 0 || p.registers > MAX_REGISTERS) {
    err('registers', `expected an integer in [0, ${MAX_REGISTERS}], got ${String(p.registers)}`);
  }
  const cells = p.memoryCells;
  if (!Number.isInteger(cells) || cells < 1 || cells > 2 ** 31 || (cells & (cells - 1)) !== 0) {
    err('memoryCells', `expected a power of two >= 1, got ${String(cells)}`);
  }
  if (!isIndex(p.locals)) err('locals', `expected a non-negative integer, got ${String(p.locals)}`);
  if (!isIndex(p.fuel)) err('fuel', `expected a non-negative integer, got ${String(p.fuel)}`);
  if (!Array.isArray(p.externs)) err('externs', 'expected an array');
  const externCount = Array.isArray(p.externs) ? p.externs.length : 0;
  const linkKnown = linkTypeInfo(p.linkType) !== undefined;
  if (!linkKnown) err('linkType', `link type ${linkTypeName(p.linkType)} is not supported`);

  const regIndex = (path: string, n: unknown, what: string) => {
    if (!isIndex(n) || n >= MAX_REGISTERS) err(path, `${what} R[${String(n)}]: expected an integer in [0, ${MAX_REGISTERS})`);
    else if (n >= p.registers) err(path, `${what} R[${n}]: the program declares ${String(p.registers)} registers`);
  };
  const localIndex = (path: string, n: unknown) => {
    if (!isIndex(n) || n >= p.locals) err(path, `local L${String(n)}: the program declares ${String(p.locals)} locals`);
  };

  const stateIndex = (path: string, i: unknown, at: Expr | undefined) => {
    if (at) {
      // S[i + at]: checked when it runs (a word outside S[] is a fault).
      if (!isU32(i)) err(path, `state word S[${String(i)} + …]: expected an integer in [0, 2^32)`);
      expr(at, `${path}.at`);
    } else if (!isIndex(i) || i >= (p.stateWords ?? 0)) err(path, `state word S[${String(i)}]: the program declares ${String(p.stateWords ?? 0)} state words`);
  };

  const expr = (e: Expr, path: string): void => {
    if (!isNode(e)) { err(path, 'expected an expression node'); return; }
    switch (e.k) {
      case 'const':
        if (!isU32(e.v)) err(path, `constant ${String(e.v)}: expected an integer in [0, 2^32)`);
        return;
      case 'reg': regIndex(path, e.n, 'register'); return;
      case 'mem': expr(e.index, `${path}.index`); return;
      case 'local': localIndex(path, e.n); return;
      case 'meta':
        if (!['caplen', 'wirelen', 'tssec', 'tsfrac'].includes(e.m)) err(path, `meta ${String(e.m)}: expected caplen, wirelen, tssec or tsfrac`);
        return;
      case 'state': stateIndex(path, e.i, e.at); return;
      case 'load':
        if (e.size !== 1 && e.size !== 2 && e.size !== 4) err(path, `load size ${String(e.size)}: expected 1, 2 or 4`);
        expr(e.off, `${path}.off`);
        return;
      case 'field': field(e.name, e.shift, path); return;
      case 'bin':
        if (!BIN_OPS.has(e.op)) err(path, `operator ${String(e.op)}: unknown`);
        expr(e.a, `${path}.a`);
        expr(e.b, `${path}.b`);
        return;
      case 'neg': case 'bnot': case 'lnot': expr(e.a, `${path}.a`); return;
      case 'land': case 'lor': expr(e.a, `${path}.a`); expr(e.b, `${path}.b`); return;
      case 'cond': expr(e.c, `${path}.c`); expr(e.a, `${path}.a`); expr(e.b, `${path}.b`); return;
      case 'hash':
        expr(e.off, `${path}.off`); expr(e.len, `${path}.len`); expr(e.range, `${path}.range`);
        return;
      case 'search':
        expr(e.from, `${path}.from`); expr(e.to, `${path}.to`);
        if (!Array.isArray(e.patterns) || e.patterns.length === 0) err(path, 'search patterns: expected a non-empty array');
        else e.patterns.forEach((p, i) => {
          if (!(p instanceof Uint8Array) || p.length === 0) err(`${path}.patterns[${i}]`, 'expected a non-empty Uint8Array');
        });
        return;
      case 'inset':
        expr(e.e, `${path}.e`);
        if (!Array.isArray(e.set)) err(path, 'inset set: expected an array');
        else if (e.set.length > MAX_SET_SIZE) err(path, `inset set: ${e.set.length} values, at most ${MAX_SET_SIZE} allowed`);
        else e.set.forEach((v, i) => {
          if (!isU32(v)) err(`${path}.set[${i}]`, `${String(v)}: expected an integer in [0, 2^32)`);
          else if (i > 0 && !(v > (e.set[i - 1] as number))) err(`${path}.set[${i}]`, `${v}: expected values in ascending order, without repeats`);
        });
        return;
      case 'lookup':
        expr(e.e, `${path}.e`);
        if (!Array.isArray(e.keys) || !Array.isArray(e.values) || e.keys.length !== e.values.length) {
          err(path, 'lookup: expected arrays of keys and values of the same length');
        } else if (e.keys.length > MAX_SET_SIZE) err(path, `lookup: ${e.keys.length} keys, at most ${MAX_SET_SIZE} allowed`);
        else {
          e.keys.forEach((v, i) => {
            if (!isU32(v)) err(`${path}.keys[${i}]`, `${String(v)}: expected an integer in [0, 2^32)`);
            else if (i > 0 && !(v > (e.keys[i - 1] as number))) err(`${path}.keys[${i}]`, `${v}: expected keys in ascending order, without repeats`);
          });
          e.values.forEach((v, i) => { if (!isU32(v)) err(`${path}.values[${i}]`, `${String(v)}: expected an integer in [0, 2^32)`); });
        }
        return;
      case 'extern':
        if (!isIndex(e.id) || e.id >= externCount) err(path, `extern #${String(e.id)}: the program declares ${externCount} externs`);
        if (!Array.isArray(e.args)) err(path, 'extern args: expected an array');
        else e.args.forEach((a, i) => expr(a, `${path}.args[${i}]`));
        return;
      default:
        err(path, `unknown expression kind ${JSON.stringify((e as { k: unknown }).k)}`);
    }
  };

  const field = (name: FieldName, shift: unknown, path: string) => {
    if (!KNOWN_FIELDS.has(name)) { err(path, `unknown field ${String(name)}`); return; }
    if (shift !== undefined && !isU32(shift)) err(path, `field ${name} shift ${String(shift)}: expected an integer in [0, 2^32)`);
    if (!linkKnown) return;
    try {
      lowerField(name, p.linkType, isU32(shift) ? shift : 0);
    } catch (x) {
      if (x instanceof FieldError) err(path, x.message);
      else throw x;
    }
  };

  const stmt = (s: Stmt, path: string, scope: Scope): void => {
    if (!isNode(s)) { err(path, 'expected a statement node'); return; }
    switch (s.k) {
      case 'seq':
        if (!Array.isArray(s.body)) err(path, 'seq body: expected an array');
        else s.body.forEach((b, i) => stmt(b, `${path}[${i}]`, scope));
        return;
      case 'if':
        expr(s.cond, `${path}.cond`);
        stmt(s.then, `${path}.then`, scope);
        if (s.else !== undefined) stmt(s.else, `${path}.else`, scope);
        return;
      case 'for':
        regIndex(path, s.reg, 'loop register');
        if (scope.loopRegs.includes(s.reg)) err(path, `loop register R[${s.reg}] is the register of an enclosing loop, which its body may not write`);
        if (!REL_OPS.has(s.cmp)) err(path, `loop comparison ${String(s.cmp)}: expected one of ${[...REL_OPS].join(', ')}`);
        if (!isU32(s.step)) err(path, `loop step ${String(s.step)}: expected an integer in [0, 2^32)`);
        expr(s.init, `${path}.init`);
        expr(s.limit, `${path}.limit`);
        stmt(s.body, `${path}.body`, { ...scope, inFor: true, loopRegs: [...scope.loopRegs, s.reg] });
        return;
      case 'break':
        if (!scope.inFor) err(path, 'break outside of a for loop');
        return;
      case 'block':
        if (!Number.isInteger(s.label)) err(path, `block label ${String(s.label)}: expected an integer`);
        if (scope.labels.includes(s.label)) err(path, `block label ${s.label} is already the label of an enclosing block`);
        if (s.catchFaults !== undefined && typeof s.catchFaults !== 'boolean') err(path, 'catchFaults: expected a boolean');
        stmt(s.body, `${path}.body`, { ...scope, labels: [...scope.labels, s.label] });
        return;
      case 'exit':
        if (!scope.labels.includes(s.label)) err(path, `exit ${String(s.label)}: no enclosing block has that label`);
        return;
      case 'return': expr(s.value, `${path}.value`); return;
      case 'setreg':
        regIndex(path, s.n, 'register');
        if (scope.loopRegs.includes(s.n)) err(path, `R[${s.n}] is the register of an enclosing for loop, which its body may not write`);
        expr(s.value, `${path}.value`);
        return;
      case 'setmem': expr(s.index, `${path}.index`); expr(s.value, `${path}.value`); return;
      case 'setlocal': localIndex(path, s.n); expr(s.value, `${path}.value`); return;
      case 'setstate': stateIndex(path, s.i, s.at); expr(s.value, `${path}.value`); return;
      case 'eval': expr(s.e, `${path}.e`); return;
      case 'searchall': {
        expr(s.from, `${path}.from`); expr(s.to, `${path}.to`);
        if (!Array.isArray(s.patterns) || s.patterns.length === 0) { err(path, 'searchall patterns: expected a non-empty array'); return; }
        s.patterns.forEach((q, i) => {
          if (!(q instanceof Uint8Array) || q.length === 0) err(`${path}.patterns[${i}]`, 'expected a non-empty Uint8Array');
        });
        const words = Math.ceil(s.patterns.length / 32);
        if (!isIndex(s.into) || s.into + words > p.locals) {
          err(path, `searchall into L${String(s.into)}..: ${words} locals needed, the program declares ${String(p.locals)}`);
        }
        return;
      }
      default:
        err(path, `unknown statement kind ${JSON.stringify((s as { k: unknown }).k)}`);
    }
  };

  try {
    stmt(p.body, 'body', { inFor: false, labels: [], loopRegs: [] });
  } catch (x) {
    if (!(x instanceof RangeError)) throw x;
    err('body', 'nested too deeply to check');   // the call stack ran out
  }
  return errors;
}
