/** A named IR pass: what lang/ir/pipeline.ts runs, prints (`fpl dump --ir --after NAME`) and validates. */
import type { Program } from '../ir.js';

export interface Pass {
  /** The name the pipeline lists and `fpl dump --after` takes. */
  readonly name: string;
  /** Program → program; exact, faults included (each pass's file says why). */
  readonly run: (p: Program) => Program;
  /** One line: what the pass does. */
  readonly doc: string;
}
