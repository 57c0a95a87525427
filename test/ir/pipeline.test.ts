/**
 * The pass pipelines (lang/ir/pipeline.ts): the lists name known passes, running a list is the
 * composition of its passes, and with validation on a pass that breaks the IR is named.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEVICE_PIPELINE, FILTER_PIPELINE, PASSES, debugPasses, passesOf, runPipeline, type Pass } from '../../lang/ir/pipeline.js';
import { c, ret, type Program } from '../../lang/ir/ir.js';
import { validateProgram } from '../../lang/ir/validate.js';
import { arbProgram } from './arbitrary.js';

const program = (body: Program['body']): Program => ({ body, linkType: 1, registers: 1, memoryCells: 1, locals: 0, externs: [], fuel: 0 });

describe('pass pipelines', () => {
  it('list known passes, each with a name and a doc line, and no pass twice', () => {
    for (const list of [FILTER_PIPELINE, DEVICE_PIPELINE]) {
      expect(new Set(list).size).toBe(list.length);
      for (const pass of passesOf(list)) {
        expect(PASSES.get(pass.name)).toBe(pass);
        expect(pass.doc.length).toBeGreaterThan(10);
      }
    }
    expect(() => passesOf(['regroup', 'nope'])).toThrow(/unknown IR pass "nope".*regroup/);
  });

  it('validates after every pass under the tests', () => {
    expect(debugPasses()).toBe(true);
  });

  it('runs its passes in order and reports each stage', () => {
    fc.assert(fc.property(arbProgram(), (p) => {
      for (const list of [FILTER_PIPELINE, DEVICE_PIPELINE]) {
        const stages: string[] = [];
        let q = p;
        for (const pass of passesOf(list)) q = pass.run(q);
        const out = runPipeline(p, list, { validate: true, onStage: (name, r) => { stages.push(name); expect(validateProgram(r)).toEqual([]); } });
        expect(out).toEqual(q);
        expect(stages).toEqual(list);
      }
    }), { numRuns: 60 });
  });

  it('names the pass that produced an invalid program', () => {
    const breaks: Pass = { name: 'breaks', doc: 'reads a register the program does not have', run: (p) => ({ ...p, body: ret({ k: 'reg', n: 5 }) }) };
    const p = program(ret(c(1)));
    expect(() => runPipeline(p, ['regroup', breaks], { validate: true })).toThrow(/IR pass breaks produced an invalid program/);
    expect(() => runPipeline(p, ['regroup', breaks], { validate: false })).not.toThrow();
  });
});
