/**
 * The IR reference interpreter the cBPF differential tests evaluate lowered programs with:
 * lang/ir/interp.ts (`runPacket(program, newState(program), bytes, wirelen)`). Until that file
 * exists in the tree, a minimal stand-in (dev-interp.ts) is used, with a warning.
 */
import { existsSync } from 'node:fs';
import type { Program } from '../../lang/ir/ir.js';
import * as standIn from './dev-interp.js';

interface Interp {
  newState(program: Program): unknown;
  runPacket(program: Program, state: unknown, packet: Uint8Array, wirelen: number): unknown;
}

const REAL = '../../lang/ir/interp.js';
let interp: Interp;
if (existsSync(new URL('../../lang/ir/interp.ts', import.meta.url))) {
  interp = (await import(/* @vite-ignore */ REAL)) as Interp;
} else {
  console.warn('lang/ir/interp.ts is not in the tree yet: the cBPF tests use the stand-in test/cbpf/dev-interp.ts');
  interp = standIn as unknown as Interp;
}

export const newState = (program: Program): unknown => interp.newState(program);

/** The program's result for one packet (a u32). */
export function runPacket(program: Program, state: unknown, packet: Uint8Array, wirelen: number): number {
  const r = interp.runPacket(program, state, packet, wirelen);
  return typeof r === 'number' ? r : (r as { result: number }).result;
}
