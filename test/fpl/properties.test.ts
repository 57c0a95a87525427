/**
 * Property tests: random well-formed programs compile; random expressions printed with C's
 * minimal parentheses evaluate as an independent evaluator of the tree says; no input makes
 * the front end throw anything but CompileError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFpl, type ExternSignature } from '../../lang/fpl/index.js';
import { CompileError } from '../../lang/diagnostics.js';
import { newState, runPacket } from '../../lang/ir/interp.js';

// ---- expression trees, printed with the fewest parentheses C needs ----

type Tree = { k: 'num'; v: number } | { k: 'un'; op: '!' | '~' | '-'; a: Tree } | { k: 'bin'; op: string; a: Tree; b: Tree };

const PRECEDENCE: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '<=': 7, '>': 7, '>=': 7,
  '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};
const OPS = Object.keys(PRECEDENCE);

const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0xffffffff, 0x80000000, 31, 32, 33))
      .map((v): Tree => ({ k: 'num', v })),
    fc.record({ k: fc.constant('un' as const), op: fc.constantFrom('!' as const, '~' as const, '-' as const), a: tie('t') }),
    fc.record({ k: fc.constant('bin' as const), op: fc.constantFrom(...OPS), a: tie('t'), b: tie('t') })),
})).t;

/** Prints with parentheses only where C's precedence and left associativity need them. */
function print(t: Tree, hex: boolean): string {
  if (t.k === 'num') return hex ? `0x${t.v.toString(16)}` : String(t.v);
  if (t.k === 'un') {
    const inner = print(t.a, hex);
    // "- -1" must not print as "--1"; a binary operand needs parentheses under a unary operator
    return t.a.k === 'bin' ? `${t.op}(${inner})` : `${t.op} ${inner}`;
  }
  const p = PRECEDENCE[t.op]!;
  const left = t.a.k === 'bin' && PRECEDENCE[t.a.op]! < p ? `(${print(t.a, hex)})` : print(t.a, hex);
  const right = t.b.k === 'bin' && PRECEDENCE[t.b.op]! <= p ? `(${print(t.b, hex)})` : print(t.b, hex);
  return `${left} ${t.op} ${right}`;
}

class Fault {}

/** The evaluator of the tree: u32 arithmetic, unsigned compare, short-circuit, faults on /0. */
function evaluate(t: Tree): number {
  if (t.k === 'num') return t.v;
  if (t.k === 'un') {
    const a = evaluate(t.a);
    return t.op === '!' ? (a === 0 ? 1 : 0) : t.op === '~' ? ~a >>> 0 : (0 - a) >>> 0;
  }
  if (t.op === '&&') return evaluate(t.a) !== 0 && evaluate(t.b) !== 0 ? 1 : 0;
  if (t.op === '||') return evaluate(t.a) !== 0 || evaluate(t.b) !== 0 ? 1 : 0;
  const a = evaluate(t.a);
  const b = evaluate(t.b);
  const big = (x: bigint): number => Number(x & 0xffffffffn);
  switch (t.op) {
    case '+': return big(BigInt(a) + BigInt(b));
    case '-': return big(BigInt(a) - BigInt(b));
    case '*': return big(BigInt(a) * BigInt(b));
    case '/': if (b === 0) throw new Fault(); return big(BigInt(a) / BigInt(b));
    case '%': if (b === 0) throw new Fault(); return big(BigInt(a) % BigInt(b));
    case '<<': return b >= 32 ? 0 : big(BigInt(a) << BigInt(b));
    case '>>': return b >= 32 ? 0 : big(BigInt(a) >> BigInt(b));
    case '&': return big(BigInt(a) & BigInt(b));
    case '|': return big(BigInt(a) | BigInt(b));
    case '^': return big(BigInt(a) ^ BigInt(b));
    case '==': return a === b ? 1 : 0;
    case '!=': return a !== b ? 1 : 0;
    case '<': return a < b ? 1 : 0;
    case '<=': return a <= b ? 1 : 0;
    case '>': return a > b ? 1 : 0;
    case '>=': return a >= b ? 1 : 0;
  }
  throw new Error(`operator ${t.op}`);
}

describe('expressions', () => {
  it('random expressions parse with C precedence and evaluate with u32 semantics', () => {
    fc.assert(fc.property(treeArb, fc.boolean(), (t, hex) => {
      let expected: number;
      try { expected = evaluate(t); } catch (e) { if (!(e instanceof Fault)) throw e; expected = 0; }
      // the result is stored in R[0] before RETURN so a fault (result 0) is told apart from a value 0
      const { program } = compileFpl(`R[0] = ${print(t, hex)}; R[1] = 1; RETURN R[0];`, { linkType: 1 });
      const state = newState(program);
      const r = runPacket(program, state, new Uint8Array(0), 0);
      if (expected === 0 && state.registers[1] === 0) return r.result === 0; // faulted
      return r.result === expected && state.registers[1] === 1;
    }), { numRuns: 400 });
  });
});

// ---- random well-formed programs ----

const EXTERNS: ExternSignature[] = [
  { name: 'GetDynTCPDPortFromRTSP', inCells: 0, outCells: 0 },
  { name: 'COPY2', inCells: 2, outCells: 2 },
  { name: 'STR_SEARCH' },
];

const FIELDS = ['IP_PROTO', 'IP_SRC', 'IP_DEST', 'IP_DST', 'IP_TTL', 'IP_LEN', 'TCP_SPORT', 'TCP_DPORT', 'TCP_FLAGS', 'TCP_SEQ',
  'UDP_LEN', 'ICMP_TYPE', 'ETH_TYPE', 'PAYLOAD_OFF', 'IP_VER', 'IP_HL', 'IP_FRAGOFF'];
const CONSTANTS = ['PROTO_TCP', 'PROTO_UDP', 'PROTO_ICMP', 'ETH_IP', 'FLAG_SYN', 'TRUE', 'false'];

const kw = (word: string) => fc.constantFrom(word, word.toLowerCase(), word[0] + word.slice(1).toLowerCase());
const gap = fc.constantFrom(' ', '  ', '\n', ' /* c */ ', ' // c\n', '\t');

/** Expression source text; `depth` bounds the nesting. */
function exprArb(depth: number): fc.Arbitrary<string> {
  const leaf = fc.oneof(
    fc.nat({ max: 0xffffffff }).map(String),
    fc.nat({ max: 0xffffffff }).map((v) => `0x${v.toString(16)}`),
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((q) => q.join('.')),
    fc.constantFrom(...CONSTANTS),
    fc.nat(255).map((n) => `R[${n}]`),
    fc.constantFrom(...FIELDS).map((f) => `PKT.${f}`),
    fc.constantFrom('PKT.LEN', 'PKT.WIRELEN'),
  );
  if (depth === 0) return leaf;
  const sub = exprArb(depth - 1);
  return fc.oneof(
    leaf,
    fc.tuple(sub, fc.constantFrom(...OPS), sub).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(fc.constantFrom('!', '~', '-'), sub).map(([op, a]) => `${op}(${a})`),
    sub.map((a) => `(${a})`),
    sub.map((a) => `M[${a}]`),
    fc.tuple(fc.constantFrom('B', 'W', 'DW'), sub).map(([s, a]) => `PKT.${s}[${a}]`),
    fc.tuple(fc.constantFrom(['W', 'U4', 4], ['DW', 'U8', 4], ['B', 'U1', 8], ['DW', 'U16', 2]), sub, fc.nat(7))
      .map(([[s, u, n], a, m]) => `PKT.${s}[${a}].${u}[${(m as number) % (n as number)}]`),
    // (an EXTERN call beside an either-direction field is a documented compile error)
    fc.tuple(fc.constantFrom('TCP_PORT', 'UDP_PORT', 'IP_ADDR'), fc.constantFrom('==', '!='), sub.filter((a) => !a.includes('EXTERN')), fc.boolean())
      .map(([f, op, a, left]) => (left ? `(PKT.${f} ${op} ${a})` : `(${a} ${op} PKT.${f})`)),
    fc.tuple(fc.constantFrom('Hash[', 'HASH(', 'hash['), sub, sub, fc.integer({ min: 1, max: 0xffff })).map(([open, a, b, r]) =>
      `${open}${a}, ${b}, ${r}${open.endsWith('[') ? ']' : ')'}`),
    fc.constantFrom('EXTERN("GetDynTCPDPortFromRTSP", 0, 0)', 'EXTERN(COPY2, 10, 1022)', 'EXTERN("STR_SEARCH", "GET", 0, 100)'),
  );
}

const ASSIGN_OPS = ['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>='];

/** Statements; `loopRegs` are the registers of the enclosing FOR loops (not writable here). */
function stmtsArb(depth: number, loopRegs: number[]): fc.Arbitrary<string> {
  const e = exprArb(2);
  const freeReg = fc.nat(255).filter((n) => !loopRegs.includes(n));
  const simple = fc.oneof(
    fc.tuple(freeReg, fc.constantFrom(...ASSIGN_OPS), e).map(([n, op, v]) => `R[${n}] ${op} ${v};`),
    fc.tuple(e, fc.constantFrom(...ASSIGN_OPS), e).map(([i, op, v]) => `M[${i}] ${op} ${v};`),
    fc.tuple(freeReg, fc.constantFrom('++', '--')).map(([n, op]) => `R[${n}]${op};`),
    fc.tuple(e, fc.constantFrom('++', '--')).map(([i, op]) => `M[${i}]${op};`),
    fc.tuple(kw('RETURN'), e).map(([r, v]) => `${r} ${v};`),
    fc.constant('EXTERN(GetDynTCPDPortFromRTSP, 0, 0);'),
    ...(loopRegs.length ? [kw('BREAK').map((b) => `${b};`)] : []),
  );
  if (depth === 0) return fc.array(simple, { maxLength: 3 }).map((l) => l.join(' '));
  const inner = (regs: number[]) => stmtsArb(depth - 1, regs);
  const ifStmt = fc.tuple(kw('IF'), e, kw('THEN'), inner(loopRegs), fc.option(inner(loopRegs)), kw('FI'), gap)
    .map(([i, c, t, body, els, fi, g]) => `${i} (${c}) ${t}${g}${body}${els === null ? '' : ` ELSE ${els}`} ${fi}`);
  const forStmt = freeReg.chain((k) => fc.tuple(
    fc.constant(k), e, fc.constantFrom('<', '<=', '>', '>=', '==', '!='), e,
    fc.constantFrom('++', '--', '+= 3', '-= 2', '+= 0x10'), inner([...loopRegs, k]), kw('FOR'), kw('ROF'),
  )).map(([k, init, rel, lim, upd, body, f, r]) => `${f} (R[${k}] = ${init}; R[${k}] ${rel} (${lim}); R[${k}]${upd.startsWith('+') || upd.startsWith('-=') ? ` ${upd}` : upd}) ${body} ${r};`);
  return fc.array(fc.oneof(simple, ifStmt, forStmt), { maxLength: 3 }).chain((l) => gap.map((g) => l.join(g)));
}

describe('programs', () => {
  it('random well-formed programs always compile', () => {
    fc.assert(fc.property(stmtsArb(2, []), fc.constantFrom(1, 113, 276), (src, linkType) => {
      try {
        compileFpl(src, { linkType, externs: EXTERNS, file: 'gen.fpl' });
      } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- source ---\n${src}`);
      }
    }), { numRuns: 300 });
  });

  const ALPHABET = 'IFTHENLSROBKUXPMWDH[]()=<>!~+-*/%&|^;,."0x1234567 \n/*_abcfo';
  const mustOnlyThrowCompileError = (src: string): void => {
    try {
      compileFpl(src, { linkType: 1, externs: EXTERNS });
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      expect(e.diagnostics.length).toBeGreaterThan(0);
      for (const d of e.diagnostics) expect(d.line).toBeGreaterThanOrEqual(1);
    }
  };

  it('garbage never throws anything but CompileError', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 80 }), (s) => { mustOnlyThrowCompileError(s); }), { numRuns: 800 });
    fc.assert(fc.property(fc.string({ maxLength: 60, unit: 'binary' }), (s) => { mustOnlyThrowCompileError(s); }), { numRuns: 300 });
  });

  it('mutated well-formed programs never throw anything but CompileError', () => {
    fc.assert(fc.property(stmtsArb(1, []), fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), (src, at, len, ins) => {
      const i = at % (src.length + 1);
      mustOnlyThrowCompileError(src.slice(0, i) + ins + src.slice(i + (len % 4)));
    }), { numRuns: 300 });
  });

  it('deep nesting and huge inputs are refused cleanly, not by a stack overflow', () => {
    for (const src of ['RETURN ' + '('.repeat(100000) + '1' + ')'.repeat(100000) + ';', 'RETURN ' + '-'.repeat(50000) + '1;',
      'RETURN ' + Array(8000).fill('1').join(' + ') + ';', 'IF (1) THEN '.repeat(5000), 'R[0] = 1;\n'.repeat(30000)]) {
      mustOnlyThrowCompileError(src);
    }
  });
});
