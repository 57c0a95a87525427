/**
 * fast-check generators of classic BPF programs: `validProgram` makes programs Linux's checker
 * accepts, over every opcode, with boundary constants; `anyProgram` makes programs near the
 * edge of validity (bad opcodes, jumps one past the end, scratch index 16, division by 0 …).
 */
import fc from 'fast-check';
import type { BpfInsn } from '../../drivers/libpcap.js';
import {
  ALLOWED_CODES, BPF_ALU, BPF_DIV, BPF_JA, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LSH, BPF_MEM, BPF_MOD, BPF_RSH,
  BPF_ST, BPF_STX, BPF_RET, BPF_A, bpfClass, bpfMode, isCondJump,
} from '../../lang/cbpf/opcodes.js';

export const BOUNDARY = [0, 1, 2, 3, 4, 13, 14, 31, 32, 33, 64, 255, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
/** Packet offsets around the sizes of the random packets (and some that can never be in range). */
const OFFSETS = [0, 1, 2, 3, 12, 13, 14, 15, 20, 23, 30, 38, 39, 40, 41, 60, 62, 63, 64, 0x7fffffff, 0xffdfffff];

const u32 = fc.oneof(fc.constantFrom(...BOUNDARY), fc.nat({ max: 300 }), fc.integer({ min: 0, max: 0xffffffff }));
const offset = fc.oneof(fc.constantFrom(...OFFSETS), fc.nat({ max: 70 }));
/** Indexed-load offsets also include values whose sum with a small X wraps past 2^32. */
const indexOffset = fc.oneof(offset, fc.constantFrom(0xffffffff, 0xfffffffe, 0xfffffff0, 0x80000000));
const CODES = [...ALLOWED_CODES].filter((c) => bpfClass(c) !== BPF_RET);

/** One instruction that is valid at index `pc` of an `n`-instruction program, loads reading only cells in `stored`. */
function validInsn(pc: number, n: number, stored: number[]): fc.Arbitrary<BpfInsn> {
  const room = n - pc - 2;   // the largest jump offset that stays before the final ret
  return fc.constantFrom(...CODES).chain((code): fc.Arbitrary<BpfInsn> => {
    const jump = fc.nat({ max: Math.min(255, room) });
    if (code === (BPF_JMP | BPF_JA)) return fc.nat({ max: room }).map((k) => [code, 0, 0, k]);
    if (isCondJump(code)) return fc.tuple(jump, jump, u32).map(([jt, jf, k]) => [code, jt, jf, k]);
    if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      return stored.length ? fc.constantFrom(...stored).map((k) => [code, 0, 0, k]) : fc.constant([BPF_LD, 0, 0, 7]);
    }
    if (code === BPF_ST || code === BPF_STX) return fc.nat({ max: 15 }).map((k) => [code, 0, 0, k]);
    if (code === (BPF_ALU | BPF_DIV | BPF_K) || code === (BPF_ALU | BPF_MOD | BPF_K)) {
      return u32.filter((k) => k !== 0).map((k) => [code, 0, 0, k]);
    }
    if (code === (BPF_ALU | BPF_LSH | BPF_K) || code === (BPF_ALU | BPF_RSH | BPF_K)) return fc.nat({ max: 31 }).map((k) => [code, 0, 0, k]);
    if (bpfClass(code) === BPF_LD || bpfClass(code) === BPF_LDX) {
      const mode = bpfMode(code);
      if (mode === 0x40) return indexOffset.map((k) => [code, 0, 0, k]);
      if (mode === 0x20 || mode === 0xa0) return offset.map((k) => [code, 0, 0, k]);
    }
    return u32.map((k) => [code, 0, 0, k]);
  });
}

/**
 * A program Linux accepts: an optional prologue storing some scratch cells (the only ones the
 * body may load, which satisfies the load-after-store rule on every path), a body over all
 * opcodes, and a final `ret #k` or `ret a`.
 */
export const validProgram = (maxBody = 40): fc.Arbitrary<BpfInsn[]> =>
  fc.tuple(fc.uniqueArray(fc.nat({ max: 15 }), { maxLength: 4 }), fc.nat({ max: maxBody }), u32)
    .chain(([stored, bodyLen, seed]) => {
      const prologue: BpfInsn[] = stored.flatMap((k, i) => [[BPF_LD, 0, 0, (seed + i * 0x9e3779b9) >>> 0], [BPF_ST, 0, 0, k]] as BpfInsn[]);
      const n = prologue.length + bodyLen + 1;
      const body = Array.from({ length: bodyLen }, (_, i) => validInsn(prologue.length + i, n, stored));
      const last = fc.oneof(u32.map((k): BpfInsn => [BPF_RET | BPF_K, 0, 0, k]), fc.constant<BpfInsn>([BPF_RET | BPF_A, 0, 0, 0]));
      return fc.tuple(fc.tuple(...body), last).map(([b, l]) => [...prologue, ...b, l]);
    });

const EDGE_K = [0, 1, 15, 16, 17, 31, 32, 0xfffff000, 0xfffff004, 0xfffff0ff, 0xffe00000, 0xfff00010, 0xffdfffff, 0xfffffffe, 0xffffffff];

/**
 * Programs around the edges of what the checker accepts: valid programs with (usually) one
 * field changed to an edge value — any opcode, a jump one past the end, scratch index 16,
 * k = 0 or 32, Linux-only offsets — or truncated so the last instruction is not a ret.
 */
export const anyProgram: fc.Arbitrary<BpfInsn[]> = validProgram(12).chain((insns) => {
  const n = insns.length;
  const mutation = fc.tuple(fc.nat({ max: n - 1 }), fc.nat({ max: 4 }),
    fc.oneof(fc.constantFrom(...ALLOWED_CODES), fc.integer({ min: 0, max: 0xffff })),
    fc.oneof(fc.constantFrom(...EDGE_K), fc.nat({ max: n + 1 })));
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(insns) },
    { weight: 6, arbitrary: mutation.map(([i, field, code, v]) => {
      const out = insns.map((x) => [...x] as BpfInsn);
      if (field === 4) return out.slice(0, i);   // drop the tail (and the ret)
      out[i][field] = field === 0 ? code : field === 3 ? v : v & 0xff;
      return out;
    }) },
  );
});

/** Random packets: caplen up to 70 bytes, wire length at least caplen. */
export const packet = fc.tuple(fc.uint8Array({ maxLength: 70 }), fc.nat({ max: 3000 }))
  .map(([bytes, extra]) => ({ bytes, wirelen: bytes.length + (extra > 2000 ? 0 : extra), name: 'random packet' }));
