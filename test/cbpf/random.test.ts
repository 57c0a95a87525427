/**
 * Random classic BPF programs over every opcode, on random packets: libpcap's interpreter and
 * the IR reference interpreter running compileCbpf's output return the same value; and the
 * largest, most deeply nested programs compile and run without exhausting the stack.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bpfFilterRecords, type BpfInsn } from '../../drivers/libpcap.js';
import { compileCbpf, formatDdd, lowerCbpf } from '../../lang/cbpf/index.js';
import type { Program, Stmt } from '../../lang/ir/ir.js';
import { BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_B, BPF_ABS, BPF_A, BPF_ALU, BPF_ADD } from '../../lang/cbpf/opcodes.js';
import { oracleReady } from '../libpcap/oracle.js';
import { toRecords, type Packet } from '../libpcap/packets.js';
import { packet, validProgram } from './gen.js';
import { newState, runPacket } from './ir-interp.js';

const ready = oracleReady();
const toText = (insns: BpfInsn[]) => formatDdd(insns.map(([code, jt, jf, k]) => ({ code, jt, jf, k })));

/** Both lowerings: the nested blocks compileCbpf uses, and the flat form for very deep programs. */
function compare(insns: BpfInsn[], packets: Packet[]): void {
  const expected = [...bpfFilterRecords(insns, toRecords(packets))];
  const { program } = compileCbpf(toText(insns), { linkType: 1 });
  const flat = lowerCbpf(insns.map(([code, jt, jf, k]) => ({ code, jt, jf, k })), 1, undefined, { maxBlockDepth: 0 });
  for (const p of [program, flat]) {
    const state = newState(p);
    expect(packets.map((pkt) => runPacket(p, state, pkt.bytes, pkt.wirelen))).toEqual(expected);
  }
}

/** Deepest nesting of statements, counted without recursion. */
function nesting(program: Program): number {
  let deepest = 0;
  const todo: [Stmt, number][] = [[program.body, 1]];
  while (todo.length) {
    const [s, d] = todo.pop()!;
    deepest = Math.max(deepest, d);
    const kids = s.k === 'seq' ? s.body : s.k === 'block' ? [s.body] : s.k === 'if' ? [s.then, ...(s.else ? [s.else] : [])] : [];
    for (const kid of kids) todo.push([kid, d + 1]);
  }
  return deepest;
}

describe.skipIf(!ready)('random classic BPF programs: fplc = libpcap', () => {
  it('on random packets, return values agree', () => {
    fc.assert(fc.property(validProgram(), fc.array(packet, { minLength: 1, maxLength: 12 }), (insns, packets) => compare(insns, packets)),
      { numRuns: 400 });
  });

  it('shifts by X >= 32 give 0 and division by X = 0 returns 0, as in libpcap', () => {
    const pkt: Packet[] = [{ bytes: new Uint8Array(4), wirelen: 4, name: 'any' }];
    const run = (op: number, x: number) => {
      const insns: BpfInsn[] = [[BPF_LD, 0, 0, 0xffffffff], [0x01, 0, 0, x], [BPF_ALU | op | 0x08, 0, 0, 0], [BPF_RET | BPF_A, 0, 0, 0]];
      compare(insns, pkt);
      return bpfFilterRecords(insns, toRecords(pkt))[0];
    };
    const LSH = 0x60, RSH = 0x70, DIV = 0x30, MOD = 0x90;
    expect([0, 1, 31, 32, 33, 0xffffffff].map((x) => run(LSH, x))).toEqual([0xffffffff, 0xfffffffe, 0x80000000, 0, 0, 0]);
    expect([0, 1, 31, 32, 33, 0xffffffff].map((x) => run(RSH, x))).toEqual([0xffffffff, 0x7fffffff, 1, 0, 0, 0]);
    expect([0, 1, 2].map((x) => run(DIV, x))).toEqual([0, 0xffffffff, 0x7fffffff]);
    expect([0, 2].map((x) => run(MOD, x))).toEqual([0, 1]);
  });

  it('a 4096-instruction program with 2047 nested jump targets', () => {
    // ldb [i]; jeq #i, +(far), +0 … : every conditional jumps to its own target near the end,
    // so every block nests inside the next.
    const n = 4096;
    const pairs = (n - 2) / 2;
    const insns: BpfInsn[] = [];
    for (let i = 0; i < pairs; i++) {
      insns.push([BPF_LD | BPF_B | BPF_ABS, 0, 0, i % 64]);
      const pc = insns.length;
      const target = Math.min(n - 2, pc + 1 + Math.min(255, n - 2 - pc - 1));
      insns.push([BPF_JMP | BPF_JEQ | BPF_K, 0, target - pc - 1, i & 0xff]);
    }
    insns.push([BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1], [BPF_RET | BPF_A, 0, 0, 0]);
    expect(insns.length).toBe(n);
    // Each conditional's block starts at its own jump, so blocks stay shallow.
    expect(nesting(compileCbpf(toText(insns), { linkType: 1 }).program)).toBeLessThan(20);
    const packets: Packet[] = [
      { bytes: Uint8Array.from({ length: 64 }, (_, i) => i), wirelen: 64, name: 'counting bytes' },
      { bytes: new Uint8Array(64), wirelen: 64, name: 'zeros' },
      { bytes: Uint8Array.from({ length: 30 }, (_, i) => i), wirelen: 64, name: 'short' },
    ];
    compare(insns, packets);
  });

  it('a 4096-instruction program of jumps to every following instruction', () => {
    // jeq +0, +1 chains: every instruction from 2 on is a jump target (the deepest nesting possible).
    const insns: BpfInsn[] = [[BPF_LD | BPF_B | BPF_ABS, 0, 0, 0]];
    while (insns.length < 4094) insns.push([BPF_JMP | BPF_JEQ | BPF_K, 0, 1, insns.length & 0xff]);
    insns.push([BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1], [BPF_RET | BPF_K, 0, 0, 99]);
    const { program } = compileCbpf(toText(insns), { linkType: 1 });
    // Too deep to nest: the flat form keeps statement depth small and the size linear.
    expect(nesting(program)).toBeLessThan(10);
    expect(JSON.stringify(program.body).length).toBeLessThan(600 * insns.length);
    compare(insns, [0, 1, 7, 200].map((b) => ({ bytes: Uint8Array.of(b), wirelen: 1, name: `byte ${b}` })));
  });
});
