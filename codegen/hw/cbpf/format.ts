/**
 * Printing an emitted classic BPF program: `tcpdump -ddd`'s form (what libpcap, the kernel's
 * tools and `fpl --cbpf` load), a JSON array of [code, jt, jf, k], and a readable listing in
 * `tcpdump -d`'s layout with each block's source atom as a comment.
 */
import { formatDdd } from '../../../lang/cbpf/index.js';
import { BPF_JA, BPF_JMP, bpfClass, mnemonic } from '../../../lang/cbpf/opcodes.js';
import type { CbpfInsn } from './asm.js';

export type CbpfFormat = 'ddd' | 'json' | 'text';
export const CBPF_FORMATS: readonly CbpfFormat[] = ['ddd', 'json', 'text'];

export function formatCbpf(insns: readonly CbpfInsn[], format: CbpfFormat, notes: readonly (string | undefined)[] = []): string {
  switch (format) {
    case 'ddd': return formatDdd(insns);
    case 'json': return `[${insns.map((i) => `[${i.code},${i.jt},${i.jf},${i.k >>> 0}]`).join(',')}]\n`;
    case 'text': return listing(insns, notes);
  }
}

/** `(003) jeq      #0x6             jt 4	jf 19` lines, as tcpdump -d prints them, plus `; atom` comments. */
function listing(insns: readonly CbpfInsn[], notes: readonly (string | undefined)[]): string {
  const width = Math.max(3, String(insns.length - 1).length);
  const lines: string[] = [];
  insns.forEach((ins, pc) => {
    const note = notes[pc];
    if (note !== undefined) lines.push(`; ${note}`);
    const [name, ...rest] = mnemonic(ins.code, ins.k).split(' ');
    let operand = rest.join(' ');
    if (ins.code === (BPF_JMP | BPF_JA)) operand = String(pc + 1 + ins.k);
    let text = `(${String(pc).padStart(width, '0')}) ${name!.padEnd(8)} ${operand}`;
    if (bpfClass(ins.code) === BPF_JMP && ins.code !== (BPF_JMP | BPF_JA)) {
      text = `${text.padEnd(width + 28)} jt ${pc + 1 + ins.jt}\tjf ${pc + 1 + ins.jf}`;
    }
    lines.push(text.trimEnd());
  });
  return lines.join('\n') + '\n';
}
