/**
 * The machine's limits, directly: long `port` lists whose tests jump further than an 8-bit
 * offset reaches (trampolines), the 4,096-instruction bound, and a far jump whose target is
 * not a `ret` (a `ja` trampoline). Each emitted program is checked against the IR
 * interpreter and libpcap's bpf_filter on packets whose ports are in and out of the list.
 */
import { describe, expect, it } from 'vitest';
import { compileCbpfTarget, lowerToCbpf, type CbpfInsn } from '../../codegen/hw/cbpf/index.js';
import { BPF_JA, BPF_JMP, bpfClass } from '../../lang/cbpf/opcodes.js';
import { bpfFilterRecords, linuxSocketFilterCheck } from '../../drivers/libpcap.js';
import type { Expr, Program, Stmt } from '../../lang/ir/ir.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { oracleReady } from '../libpcap/oracle.js';
import { ipv4, ipv6, tcp, udp } from '../libpcap/packets.js';
import { toRecords } from '../support/records.js';
import { interpret, reloaded, toBpf } from './cbpf-support.js';

const withLibpcap = oracleReady();

const ether = (type: number, l3: number[]) => Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, type >> 8, type & 0xff, ...l3]);

function portPackets(ports: number[]): { bytes: Uint8Array; wirelen: number }[] {
  const probe = [ports[0]!, ports[Math.floor(ports.length / 2)]!, ports[ports.length - 1]!, ports[0]! + 1, 65535, 3];
  const out: { bytes: Uint8Array; wirelen: number }[] = [];
  for (const p of probe) {
    for (const bytes of [
      ether(0x0800, ipv4({ proto: 6, payload: tcp(40000, p) })), ether(0x0800, ipv4({ proto: 17, payload: udp(p, 40000) })),
      ether(0x86dd, ipv6({ proto: 6, payload: tcp(p, 40000) })), ether(0x86dd, ipv6({ proto: 17, payload: udp(40000, p) })),
    ]) {
      out.push({ bytes, wirelen: bytes.length });
      out.push({ bytes: bytes.subarray(0, 40), wirelen: bytes.length });
    }
  }
  return out;
}

/** Every conditional offset fits 8 bits and every jump lands inside the program. */
function checkJumps(insns: readonly CbpfInsn[]): void {
  insns.forEach((ins, pc) => {
    if (bpfClass(ins.code) !== BPF_JMP) return;
    if (ins.code === (BPF_JMP | BPF_JA)) { expect(pc + 1 + ins.k).toBeLessThan(insns.length); return; }
    expect(ins.jt).toBeLessThanOrEqual(255);
    expect(ins.jf).toBeLessThanOrEqual(255);
    expect(pc + 1 + Math.max(ins.jt, ins.jf)).toBeLessThan(insns.length);
  });
}

function agree(program: Program, insns: readonly CbpfInsn[], packets: { bytes: Uint8Array; wirelen: number }[]): number[] {
  const expected = interpret(program, packets);
  expect(interpret(reloaded(insns, program.linkType), packets)).toEqual(expected);
  if (withLibpcap) {
    expect([...bpfFilterRecords(toBpf(insns), toRecords(packets))]).toEqual(expected);
    expect(linuxSocketFilterCheck(toBpf(insns))).toBe(0);
  }
  return expected;
}

describe('classic BPF limits', () => {
  it('long port lists go through trampolines and still give the IR\'s verdicts', () => {
    for (const n of [60, 250, 700]) {
      const ports = Array.from({ length: n }, (_, i) => 1000 + 3 * i);
      const { program } = compilePcapFilter(ports.map((p) => `port ${p}`).join(' or '), { linkType: 1 });
      const r = compileCbpfTarget(program);
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.insns.length).toBeLessThanOrEqual(4096);
      checkJumps(r.insns);
      if (n >= 250) expect(r.stats.trampolines).toBeGreaterThan(0);
      const verdicts = agree(program, r.insns, portPackets(ports));
      expect(new Set(verdicts).size).toBe(2);   // the list's own ports match, the others do not
    }
  });

  it('refuses a program over the instruction limit, saying so', () => {
    const ports = Array.from({ length: 1500 }, (_, i) => 1 + 7 * i);
    const { program } = compilePcapFilter(ports.map((p) => `port ${p}`).join(' or '), { linkType: 1 });
    const r = compileCbpfTarget(program);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/needs \d+ classic BPF instructions, more than the 4096 allowed/);
    // A BSD kernel's 512 is a profile choice.
    const small = compileCbpfTarget(compilePcapFilter(ports.slice(0, 200).map((p) => `port ${p}`).join(' or '), { linkType: 1 }).program, { maxInstructions: 512 });
    expect(small.ok).toBe(false);
  });

  it('a far jump to code that is not a ret goes through a ja', () => {
    // if (load1[14] == 0x45) { L0 += load1[k] for 150 k } ; return L0 + 1
    const L0: Expr = { k: 'local', n: 0 };
    const adds: Stmt[] = Array.from({ length: 150 }, (_, k) => ({
      k: 'setlocal', n: 0, value: { k: 'bin', op: 'add', a: L0, b: { k: 'load', off: { k: 'const', v: 14 + (k % 40) }, size: 1 } },
    }));
    const program: Program = {
      body: { k: 'seq', body: [
        { k: 'if', cond: { k: 'bin', op: 'eq', a: { k: 'load', off: { k: 'const', v: 14 }, size: 1 }, b: { k: 'const', v: 0x45 } }, then: { k: 'seq', body: adds } },
        { k: 'return', value: { k: 'bin', op: 'add', a: L0, b: { k: 'const', v: 1 } } },
      ] },
      linkType: 1, registers: 0, memoryCells: 1, locals: 1, externs: [], fuel: 0,
    };
    const r = lowerToCbpf(program);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    checkJumps(r.insns);
    expect(r.stats.trampolines).toBeGreaterThan(0);
    expect(r.insns.some((i) => i.code === (BPF_JMP | BPF_JA) && i.k > 255)).toBe(true);
    const packets = portPackets([80]);
    const verdicts = agree(program, r.insns, [...packets, { bytes: ether(0x0800, [0x46, ...ipv4({ proto: 6, payload: tcp(1, 2) }).slice(1)]), wirelen: 80 }]);
    expect(new Set(verdicts).size).toBeGreaterThan(1);
  });
});
