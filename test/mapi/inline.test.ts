/**
 * The inlining transform (vm/mapi/inline.ts) against the reference interpreter: a program run
 * on its own and the same program inlined as a step of a flow, with its registers, locals,
 * labels and M[] moved, must agree on every packet — accept ⇔ the step passes, and the moved
 * registers and M[] cells hold what the originals hold.
 */
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Program } from '../../lang/ir/ir.js';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { validateProgram } from '../../lang/ir/validate.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { compileFpl } from '../../lang/fpl/index.js';
import { inlineProgram } from '../../vm/mapi/inline.js';
import { projectRoot } from '../support/env.js';
import { readRecords } from './helpers.js';

const packets = readRecords(resolve(projectRoot, 'samples/web.pcap')).records;

const REG_BASE = 17, LOCAL_BASE = 5, LABEL_BASE = 3, FLOW = 1, MEM_CELLS = 8192;

/** `block FLOW { step; return 1 }; return 0`, in a program with room around the moved names. */
function wrap(p: Program, memBase: number): Program {
  const r = inlineProgram(p, { regBase: REG_BASE, localBase: LOCAL_BASE, labelBase: LABEL_BASE, memBase, stateBase: 0, flowLabel: FLOW, externId: () => { throw new Error('no externs'); } });
  return {
    body: { k: 'seq', body: [{ k: 'block', label: FLOW, body: { k: 'seq', body: [r.step, { k: 'return', value: { k: 'const', v: 1 } }] } }, { k: 'return', value: { k: 'const', v: 0 } }] },
    linkType: p.linkType, registers: 256, memoryCells: MEM_CELLS, locals: LOCAL_BASE + r.locals, stateWords: 0, externs: [], fuel: p.fuel,
  };
}

function agree(p: Program, memBase = 0): void {
  const w = wrap(p, memBase);
  expect(validateProgram(w)).toEqual([]);
  const s1 = newState(p), s2 = newState(w);
  packets.forEach((rec, i) => {
    const a = runPacket(p, s1, rec.bytes, rec.wlen);
    const b = runPacket(w, s2, rec.bytes, rec.wlen);
    expect(b.result, `packet ${i}`).toBe(a.result !== 0 ? 1 : 0);
  });
  for (let n = 0; n < p.registers; n++) expect(s2.registers[REG_BASE + n]).toBe(s1.registers[n]);
  if (memBase || p.memoryCells > 1) expect(Array.from(s2.memory.subarray(memBase, memBase + p.memoryCells))).toEqual(Array.from(s1.memory));
}

describe('inlineProgram', () => {
  it('libpcap expressions (including loads that fault on short packets) keep their verdicts', () => {
    for (const expr of ['tcp port 80', 'ip[100] = 1 or tcp', 'tcp[13] & 18 = 18', 'ip6 or udp', 'ip proto \\tcp and not port 22', 'len > 60', 'tcp[tcpflags] & tcp-push != 0']) {
      agree(compilePcapFilter(expr, { linkType: 1 }).program);
    }
  });

  it('FPL programs keep their registers and M[] in the moved region', () => {
    agree(compileFpl(readFileSync(resolve(projectRoot, 'samples/flowcount.fpl'), 'utf8'), { linkType: 1 }).program, 4096);
    agree(compileFpl(readFileSync(resolve(projectRoot, 'samples/web.fpl'), 'utf8'), { linkType: 1 }).program, 1024);
  });

  it('random byte-comparison expressions', () => {
    const atom = fc.tuple(fc.constantFrom('ip', 'tcp', 'udp', 'ether'), fc.integer({ min: 0, max: 80 }), fc.constantFrom(1, 2, 4), fc.integer({ min: 0, max: 255 }), fc.constantFrom('=', '!=', '>', '<'))
      .map(([proto, off, size, v, op]) => `${proto}[${off}:${size}] ${op} ${v}`);
    const expr = fc.array(fc.tuple(atom, fc.constantFrom('and', 'or')), { minLength: 1, maxLength: 4 })
      .map((xs) => xs.map(([a, j], i) => (i ? `${j} ${a}` : a)).join(' '));
    fc.assert(fc.property(expr, (e) => { agree(compilePcapFilter(e, { linkType: 1 }).program); }), { numRuns: 60 });
  });
});
