/**
 * What the classic BPF target can take, as data (hardware.md §7, §8): the machine, its
 * limits, and which IR constructs lower to it. The splitter of a later stage reads this to
 * decide what stays in WebAssembly; emit.ts refuses exactly the constructs listed here as
 * not expressible.
 */
import { BPF_MAXINSNS, BPF_MEMWORDS } from '../../../lang/cbpf/opcodes.js';
import { FIELD_NAMES, type FieldName } from '../../../lang/ir/fields.js';
import type { Expr, MetaName, Stmt } from '../../../lang/ir/ir.js';

export interface CbpfProfile {
  target: 'cbpf';
  description: string;
  /** Linux BPF_MAXINSNS; BSD-derived kernels allow 512. */
  maxInstructions: number;
  /** Scratch cells M[0..n): IR locals and the emitter's temporaries share them. */
  scratchCells: number;
  /** Conditional jumps reach this far forward (8-bit jt/jf); longer ones go through trampolines. */
  jumpRange: number;
  ruleShape: 'PROGRAM';
  order: 'code';
  actions: readonly string[];
  /** What an accept returns: the IR's result, used by a socket filter as the bytes to keep. */
  result: string;
  /** Per-packet values it can read. */
  meta: readonly MetaName[];
  /** Named header fields it can read (all: fields lower to loads per link type). */
  fields: readonly FieldName[];
  /** IR node kinds (expressions and statements) it can never express, with why. */
  notExpressible: Readonly<Partial<Record<Expr['k'] | Stmt['k'], string>>>;
  /** Fault rules that agree with the IR's without a guard, and those that need one. */
  faults: readonly string[];
}

export const CBPF_PROFILE: CbpfProfile = {
  target: 'cbpf',
  description: 'classic BPF: Linux socket filter (SO_ATTACH_FILTER) and libpcap bpf_filter',
  maxInstructions: BPF_MAXINSNS,
  scratchCells: BPF_MEMWORDS,
  jumpRange: 255,
  ruleShape: 'PROGRAM',
  order: 'code',
  actions: ['keep N bytes (ret #N / ret a)', 'drop (ret #0)'],
  result: 'the IR program\'s result (libpcap expressions: the snaplen on accept, 0 on reject)',
  meta: ['wirelen'],
  fields: FIELD_NAMES,
  notExpressible: {
    reg: 'R[] registers are state that persists across packets',
    mem: 'M[] memory is state that persists across packets',
    state: 'host-function state persists across packets',
    setreg: 'R[] registers are state that persists across packets',
    setmem: 'M[] memory is state that persists across packets',
    setstate: 'host-function state persists across packets',
    extern: 'externs run host code',
    for: 'classic BPF jumps only forward: no loops',
    break: 'classic BPF jumps only forward: no loops',
    hash: 'FNV hashing over packet bytes is not lowered (a run-time length needs a loop)',
    search: 'string search needs a loop',
    searchall: 'string search needs a loop',
  },
  faults: [
    'load past the captured length: bpf_filter and the kernel return 0, as the IR',
    'division or modulo by a zero X: both return 0, as the IR; by a constant 0: emitted as ret #0',
    'shift by X >= 32: the kernel masks the count to 5 bits, so the emitter guards it (IR: 0)',
    'indexed load with X + k at or past 2^31: the kernel reads SKF_* ancillary data, so the emitter guards it (IR: a fault)',
  ],
};
