/** Shared helpers for the FPL tests: compile-and-run through the reference interpreter, packets. */
import { compileFpl, type ExternSignature } from '../../lang/fpl/index.js';
import { newState, runPacket, type InterpOptions, type InterpState } from '../../lang/ir/interp.js';
import type { Program } from '../../lang/ir/ir.js';

export function compile(source: string, opts: { linkType?: number; externs?: ExternSignature[]; memoryCells?: number } = {}): Program {
  return compileFpl(source, {
    file: 'test.fpl', linkType: opts.linkType ?? 1, ...(opts.externs ? { externs: opts.externs } : {}),
    ...(opts.memoryCells ? { memoryCells: opts.memoryCells } : {}),
  }).program;
}

/** Compiles and runs a program on packets in order with one state; returns the results and the state. */
export function run(source: string, packets: Uint8Array[], opts: InterpOptions & { linkType?: number; externs?: ExternSignature[] } = {}):
  { results: number[]; state: InterpState; program: Program } {
  const program = compile(source, opts);
  const state = newState(program);
  const results = packets.map((p) => runPacket(program, state, p, p.length, opts).result);
  return { results, state, program };
}

/** The result of one program on one packet. */
export const result1 = (source: string, packet: Uint8Array = new Uint8Array(64)): number => run(source, [packet]).results[0]!;

export interface TcpPacket { proto?: number; src?: number; dst?: number; sport?: number; dport?: number; flags?: number; payload?: number[] }

/** Ethernet + IPv4 (20-byte header) + a 20-byte TCP/UDP-shaped header + payload. */
export function ethIp4(p: TcpPacket = {}): Uint8Array {
  const payload = p.payload ?? [];
  const b = new Uint8Array(14 + 20 + 20 + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(12, 0x0800);
  b[14] = 0x45;
  dv.setUint16(16, 20 + 20 + payload.length);
  b[22] = 64;
  b[23] = p.proto ?? 6;
  dv.setUint32(26, p.src ?? 0x0a000001);
  dv.setUint32(30, p.dst ?? 0x0a000002);
  dv.setUint16(34, p.sport ?? 1234);
  dv.setUint16(36, p.dport ?? 80);
  b[46] = 0x50;
  b[47] = p.flags ?? 0x10;
  b.set(payload, 54);
  return b;
}

/** FNV-1a 32-bit, written here independently of the interpreter. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const x of bytes) h = Math.imul(h ^ x, 0x01000193) >>> 0;
  return h;
}
