/**
 * Kernel and card targets the IR is lowered to (hardware.md): each an emitter and a profile
 * of what it can take. Imports lang/ only.
 */
import { CBPF_PROFILE } from './cbpf/profile.js';

export interface HwTarget {
  name: string;
  description: string;
  profiles: { name: string; summary: string }[];
}

export const HW_TARGETS: readonly HwTarget[] = [
  {
    name: 'cbpf',
    description: CBPF_PROFILE.description,
    profiles: [{
      name: 'linux',
      summary: `${CBPF_PROFILE.maxInstructions} instructions, A/X and ${CBPF_PROFILE.scratchCells} scratch cells, forward jumps ` +
        `(8-bit conditional offsets), result = bytes to keep (0 drops); stateless programs only`,
    }],
  },
];

export { compileCbpfTarget, lowerToCbpf, CBPF_FORMATS, CBPF_PROFILE, formatCbpf } from './cbpf/index.js';
export type { CbpfFormat, CbpfInsn, CbpfLowering, CbpfProfile } from './cbpf/index.js';
