/**
 * The FPL front end: source text → IR Program (spec/fpl.md). Parsing is in parse.ts (grammar in
 * grammar.ts), checks and lowering in lower.ts.
 */
import { DEFAULT_FUEL, DEFAULT_MEMORY_CELLS, type Program } from '../ir/ir.js';
import { CompileError, makeDiagnostic, type Diagnostic } from '../diagnostics.js';
import { parseFpl } from './parse.js';
import { lowerFpl } from './lower.js';
import { FPL_MAX_BLOCK_DEPTH, FPL_MAX_NESTING, FPL_MAX_OPERATOR_CHAIN, FPL_MAX_SOURCE_LENGTH, FPL_MAX_UNARY_RUN } from '../ir/limits.js';

export interface ExternSignature {
  name: string;
  summary?: string;
  inCells?: number;
  outCells?: number;
  validate?(config: readonly (string | number)[]): string | undefined;
}

export interface FplOptions {
  file?: string;
  linkType: number;
  memoryCells?: number;
  fuel?: number;
  externs?: readonly ExternSignature[];
}

/** Longer sources are refused: parsing speed is about 30-100 KB/s, and FPL programs are small. */

function checkOptions(opts: FplOptions): { memoryCells: number; fuel: number } {
  const memoryCells = opts.memoryCells ?? DEFAULT_MEMORY_CELLS;
  if (!Number.isInteger(memoryCells) || memoryCells < 1 || memoryCells > 2 ** 30 || (memoryCells & (memoryCells - 1)) !== 0) {
    throw new RangeError(`memoryCells must be a power of two from 1 to 2^30, not ${memoryCells}`);
  }
  const fuel = opts.fuel ?? DEFAULT_FUEL;
  if (!Number.isInteger(fuel) || fuel < 0 || fuel > 0xffffffff) throw new RangeError(`fuel must be an integer in [0, 2^32), not ${fuel}`);
  if (!Number.isInteger(opts.linkType) || opts.linkType < 0) throw new RangeError(`linkType must be a DLT number, not ${opts.linkType}`);
  return { memoryCells, fuel };
}

const OPERATOR_CHARS = new Set('+-*/%&|^<>=!~');

/**
 * Where brackets/parentheses nest deeper than FPL_MAX_NESTING, or operators chain longer than
 * FPL_MAX_OPERATOR_CHAIN on one path (counted across the brackets around them, reset by `;`),
 * ignoring comments and strings; undefined when neither. A cheap scan, so the recursive parser
 * never sees such input.
 */
function tooDeep(source: string): { at: number; message: string } | undefined {
  let depth = 0, chain = 0, base = 0, inOperator = false, unary = 0, blocks = 0;
  const outer: number[] = [];
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '/' && source[i + 1] === '/') { while (i < source.length && source[i] !== '\n') i++; continue; }
    if (ch === '/' && source[i + 1] === '*') { const end = source.indexOf('*/', i + 2); i = end < 0 ? source.length : end + 1; continue; }
    if (ch === '"') { const end = source.indexOf('"', i + 1); i = end < 0 ? source.length : end; continue; }
    if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < source.length && /\w/.test(source[j]!)) j++;
      const word = source.slice(i, j).toUpperCase();
      if ((word === 'IF' || word === 'FOR') && ++blocks > FPL_MAX_BLOCK_DEPTH) return { at: i, message: `IF/FOR blocks nested more than ${FPL_MAX_BLOCK_DEPTH} deep (FPL_MAX_BLOCK_DEPTH)` };
      if (word === 'FI' || word === 'ROF') blocks = Math.max(0, blocks - 1);
      i = j - 1;
      unary = 0; inOperator = false;
      continue;
    }
    if (ch === '!' || ch === '~' || ch === '-') {
      if (++unary > FPL_MAX_UNARY_RUN) return { at: i, message: `more than ${FPL_MAX_UNARY_RUN} unary operators in a row (FPL_MAX_UNARY_RUN)` };
    } else if (!/\s/.test(ch)) unary = 0;
    const operator = OPERATOR_CHARS.has(ch);
    if (operator && !inOperator && ++chain > FPL_MAX_OPERATOR_CHAIN) {
      return { at: i, message: `more than ${FPL_MAX_OPERATOR_CHAIN} operators in one expression (FPL_MAX_OPERATOR_CHAIN)` };
    }
    // `a - -b`: each unary operator nests, so a run of them counts one by one.
    inOperator = operator && ch !== '-' && ch !== '!' && ch !== '~';
    if (ch === '(' || ch === '[') {
      if (++depth > FPL_MAX_NESTING) return { at: i, message: `brackets nested more than ${FPL_MAX_NESTING} deep (FPL_MAX_NESTING)` };
      outer.push(base);
      base = chain;
    } else if (ch === ')' || ch === ']') {
      depth = Math.max(0, depth - 1);
      chain = base;
      base = outer.pop() ?? 0;
    } else if (ch === ';') chain = base;
  }
  return undefined;
}

/** A parsed FPL program, ready to lower: what parseFplSource returns. */
export interface ParsedFpl {
  readonly source: string;
  /** The names of the externs the program calls, in order of first call. */
  readonly externNames: readonly string[];
  readonly ast: Extract<ReturnType<typeof parseFpl>, { ok: true }>['program'];
}

/** The names of the externs an FPL syntax tree calls (a walk over every node). */
function calledExterns(node: unknown, names: Set<string>): void {
  if (Array.isArray(node)) { for (const n of node) calledExterns(n, names); return; }
  if (node === null || typeof node !== 'object') return;
  const k = (node as { k?: unknown }).k;
  if (k === 'extern') names.add((node as { name: string }).name);
  for (const v of Object.values(node)) if (v !== null && typeof v === 'object') calledExterns(v, names);
}

function refuse(source: string, err: unknown, fileExtra: { file?: string }): never {
  // A program long enough to exhaust the stack (e.g. a 100,000-term sum): refuse it cleanly.
  if (err instanceof RangeError) throw new CompileError([makeDiagnostic(source, 'error', 0, 1, 'the program is too large or too deeply nested to compile', fileExtra)], source);
  throw err;
}

/** Parses an FPL program (throws CompileError): its tree and the externs it calls, for lowerParsedFpl. */
export function parseFplSource(source: string, opts: { file?: string } = {}): ParsedFpl {
  if (typeof source !== 'string') throw new TypeError('source must be a string');
  const fileExtra = opts.file !== undefined ? { file: opts.file } : {};
  const fail = (d: Diagnostic): never => { throw new CompileError([d], source); };

  if (source.length > FPL_MAX_SOURCE_LENGTH) {
    fail(makeDiagnostic(source, 'error', FPL_MAX_SOURCE_LENGTH, 1, `the program is ${source.length} characters long; the limit is ${FPL_MAX_SOURCE_LENGTH} (FPL_MAX_SOURCE_LENGTH)`, fileExtra));
  }
  const deep = tooDeep(source);
  if (deep !== undefined) fail(makeDiagnostic(source, 'error', deep.at, 1, deep.message, fileExtra));

  try {
    const parsed = parseFpl(source, opts.file);
    if (!parsed.ok) return fail(parsed.error);
    const names = new Set<string>();
    calledExterns(parsed.program, names);
    return { source, externNames: [...names], ast: parsed.program };
  } catch (err) {
    return refuse(source, err, fileExtra);
  }
}

/** Lowers a parsed program to IR with the externs it may call (throws CompileError with every error found). */
export function lowerParsedFpl(parsed: ParsedFpl, opts: FplOptions): { program: Program; warnings: Diagnostic[] } {
  const { source } = parsed;
  const { memoryCells, fuel } = checkOptions(opts);
  const fileExtra = opts.file !== undefined ? { file: opts.file } : {};
  let lowered: ReturnType<typeof lowerFpl>;
  try {
    lowered = lowerFpl(parsed.ast, {
      source, ...fileExtra, linkType: opts.linkType, memoryCells, externs: opts.externs ?? [],
    });
  } catch (err) {
    return refuse(source, err, fileExtra);
  }
  const diagnostics = [...lowered.diagnostics].sort((a, b) => a.offset - b.offset);
  const warnings = diagnostics.filter((d) => d.severity === 'warning');
  if (diagnostics.some((d) => d.severity === 'error')) throw new CompileError(diagnostics, source);
  const program: Program = {
    body: lowered.body,
    linkType: opts.linkType,
    registers: lowered.registers,
    memoryCells,
    locals: lowered.locals,
    externs: lowered.externs,
    fuel,
    source: { language: 'fpl', text: source, ...fileExtra },
  };
  return { program, warnings };
}

export function compileFpl(source: string, opts: FplOptions): { program: Program; warnings: Diagnostic[] } {
  if (typeof source !== 'string') throw new TypeError('source must be a string');
  checkOptions(opts);
  return lowerParsedFpl(parseFplSource(source, opts), opts);
}
