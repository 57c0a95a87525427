/**
 * The IR pass pipelines: the one place that says which passes run, in what order, between a
 * front end (or the MAPI device's program builder) and the backend. Every pass keeps the IR's
 * fault semantics exactly; each pass's file says why (lang/ir/passes/).
 *
 * With debugging on (FPLC_DEBUG_PASSES=1, always under the tests: vitest.config.ts) the program
 * is validated after every pass, and an invalid result names the pass that produced it.
 */
import type { Program } from './ir.js';
import { validateProgram } from './validate.js';
import type { Pass } from './passes/pass.js';
import { regroupPass } from './passes/regroup.js';
import { setsPass } from './passes/sets.js';
import { searchmergePass } from './passes/searchmerge.js';
import { lengthguardPass } from './passes/lengthguard.js';
import { dispatchPass } from './passes/dispatch.js';
import { localsPass } from './passes/locals.js';

export type { Pass };

/** Every pass by name. */
export const PASSES: ReadonlyMap<string, Pass> = new Map(
  [regroupPass, setsPass, searchmergePass, lengthguardPass, dispatchPass, localsPass].map((p) => [p.name, p]));

/**
 * A filter (compileProgram: FPL, pcap-filter, classic BPF). dispatch and locals are left out:
 * they work on the MAPI device's per-flow blocks, which a filter does not have.
 */
export const FILTER_PIPELINE: readonly string[] = ['regroup', 'sets', 'searchmerge', 'lengthguard'];

/**
 * A MAPI device program (vm/mapi/device.ts), and its cooked tail. dispatch runs before
 * searchmerge so that flows differing by one constant are grouped while their searches are
 * still their own. lengthguard is left out: it rewrites only a program whose first statement
 * is `return C ? A : 0`, and a device program starts by recording the packet's timestamp, then
 * runs each flow in a block that catches its faults, so the pass could never apply.
 */
export const DEVICE_PIPELINE: readonly string[] = ['regroup', 'sets', 'dispatch', 'searchmerge', 'locals'];

export interface PipelineOptions {
  /** Validate after every pass (default: FPLC_DEBUG_PASSES=1 in the environment). */
  validate?: boolean;
  /** Called with the program after each pass (`fpl dump --ir --after`). */
  onStage?: (pass: string, program: Program) => void;
}

/** Whether the environment asks for validation after every pass. */
export function debugPasses(): boolean {
  return typeof process !== 'undefined' && process.env.FPLC_DEBUG_PASSES === '1';
}

/** The named passes, checked: an unknown name is an error that lists the known ones. */
export function passesOf(names: readonly (string | Pass)[]): Pass[] {
  return names.map((n) => {
    if (typeof n !== 'string') return n;
    const pass = PASSES.get(n);
    if (!pass) throw new RangeError(`unknown IR pass ${JSON.stringify(n)} (passes: ${[...PASSES.keys()].join(', ')})`);
    return pass;
  });
}

/** Runs the passes (by name, or a pass of the caller's own) in order over a valid program. */
export function runPipeline(program: Program, names: readonly (string | Pass)[], opts: PipelineOptions = {}): Program {
  const validate = opts.validate ?? debugPasses();
  let p = program;
  for (const pass of passesOf(names)) {
    p = pass.run(p);
    if (validate) {
      const problems = validateProgram(p);
      if (problems.length) throw new Error(`IR pass ${pass.name} produced an invalid program: ${problems.slice(0, 5).join('; ')}`);
    }
    opts.onStage?.(pass.name, p);
  }
  return p;
}
