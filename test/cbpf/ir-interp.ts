/** The IR reference interpreter as the cBPF differential tests use it: the result of one packet. */
import type { Program } from '../../lang/ir/ir.js';
import { newState as interpState, runPacket as interpPacket, type InterpState } from '../../lang/ir/interp.js';

export const newState = (program: Program): InterpState => interpState(program);

/** The program's result for one packet (a u32). */
export function runPacket(program: Program, state: unknown, packet: Uint8Array, wirelen: number): number {
  return interpPacket(program, state as InterpState, packet, wirelen).result;
}
