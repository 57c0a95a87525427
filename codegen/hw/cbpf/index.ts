/**
 * The classic BPF target: the IR passes that keep fault semantics and help a straight-line
 * machine (regrouped disjunctions: one guard test per constant; long `==` chains as sets, sets.ts),
 * then the emitter. `lowerToCbpf` alone takes the IR as it is.
 */
import type { Program } from '../../../lang/ir/ir.js';
import { regroupDisjunctions } from '../../../lang/ir/regroup.js';
import { prefixSets } from './sets.js';
import { lowerToCbpf, type CbpfLowering, type CbpfOptions } from './emit.js';

export function compileCbpfTarget(program: Program, opts: CbpfOptions = {}): CbpfLowering {
  return lowerToCbpf(prefixSets(regroupDisjunctions(program)), opts);
}

export { lowerToCbpf, type CbpfInsn, type CbpfLowering, type CbpfOptions } from './emit.js';
export { CBPF_FORMATS, formatCbpf, type CbpfFormat } from './format.js';
export { CBPF_PROFILE, type CbpfProfile } from './profile.js';
