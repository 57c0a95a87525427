/** The validator: one broken program per rule, well-formed programs (hand-written and generated) pass. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { c, field, ret, seq, type Expr, type Program, type Stmt } from '../../lang/ir/ir.js';
import { validateProgram } from '../../lang/ir/validate.js';
import { arbProgram, genProgram, LINK_TYPES_UNDER_TEST } from './arbitrary.js';

function program(body: Stmt, extra: Partial<Program> = {}): Program {
  return { body, linkType: 1, registers: 4, memoryCells: 16, locals: 2, externs: [{ name: 'x', config: [] }], fuel: 100, ...extra };
}
const loop = (reg: number, body: Stmt, step = 1): Stmt => ({ k: 'for', reg, init: c(0), cmp: 'lt', limit: c(3), step, body });
const e = (x: Expr): Stmt => ({ k: 'eval', e: x });
const raw = (x: unknown) => x as Expr;

describe('validateProgram', () => {
  it('accepts a program that uses every node kind properly', () => {
    const body = seq(
      { k: 'setlocal', n: 1, value: { k: 'local', n: 0 } },
      { k: 'block', label: 1, body: seq(
        loop(3, seq({ k: 'if', cond: { k: 'reg', n: 3 }, then: { k: 'break' }, else: { k: 'exit', label: 1 } },
          { k: 'setreg', n: 2, value: { k: 'extern', id: 0, args: [c(1)] } }), 0xffffffff),
        { k: 'block', label: 2, body: { k: 'exit', label: 2 } }) },
      { k: 'block', label: 2, body: seq() },    // a label may repeat on another path
      { k: 'setmem', index: c(0xffffffff), value: { k: 'hash', off: c(0), len: c(4), range: c(0) } },
      e({ k: 'cond', c: { k: 'land', a: field('ip4.proto'), b: { k: 'lor', a: field('l4.dport', 4), b: { k: 'meta', m: 'caplen' } } },
        a: { k: 'neg', a: { k: 'bnot', a: { k: 'lnot', a: { k: 'load', off: c(0), size: 2 } } } }, b: { k: 'mem', index: c(3) } }),
      ret(c(0xffffffff)));
    expect(validateProgram(program(body))).toEqual([]);
  });

  it.each<[string, Program, string]>([
    ['register past 256', program(e(raw({ k: 'reg', n: 256 })), { registers: 256 }), 'R[256]: expected an integer in [0, 256)'],
    ['register past the declared count', program({ k: 'setreg', n: 4, value: c(0) }), 'R[4]: the program declares 4 registers'],
    ['loop register past the declared count', program(loop(9, seq())), 'loop register R[9]'],
    ['local past the declared count', program(e({ k: 'local', n: 2 })), 'local L2: the program declares 2 locals'],
    ['setlocal past the declared count', program({ k: 'setlocal', n: 5, value: c(1) }), 'local L5'],
    ['memory not a power of two', program(seq(), { memoryCells: 12 }), 'memoryCells: expected a power of two >= 1, got 12'],
    ['memory of zero cells', program(seq(), { memoryCells: 0 }), 'memoryCells'],
    ['break outside a loop', program(seq({ k: 'block', label: 1, body: { k: 'break' } })), 'break outside of a for loop'],
    ['exit without its block', program({ k: 'block', label: 1, body: { k: 'exit', label: 2 } }), 'exit 2: no enclosing block has that label'],
    ['exit of a block on another path', program(seq({ k: 'block', label: 1, body: seq() }, { k: 'exit', label: 1 })), 'exit 1'],
    ['label reused inside its block', program({ k: 'block', label: 1, body: { k: 'block', label: 1, body: seq() } }), 'block label 1 is already'],
    ['extern id out of range', program(e({ k: 'extern', id: 1, args: [] })), 'extern #1: the program declares 1 externs'],
    ['loop register written in the body', program(loop(1, seq({ k: 'if', cond: c(1), then: { k: 'setreg', n: 1, value: c(0) } }))), 'R[1] is the register of an enclosing for loop'],
    ['inner loop on the outer loop register', program(loop(1, loop(1, seq()))), 'loop register R[1] is the register of an enclosing loop'],
    ['negative constant', program(ret(raw({ k: 'const', v: -1 }))), 'constant -1: expected an integer in [0, 2^32)'],
    ['constant 2^32', program(ret(raw({ k: 'const', v: 2 ** 32 }))), 'constant 4294967296'],
    ['fractional constant', program(ret(raw({ k: 'const', v: 1.5 }))), 'constant 1.5'],
    ['load of 3 bytes', program(ret(raw({ k: 'load', off: c(0), size: 3 }))), 'load size 3: expected 1, 2 or 4'],
    ['unknown field', program(ret(raw({ k: 'field', name: 'ip4.nope' }))), 'unknown field ip4.nope'],
    ['field the link type lacks', program(ret(field('link.type')), { linkType: 101 }), 'link type RAW has none'],
    ['negative loop step', program(loop(1, seq(), -1)), 'loop step -1'],
    ['loop step 2^32', program(loop(1, seq(), 2 ** 32)), 'loop step 4294967296'],
    ['fractional loop step', program(loop(1, seq(), 0.5)), 'loop step 0.5'],
    ['unknown expression kind', program(ret(raw({ k: 'frob' }))), 'unknown expression kind "frob"'],
    ['unknown statement kind', program(raw({ k: 'goto' }) as unknown as Stmt), 'unknown statement kind "goto"'],
    ['not a node', program(ret(raw(null))), 'expected an expression node'],
    ['unknown operator', program(ret(raw({ k: 'bin', op: 'pow', a: c(1), b: c(2) }))), 'operator pow'],
    ['unsupported link type', program(seq(), { linkType: 9999 }), 'link type DLT 9999 is not supported'],
    ['too many registers', program(seq(), { registers: 300 }), 'registers: expected an integer in [0, 256]'],
    ['set not ascending', program(ret(raw({ k: 'inset', e: c(1), set: [1, 5, 3] }))), 'set[2]: 3: expected values in ascending order'],
    ['set with a repeat', program(ret(raw({ k: 'inset', e: c(1), set: [1, 1] }))), 'set[1]: 1: expected values in ascending order, without repeats'],
    ['set value past 2^32', program(ret(raw({ k: 'inset', e: c(1), set: [2 ** 32] }))), 'set[0]: 4294967296: expected an integer in [0, 2^32)'],
    ['set not an array', program(ret(raw({ k: 'inset', e: c(1), set: 7 }))), 'inset set: expected an array'],
    ['bad operand of a set test', program(ret(raw({ k: 'inset', e: { k: 'reg', n: 9 }, set: [] }))), 'R[9]'],
  ])('reports %s', (_what, p, message) => {
    const errors = validateProgram(p);
    expect(errors.some((m) => m.includes(message)), errors.join('\n')).toBe(true);
  });

  it('says where the problem is', () => {
    const p = program(seq(ret(c(1)), { k: 'if', cond: c(1), then: ret(raw({ k: 'bin', op: 'add', a: c(1), b: { k: 'reg', n: 7 } })) }));
    expect(validateProgram(p)).toEqual(['body[1].then.value.b: register R[7]: the program declares 4 registers']);
  });

  it('never throws, even on a program nested deeper than the stack', () => {
    let deep: Expr = c(1);
    for (let i = 0; i < 200_000; i++) deep = { k: 'neg', a: deep };
    expect(validateProgram(program(ret(deep)))).toEqual(['body: nested too deeply to check']);
    expect(validateProgram(null as unknown as Program)).toEqual(['program: expected an object']);
  });

  it('accepts every generated program, on every link type and option', () => {
    fc.assert(fc.property(arbProgram(), (p) => { expect(validateProgram(p)).toEqual([]); }), { numRuns: 500 });
    for (const linkType of LINK_TYPES_UNDER_TEST) {
      fc.assert(fc.property(arbProgram({ linkType, memoryCells: 64, maxDepth: 6, externs: true }),
        (p) => { expect(validateProgram(p)).toEqual([]); }), { numRuns: 60 });
    }
    expect(validateProgram(genProgram(1, { maxDepth: 1 }))).toEqual([]);
  });
});
