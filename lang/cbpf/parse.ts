/**
 * Reads classic BPF in the three forms people have at hand:
 *   - `tcpdump -ddd`: a line with the instruction count, then one `code jt jf k` line each;
 *   - `tcpdump -dd`:  C initialiser lines `{ 0x28, 0, 0, 0x0000000c },`;
 *   - JSON: `[[40, 0, 0, 12], [21, 0, 1, 2048], …]`.
 * Numbers may be decimal or 0x-hex in every form; k may also be a negative 32-bit value
 * (taken modulo 2^32). Every instruction remembers where it and each of its fields came
 * from, so later checks can point at the offending text.
 */
import { CompileError, makeDiagnostic, type Diagnostic } from '../diagnostics.js';

export interface Span { offset: number; length: number }

export interface SourceInsn {
  code: number;
  jt: number;
  jf: number;
  /** Unsigned 32-bit. */
  k: number;
  at: Span;
  /** Spans of code, jt, jf, k. */
  fields: [Span, Span, Span, Span];
}

export type CbpfForm = 'ddd' | 'dd' | 'json';

type Tok =
  | { t: 'num'; v: number; offset: number; length: number }
  | { t: 'punct'; v: '[' | ']' | '{' | '}' | ','; offset: number; length: number }
  | { t: 'nl'; offset: number; length: number }
  | { t: 'eof'; offset: number; length: number };

const FORMS_HINT = 'classic BPF is read as `tcpdump -ddd` output (a count line, then `code jt jf k` lines), ' +
  '`tcpdump -dd` output (`{ 0x28, 0, 0, 0x0000000c },` lines) or a JSON array of [code, jt, jf, k]';

class Reader {
  readonly errors: Diagnostic[] = [];
  constructor(readonly text: string, readonly file: string | undefined) {}

  error(offset: number, length: number, message: string, expected?: string[], hint?: string): void {
    this.errors.push(makeDiagnostic(this.text, 'error', offset, length, message,
      { ...(this.file !== undefined ? { file: this.file } : {}), ...(expected ? { expected } : {}), ...(hint ? { hint } : {}) }));
  }

  fail(): never {
    throw new CompileError(this.errors, this.text);
  }
}

function tokenize(r: Reader): Tok[] {
  const s = r.text;
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch === '\n') { toks.push({ t: 'nl', offset: i, length: 1 }); i++; continue; }
    if (ch === ' ' || ch === '\t' || ch === '\r') { i++; continue; }
    if ('[]{},'.includes(ch)) { toks.push({ t: 'punct', v: ch as '[', offset: i, length: 1 }); i++; continue; }
    const m = /^-?(0[xX][0-9a-fA-F]+|[0-9]+)/.exec(s.slice(i, i + 40));
    if (m && !/[0-9A-Za-z_]/.test(s[i + m[0].length] ?? '')) {
      const neg = m[0].startsWith('-');
      const body = neg ? m[0].slice(1) : m[0];
      const v = Number(body);   // Number() reads both "12" and "0x0c"; huge values stay exact enough to be rejected
      toks.push({ t: 'num', v: neg ? -v : v, offset: i, length: m[0].length });
      i += m[0].length;
      continue;
    }
    const word = /^\S+/.exec(s.slice(i))?.[0] ?? ch;
    r.error(i, Math.min(word.length, 40), `unexpected ${JSON.stringify(word.slice(0, 40))} in classic BPF input`,
      ['a number', "'['", "'{'", "','"], FORMS_HINT);
    r.fail();
  }
  toks.push({ t: 'eof', offset: s.length, length: 1 });
  return toks;
}

const describe = (t: Tok): string =>
  t.t === 'num' ? `number ${t.v}` : t.t === 'punct' ? `'${t.v}'` : t.t === 'nl' ? 'end of line' : 'end of input';

/** Checks the value ranges of one instruction's fields and builds it. */
function makeInsn(r: Reader, nums: Extract<Tok, { t: 'num' }>[], at: Span): SourceInsn {
  const [code, jt, jf, k] = nums;
  const check = (tok: Extract<Tok, { t: 'num' }>, name: string, min: number, max: number, what: string) => {
    if (tok.v < min || tok.v > max || !Number.isSafeInteger(tok.v)) r.error(tok.offset, tok.length, `${name} ${tok.v} is out of range: ${what}`);
  };
  check(code, 'opcode', 0, 0xffff, 'an opcode is 16 bits (0..65535)');
  check(jt, 'jt', 0, 255, 'a jump offset is 8 bits (0..255)');
  check(jf, 'jf', 0, 255, 'a jump offset is 8 bits (0..255)');
  check(k, 'k', -0x80000000, 0xffffffff, 'k is 32 bits (-2147483648..4294967295)');
  const span = (t: Tok): Span => ({ offset: t.offset, length: t.length });
  return { code: code.v, jt: jt.v, jf: jf.v, k: k.v >>> 0, at, fields: [span(code), span(jt), span(jf), span(k)] };
}

/** `tcpdump -ddd`: a count line, then four whitespace-separated numbers per line. */
function parseDdd(r: Reader, toks: Tok[]): SourceInsn[] {
  const lines: Tok[][] = [[]];
  for (const t of toks) {
    if (t.t === 'nl' || t.t === 'eof') lines.push([]);
    else lines[lines.length - 1].push(t);
  }
  const nonEmpty = lines.filter((l) => l.length > 0);
  const [countLine, ...body] = nonEmpty;
  const count = countLine[0];
  if (countLine.length !== 1 || count.t !== 'num') {
    const bad = countLine.length > 1 ? countLine[1] : count;
    r.error(bad.offset, bad.length, `the first line of tcpdump -ddd output is the instruction count alone, found ${describe(bad)}`,
      ['end of line']);
    r.fail();
  }
  const insns: SourceInsn[] = [];
  for (const line of body) {
    const nums = line.filter((t): t is Extract<Tok, { t: 'num' }> => t.t === 'num');
    const start = line[0].offset;
    const end = line[line.length - 1].offset + line[line.length - 1].length;
    if (nums.length !== line.length || nums.length !== 4) {
      const bad = line.find((t) => t.t !== 'num') ?? (nums.length > 4 ? line[4] : undefined);
      if (bad) r.error(bad.offset, bad.length, `a tcpdump -ddd line is four numbers "code jt jf k", found ${describe(bad)}`, ['code jt jf k']);
      else r.error(start, end - start, `a tcpdump -ddd line is four numbers "code jt jf k", found ${nums.length}`, ['code jt jf k']);
      continue;
    }
    insns.push(makeInsn(r, nums, { offset: start, length: end - start }));
  }
  if (r.errors.length === 0 && count.v !== body.length) {
    r.error(count.offset, count.length, `the count line says ${count.v} instruction${count.v === 1 ? '' : 's'} but ${body.length} follow`);
  }
  return insns;
}

/** Shared by the -dd and JSON forms: a bracketed group of four comma-separated numbers. */
function parseGroup(r: Reader, toks: Tok[], pos: number, open: '{' | '['): { insn?: SourceInsn; pos: number } {
  const close = open === '{' ? '}' : ']';
  const start = toks[pos].offset;
  pos++;
  const nums: Extract<Tok, { t: 'num' }>[] = [];
  for (;;) {
    while (toks[pos].t === 'nl') pos++;
    const t = toks[pos];
    if (t.t !== 'num') {
      r.error(t.offset, t.length, `expected a number (field ${nums.length + 1} of code, jt, jf, k), found ${describe(t)}`, ['a number']);
      return { pos };
    }
    nums.push(t);
    pos++;
    while (toks[pos].t === 'nl') pos++;
    const sep = toks[pos];
    if (nums.length < 4) {
      if (sep.t !== 'punct' || sep.v !== ',') {
        r.error(sep.offset, sep.length, `an instruction has four fields (code, jt, jf, k); expected ',' after field ${nums.length}, found ${describe(sep)}`, ["','"]);
        return { pos };
      }
      pos++;
      continue;
    }
    if (sep.t !== 'punct' || sep.v !== close) {
      r.error(sep.offset, sep.length, `an instruction has four fields (code, jt, jf, k); expected '${close}', found ${describe(sep)}`, [`'${close}'`]);
      return { pos };
    }
    pos++;
    const end = sep.offset + 1;
    return { insn: makeInsn(r, nums, { offset: start, length: end - start }), pos };
  }
}

/** `tcpdump -dd`: `{ code, jt, jf, k },` groups, the commas between them optional at line ends. */
function parseDd(r: Reader, toks: Tok[]): SourceInsn[] {
  const insns: SourceInsn[] = [];
  let pos = 0;
  for (;;) {
    while (toks[pos].t === 'nl' || (toks[pos].t === 'punct' && (toks[pos] as { v: string }).v === ',')) pos++;
    const t = toks[pos];
    if (t.t === 'eof') return insns;
    if (t.t !== 'punct' || t.v !== '{') {
      r.error(t.offset, t.length, `expected '{' starting an instruction "{ code, jt, jf, k },", found ${describe(t)}`, ["'{'"]);
      return insns;
    }
    const g = parseGroup(r, toks, pos, '{');
    if (!g.insn) return insns;
    insns.push(g.insn);
    pos = g.pos;
  }
}

/** JSON: an array of four-number arrays (newlines anywhere). */
function parseJson(r: Reader, toks: Tok[]): SourceInsn[] {
  const insns: SourceInsn[] = [];
  let pos = 0;
  const skip = () => { while (toks[pos].t === 'nl') pos++; };
  skip();
  pos++;   // the opening '[' (the caller saw it)
  skip();
  if (toks[pos].t === 'punct' && (toks[pos] as { v: string }).v === ']') pos++;
  else {
    for (;;) {
      skip();
      const t = toks[pos];
      if (t.t !== 'punct' || t.v !== '[') {
        r.error(t.offset, t.length, `expected '[' starting an instruction [code, jt, jf, k], found ${describe(t)}`, ["'['"]);
        return insns;
      }
      const g = parseGroup(r, toks, pos, '[');
      if (!g.insn) return insns;
      insns.push(g.insn);
      pos = g.pos;
      skip();
      const sep = toks[pos];
      if (sep.t === 'punct' && sep.v === ',') { pos++; continue; }
      if (sep.t === 'punct' && sep.v === ']') { pos++; break; }
      r.error(sep.offset, sep.length, `expected ',' or ']' after an instruction, found ${describe(sep)}`, ["','", "']'"]);
      return insns;
    }
  }
  skip();
  if (toks[pos].t !== 'eof') r.error(toks[pos].offset, toks[pos].length, `unexpected ${describe(toks[pos])} after the JSON array`, ['end of input']);
  return insns;
}

/** Parses classic BPF text; throws CompileError (with positions) when it is malformed. */
export function parseCbpf(text: string, file?: string): { insns: SourceInsn[]; form: CbpfForm } {
  const r = new Reader(text, file);
  const toks = tokenize(r);
  const first = toks.find((t) => t.t !== 'nl')!;
  let form: CbpfForm;
  let insns: SourceInsn[] = [];
  if (first.t === 'eof') {
    r.error(0, 1, 'the classic BPF program is empty', undefined, FORMS_HINT);
  } else if (first.t === 'num') {
    form = 'ddd';
    insns = parseDdd(r, toks);
  } else if (first.t === 'punct' && first.v === '{') {
    form = 'dd';
    insns = parseDd(r, toks);
  } else if (first.t === 'punct' && first.v === '[') {
    form = 'json';
    insns = parseJson(r, toks);
  } else {
    r.error(first.offset, first.length, `classic BPF cannot start with ${describe(first)}`, ['a number', "'{'", "'['"], FORMS_HINT);
  }
  if (r.errors.length) r.fail();
  return { insns, form: form! };
}
