/**
 * The classic BPF target: the IR passes that keep fault semantics and help a straight-line
 * machine (regrouped disjunctions: one guard test per constant; long `==` chains as sets, sets.ts),
 * then the emitter. `lowerToCbpf` alone takes the IR as it is.
 */
import type { Program } from '../../../lang/ir/ir.js';
import { runPipeline, type Pass } from '../../../lang/ir/pipeline.js';
import { prefixSets } from './sets.js';
import { lowerToCbpf, type CbpfLowering, type CbpfOptions } from './emit.js';

const prefixSetsPass: Pass = {
  name: 'cbpf-sets',
  run: prefixSets,
  doc: 'long == chains over one value as sets, in the form a jump table of classic BPF takes (codegen/hw/cbpf/sets.ts)',
};

/** The classic BPF target's passes, in order (lang/ir/pipeline.ts runs them and validates under debug). */
export const CBPF_PIPELINE: readonly (string | Pass)[] = ['regroup', prefixSetsPass];

export function compileCbpfTarget(program: Program, opts: CbpfOptions = {}): CbpfLowering {
  return lowerToCbpf(runPipeline(program, CBPF_PIPELINE), opts);
}

export { lowerToCbpf, type CbpfInsn, type CbpfLowering, type CbpfOptions } from './emit.js';
export { CBPF_FORMATS, formatCbpf, type CbpfFormat } from './format.js';
export { CBPF_PROFILE, type CbpfProfile } from './profile.js';
