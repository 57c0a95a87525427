/**
 * Comparisons the backend makes on raw (unswapped) bytes against byte-swapped constants:
 * `x == c`, `x != c`, `(x & m) == c` for 2- and 4-byte loads and fields, and `x in {…}` for
 * 4-byte loads. Compiled and interpreted results agree on packets built so that the loaded
 * values often equal the constants (and on truncated packets, where loads fault), including
 * a value loaded raw first and big-endian after, and the other way round.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { bin, c, type Expr, type Program } from '../../lang/ir/ir.js';
import { printProgram } from '../../lang/ir/print.js';
import { compileProgram } from '../../vm/compile.js';
import { toRecords } from '../support/records.js';

const load = (off: number, size: 2 | 4): Expr => ({ k: 'load', off: c(off), size });
const be = (b: Uint8Array, off: number, size: number) => { let v = 0; for (let i = 0; i < size; i++) v = v * 256 + (b[off + i] ?? 0); return v >>> 0; };

const term = fc.record({
  off: fc.nat(12), size: fc.constantFrom(2 as const, 4 as const), op: fc.constantFrom('eq' as const, 'ne' as const),
  kind: fc.constantFrom('plain', 'masked', 'set', 'constFirst'), mask: fc.constantFrom(0xff00, 0x00ff, 0xfff0, 0xffff0000, 0xffffff00, 0x0f0f0f0f),
  salt: fc.nat(1000),
});

describe('raw-byte comparisons against swapped constants', () => {
  it('agree with the interpreter', async () => {
    await fc.assert(fc.asyncProperty(fc.array(term, { minLength: 1, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), async (terms, base) => {
      // Constants taken from the packet itself (so tests are often true), or salted (often false).
      const exprs: Expr[] = terms.map((t) => {
        const x = load(t.off, t.size);
        const v = (be(base, t.off, t.size) + (t.salt % 3 === 0 ? t.salt : 0)) >>> 0;
        const mask = t.size === 2 ? t.mask & 0xffff : t.mask;
        switch (t.kind) {
          case 'masked': return bin(t.op, bin('and', x, c(mask)), c((v & mask) >>> 0));
          case 'set': return t.size === 4 ? { k: 'inset', e: x, set: [...new Set([v, (v + 1) >>> 0, 7, 0x0a000001])].sort((a, b) => a - b) } : bin(t.op, x, c(v));
          case 'constFirst': return bin(t.op, c(v), x);
          default: return bin(t.op, x, c(v));
        }
      });
      // Each term's bit in the result, and one more use of the first load's big-endian value.
      const value = exprs.reduce<Expr>((acc, e, i) => bin('or', acc, bin('shl', e, c(i))), c(0));
      const program: Program = {
        body: { k: 'return', value: bin('add', value, bin('shl', load(terms[0]!.off, terms[0]!.size), c(8))) },
        linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0,
      };
      const packets = Array.from({ length: 17 }, (_, n) => ({ bytes: base.subarray(0, n), wirelen: 16 }));
      const state = newState(program);
      const expected = packets.map((p) => runPacket(program, state, p.bytes, p.wirelen).result);
      const f = await compileProgram(program);
      expect([...f.runRecords(toRecords(packets))], printProgram(program)).toEqual(expected);
    }), { numRuns: 150 });
  }, 60_000);
});
