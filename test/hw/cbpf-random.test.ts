/**
 * IR → classic BPF on random stateless programs × random packets: the reference interpreter
 * on the IR must give exactly what the emitted program gives, run three ways — read back by
 * fplc's cBPF front end (which applies Linux's checks) and interpreted, run by libpcap's own
 * bpf_filter, and accepted by the running kernel's classic checker (SO_ATTACH_FILTER).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lowerToCbpf } from '../../codegen/hw/cbpf/emit.js';
import { prefixSets } from '../../codegen/hw/cbpf/sets.js';
import type { Expr, Program } from '../../lang/ir/ir.js';
import { formatCbpf } from '../../codegen/hw/cbpf/format.js';
import { bpfFilterRecords, linuxSocketFilterCheck } from '../../drivers/libpcap.js';
import { printProgram } from '../../lang/ir/print.js';
import { validateProgram } from '../../lang/ir/validate.js';
import { genPackets, genProgram } from '../ir/arbitrary.js';
import { oracleReady } from '../libpcap/oracle.js';
import { toRecords } from '../support/records.js';
import { interpret, reloaded, statelessVariant, toBpf } from './cbpf-support.js';

const withLibpcap = oracleReady();
const RUNS = process.env.FPLC_LONG_FUZZ ? 5000 : 300;

describe('IR → classic BPF on random stateless programs', () => {
  it('gives the reference interpreter\'s result on every packet (fplc cBPF front end, libpcap, Linux checker)', () => {
    let lowered = 0;
    let refused = 0;
    const reasons = new Map<string, number>();
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer(), (seed, packetSeed) => {
      const program = statelessVariant(genProgram(seed, { maxDepth: 4 }));
      expect(validateProgram(program)).toEqual([]);
      const r = lowerToCbpf(program);
      if (!r.ok) {
        refused++;
        const why = r.reason.replace(/\d+/g, 'N');
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
        return;
      }
      lowered++;
      const packets = genPackets(packetSeed, program.linkType, 24);
      const expected = interpret(program, packets);
      const context = () => `${printProgram(program)}\n${formatCbpf(r.insns, 'text', r.notes)}`;
      const viaFrontEnd = interpret(reloaded(r.insns, program.linkType), packets);
      expect(viaFrontEnd, context()).toEqual(expected);
      if (withLibpcap) {
        expect([...bpfFilterRecords(toBpf(r.insns), toRecords(packets))], context()).toEqual(expected);
        expect(linuxSocketFilterCheck(toBpf(r.insns)), context()).toBe(0);
      }
    // 56893006: a ret trampoline shared across a store, which Linux's store-before-load check rejected.
    }), { numRuns: RUNS, examples: [[56893006, 0]] });
    if (process.env.CBPF_STATS) console.log({ lowered, refused, reasons: [...reasons] });
    // Stateless programs lower, except when their temporaries outgrow the scratch cells.
    for (const why of reasons.keys()) expect(why).toMatch(/scratch cells/);
    expect(lowered).toBeGreaterThan(refused * 4);
  });

  it('long == chains as sets (prefixSets) keep the IR\'s result, faults included', () => {
    // Atoms read near the end of short packets, so that terms fault at every position of the chain.
    const atoms: Expr[] = [
      { k: 'load', off: { k: 'const', v: 3 }, size: 1 }, { k: 'load', off: { k: 'const', v: 10 }, size: 2 },
      { k: 'load', off: { k: 'bin', op: 'add', a: { k: 'load', off: { k: 'const', v: 0 }, size: 1 }, b: { k: 'const', v: 2 } }, size: 1 },
      { k: 'field', name: 'l4v4.dport' },
    ];
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: atoms.length - 1 }), fc.integer({ min: 0, max: 6 })), { minLength: 8, maxLength: 40 }),
      fc.integer(), (terms, packetSeed) => {
        const chain = terms.map(([a, v]): Expr => ({ k: 'bin', op: 'eq', a: atoms[a]!, b: { k: 'const', v } }))
          .reduce((acc, t) => ({ k: 'lor', a: acc, b: t }));
        const program: Program = { body: { k: 'return', value: { k: 'cond', c: chain, a: { k: 'const', v: 9 }, b: { k: 'const', v: 2 } } },
          linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
        const packets = genPackets(packetSeed, 1, 24, 40).map((p, i) => ({ ...p, bytes: p.bytes.map((b) => (i % 2 ? b % 7 : b)) }));
        const expected = interpret(program, packets);
        const rewritten = prefixSets(program);
        expect(interpret(rewritten, packets)).toEqual(expected);
        const r = lowerToCbpf(rewritten);
        expect(r.ok).toBe(true);
        if (r.ok) expect(interpret(reloaded(r.insns, 1), packets)).toEqual(expected);
      }), { numRuns: RUNS });
  });

  it('refuses state, loops and externs, naming the node', () => {
    for (let seed = 1; seed < 400; seed++) {
      const program = genProgram(seed, { maxDepth: 3, externs: true });
      const r = lowerToCbpf(program);
      if (r.ok) continue;
      expect(r.reason).not.toBe('');
      if (r.node) expect(r.where.length).toBeGreaterThan(0);
    }
    const stateful = genProgram(7);
    const withReg = { ...stateful, body: { k: 'seq' as const, body: [{ k: 'setreg' as const, n: 0, value: { k: 'const' as const, v: 1 } }, { k: 'return' as const, value: { k: 'reg' as const, n: 0 } }] } };
    const r = lowerToCbpf(withReg);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.node?.k).toBe('setreg');
      expect(r.reason).toMatch(/setreg.*state/);
    }
  });
});
