/**
 * Exact diagnostics for bad FPL programs: file:line:col, message, the source line and the caret.
 */
import { describe, expect, it } from 'vitest';
import { compileFpl, type ExternSignature } from '../../lang/fpl/index.js';
import { CompileError } from '../../lang/diagnostics.js';

const EXTERNS: ExternSignature[] = [
  { name: 'GetDynTCPDPortFromRTSP', inCells: 0, outCells: 0 },
  { name: 'STR_SEARCH', validate: (c) => (typeof c[0] === 'string' ? undefined : 'STR_SEARCH needs a pattern string first') },
  { name: 'COPY4', inCells: 4, outCells: 4 },
];

function errorsOf(source: string, opts: { linkType?: number; memoryCells?: number } = {}): string {
  try {
    compileFpl(source, { file: 'web.fpl', linkType: opts.linkType ?? 1, externs: EXTERNS, ...(opts.memoryCells ? { memoryCells: opts.memoryCells } : {}) });
  } catch (e) {
    if (e instanceof CompileError) return e.message;
    throw e;
  }
  throw new Error(`expected a compile error for:\n${source}`);
}

const lines = (...l: string[]): string => l.join('\n');

describe('syntax errors', () => {
  it('says what was expected and what was found, with a caret under the token', () => {
    expect(errorsOf('// all web traffic\nIF (PKT.IP_PROTO == PROTO_TCP THEN RETURN 1;')).toBe(lines(
      'web.fpl:2:31: error: expected ")" but found "THEN"',
      '  IF (PKT.IP_PROTO == PROTO_TCP THEN RETURN 1;',
      '                                ^~~~'));
  });

  it('names an expression when an operand is missing', () => {
    expect(errorsOf('R[0] = 1 +;')).toBe(lines(
      'web.fpl:1:11: error: expected an expression but found ";"',
      '  R[0] = 1 +;',
      '            ^'));
  });

  it('reports the end of input', () => {
    expect(errorsOf('RETURN 1')).toBe(lines(
      'web.fpl:1:9: error: expected ";" but found end of input',
      '  RETURN 1',
      '          ^'));
    expect(errorsOf('FOR (R[0] = 0; R[0] < 3; R[0]++)\n  R[1] += 1;\n')).toBe(lines(
      'web.fpl:3:1: error: expected a statement or "ROF" but found end of input',
      '  ',
      '  ^'));
  });

  it('catches == used as an assignment and keywords in lower case', () => {
    expect(errorsOf('R[0] == 1;')).toBe(lines(
      'web.fpl:1:6: error: expected "++", "--" or an assignment operator but found "=="',
      '  R[0] == 1;',
      '       ^~'));
    expect(errorsOf('if (1) return 1;')).toBe(lines(
      'web.fpl:1:8: error: expected "THEN" but found "return"',
      '  if (1) return 1;',
      '         ^~~~~~'));
  });

  it('reports unclosed comments and strings', () => {
    expect(errorsOf('RETURN 1; /* never closed')).toBe(lines(
      'web.fpl:1:11: error: this comment is not closed: expected */ before the end of the input',
      '  RETURN 1; /* never closed',
      '            ^~'));
    expect(errorsOf('EXTERN("STR_SEARCH, 1);')).toBe(lines(
      'web.fpl:1:8: error: this string is not closed: expected " on the same line',
      '  EXTERN("STR_SEARCH, 1);',
      '         ^'));
  });
});

describe('semantic errors', () => {
  it('R[300] and a non-constant register index', () => {
    expect(errorsOf('R[300] = 1;')).toBe(lines(
      'web.fpl:1:3: error: register R[300] does not exist; registers are R[0] to R[255]',
      '  R[300] = 1;',
      '    ^~~'));
    expect(errorsOf('R[R[0]] = 2;')).toBe(lines(
      'web.fpl:1:3: error: the register index in R[…] (0 to 255) must be a constant',
      '  R[R[0]] = 2;',
      '    ^~~~'));
  });

  it('a write to the loop register in the body, also through a nested FOR', () => {
    expect(errorsOf('FOR (R[1] = 0; R[1] < 3; R[1]++)\n  R[1] += 2;\nROF')).toBe(lines(
      'web.fpl:2:3: error: R[1] is the register of an enclosing FOR loop; the loop body may not write it',
      '    R[1] += 2;',
      '    ^~~~'));
    expect(errorsOf('FOR (R[1] = 0; R[1] < 3; R[1]++) FOR (R[1] = 0; R[1] < 2; R[1]++) ROF ROF')).toBe(lines(
      'web.fpl:1:39: error: R[1] is the register of an enclosing FOR loop; the loop body may not write it',
      '  FOR (R[1] = 0; R[1] < 3; R[1]++) FOR (R[1] = 0; R[1] < 2; R[1]++) ROF ROF',
      '                                        ^~~~'));
  });

  it('FOR parts that do not use one register', () => {
    expect(errorsOf('FOR (R[1] = 0; R[2] < 3; R[1]++) ROF')).toBe(lines(
      'web.fpl:1:16: error: the FOR condition uses R[2] but the loop register is R[1]; all three parts must use the same register',
      '  FOR (R[1] = 0; R[2] < 3; R[1]++) ROF',
      '                 ^~~~'));
  });

  it('BREAK outside FOR', () => {
    expect(errorsOf('IF (1) THEN BREAK; FI')).toBe(lines(
      'web.fpl:1:13: error: BREAK outside a FOR loop; BREAK may only appear inside FOR … ROF',
      '  IF (1) THEN BREAK; FI',
      '              ^~~~~'));
  });

  it('TCP_PORT used other than as one side of == or !=', () => {
    const msg = 'error: PKT.TCP_PORT means "PKT.TCP_SPORT or PKT.TCP_DPORT" and may only be one side of == or != (e.g. PKT.TCP_PORT == 80)';
    expect(errorsOf('RETURN PKT.TCP_PORT + 1;')).toBe(lines(
      `web.fpl:1:8: ${msg}`,
      '  RETURN PKT.TCP_PORT + 1;',
      '         ^~~~~~~~~~~~'));
    expect(errorsOf('RETURN PKT.TCP_PORT < 3;')).toBe(lines(
      `web.fpl:1:8: ${msg}`,
      '  RETURN PKT.TCP_PORT < 3;',
      '         ^~~~~~~~~~~~'));
  });

  it('unknown EXTERN lists the names available', () => {
    expect(errorsOf('R[0] = EXTERN("GetDynTCPPort", 0, 0);')).toBe(lines(
      'web.fpl:1:15: error: unknown extern "GetDynTCPPort"; the externs available are GetDynTCPDPortFromRTSP, STR_SEARCH, COPY4',
      '  R[0] = EXTERN("GetDynTCPPort", 0, 0);',
      '                ^~~~~~~~~~~~~~~'));
  });

  it('EXTERN spans outside M, a validate message, non-constant arguments', () => {
    expect(errorsOf('EXTERN(COPY4, 1022, 0);')).toBe(lines(
      'web.fpl:1:15: error: the input of COPY4 is 4 cells from M[1022], which leaves M (cells 0 to 1023)',
      '  EXTERN(COPY4, 1022, 0);',
      '                ^~~~'));
    expect(errorsOf('EXTERN("STR_SEARCH", 3);')).toBe(lines(
      'web.fpl:1:1: error: EXTERN("STR_SEARCH", …): STR_SEARCH needs a pattern string first',
      '  EXTERN("STR_SEARCH", 3);',
      '  ^~~~~~~~~~~~~~~~~~~~~~~'));
    expect(errorsOf('EXTERN("STR_SEARCH", "x", R[0]);')).toBe(lines(
      'web.fpl:1:27: error: an argument of EXTERN("STR_SEARCH", …) (a number or a string) must be a constant',
      '  EXTERN("STR_SEARCH", "x", R[0]);',
      '                            ^~~~'));
  });

  it('Hash with a constant range of 0', () => {
    expect(errorsOf('R[2] = Hash(14, 12, 4 - 4);')).toBe(lines(
      'web.fpl:1:21: error: the range of Hash must not be 0 (the hash is taken modulo the range)',
      '  R[2] = Hash(14, 12, 4 - 4);',
      '                      ^~~~~'));
  });

  it('unknown field and constant names suggest the closest', () => {
    expect(errorsOf('RETURN PKT.IP_PORTO;')).toBe(lines(
      'web.fpl:1:12: error: unknown packet field PKT.IP_PORTO',
      '  RETURN PKT.IP_PORTO;',
      '             ^~~~~~~~',
      '  hint: did you mean PKT.IP_PROTO?'));
    expect(errorsOf('RETURN PROTO_TPC;')).toBe(lines(
      'web.fpl:1:8: error: unknown constant PROTO_TPC',
      '  RETURN PROTO_TPC;',
      '         ^~~~~~~~~',
      '  hint: did you mean PROTO_TCP?'));
    expect(errorsOf('RETURN IP_PROTO;')).toBe(lines(
      'web.fpl:1:8: error: IP_PROTO is a packet field; write PKT.IP_PROTO',
      '  RETURN IP_PROTO;',
      '         ^~~~~~~~'));
  });

  it('numbers that do not fit in 32 bits', () => {
    expect(errorsOf('RETURN 4294967296;')).toBe(lines(
      'web.fpl:1:8: error: the number 4294967296 does not fit in 32 bits (the largest is 4294967295 = 0xffffffff)',
      '  RETURN 4294967296;',
      '         ^~~~~~~~~~'));
    expect(errorsOf('RETURN PKT.IP_SRC == 10.0.0.256;')).toBe(lines(
      'web.fpl:1:22: error: 10.0.0.256 is not an IPv4 address: each part must be from 0 to 255',
      '  RETURN PKT.IP_SRC == 10.0.0.256;',
      '                       ^~~~~~~~~~'));
  });

  it('a field the link type does not have', () => {
    expect(errorsOf('RETURN PKT.ETH_TYPE == ETH_IP;', { linkType: 101 })).toBe(lines(
      'web.fpl:1:12: error: this field cannot be read on this link type: field link.type needs a link header with a protocol type; link type RAW has none',
      '  RETURN PKT.ETH_TYPE == ETH_IP;',
      '             ^~~~~~~~'));
  });

  it('sub-field index out of range', () => {
    expect(errorsOf('RETURN PKT.W[0].U4[4];')).toBe(lines(
      'web.fpl:1:20: error: .U4[4] is out of range: a 16-bit load has 4-bit parts 0 to 3',
      '  RETURN PKT.W[0].U4[4];',
      '                     ^'));
  });

  it('reports every error of a run, in source order', () => {
    const text = errorsOf(lines(
      'R[300] = 1;',
      'BREAK;',
      'IF (PKT.TCP_PORT < 3) THEN R[0] = Hash[0, 4, 0]; FI',
      'R[1] = EXTERN("NOPE");'));
    const heads = text.split('\n').filter((l) => l.startsWith('web.fpl:'));
    expect(heads.map((h) => h.split(': error: ')[0])).toEqual(['web.fpl:1:3', 'web.fpl:2:1', 'web.fpl:3:5', 'web.fpl:3:46', 'web.fpl:4:15']);
  });
});

describe('warnings and options', () => {
  it('a missing FI at the end of input is a warning per unclosed IF', () => {
    const src = 'IF (PKT.IP_PROTO == PROTO_TCP) THEN\n  IF (PKT.TCP_DPORT == 80) THEN RETURN 1;';
    const { warnings } = compileFpl(src, { file: 'web.fpl', linkType: 1 });
    expect(warnings.map((w) => `${w.file}:${w.line}:${w.col}: ${w.severity}: ${w.message}`)).toEqual([
      'web.fpl:1:1: warning: IF has no FI; it is closed at the end of the input',
      'web.fpl:2:3: warning: IF has no FI; it is closed at the end of the input',
    ]);
  });

  it('a missing FI before more input is an error', () => {
    expect(errorsOf('FOR (R[0] = 0; R[0] < 2; R[0]++) IF (1) THEN BREAK; ROF')).toMatch(/^web\.fpl:1:53: error: expected .*"FI".* but found "ROF"/);
  });

  it('memoryCells that is not a power of two names the option', () => {
    expect(() => compileFpl('RETURN 1;', { linkType: 1, memoryCells: 1000 })).toThrow(/memoryCells must be a power of two/);
  });
});
