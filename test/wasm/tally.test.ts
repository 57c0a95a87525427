/**
 * `tally` (abi/index.ts): a batch's verdicts counted in WebAssembly. Checked against counts made
 * here from the per-packet results runCapture returns, for programs whose codes are all one
 * value, mixed, or absent, and through runFile with and without a count limit (which falls
 * back to the per-result loop in the batch where the limit is reached).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bin, c, load, ret, type Program } from '../../lang/ir/ir.js';
import { compileProgram } from '../../vm/compile.js';
import { runCapture } from '../../vm/feed.js';
import { runFile } from '../../vm/run-file.js';
import { buildPcap } from '../drivers/build.js';

const tmp = mkdtempSync(join(tmpdir(), 'fplc-tally-'));
const BATCH = 262144 + 16 + 4096;   // small batches: a 2,000-packet file spans several

// Verdict: (byte 0 % modulus) * scale, so `modulus` 2 gives one non-zero code, more give several.
const program = (modulus: number, scale: number): Program => ({
  body: ret(bin('mul', bin('mod', load(0, 1), c(modulus)), c(scale))),
  linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 1,
});

function countCodes(results: ArrayLike<number>, limit = Infinity) {
  const codes = new Map<number, number>();
  let matched = 0, packets = 0;
  for (let i = 0; i < results.length; i++) {
    packets++;
    const r = results[i]!;
    if (r === 0) continue;
    matched++;
    codes.set(r, (codes.get(r) ?? 0) + 1);
    if (matched >= limit) break;
  }
  return { packets, matched, codes: [...codes].sort((a, b) => a[0] - b[0]) };
}

describe('tally', () => {
  it('counts a staged batch as a loop over its results does', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 0, maxLength: 300 }),
      fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 0x7fff }),
      async (firstBytes, modulus, scale) => {
        const f = await compileProgram(program(modulus, scale), { batchBytes: BATCH });
        const { bytes } = buildPcap({ linkType: 1, snaplen: 65535 }, firstBytes.map((b, i) => ({ sec: i, frac: 0, data: Uint8Array.of(b, 1, 2) })));
        f.stageRecords(bytes.subarray(24));
        const results = f.runStaged();
        const t = f.tallyResults(results.length)!;
        const want = countCodes(results);
        expect(t.matched).toBe(want.matched);
        if (want.codes.length === 1) expect(t.code).toBe(want.codes[0]![0]);
        else if (want.codes.length > 1) expect(t.code).toBeUndefined();
        else expect(t.code).toBe(0);
      }), { numRuns: 40 });
  });

  it('gives runFile the counts of the per-packet results, with and without a count limit', async () => {
    const packets = Array.from({ length: 2000 }, (_, i) => ({ sec: i, frac: 0, data: Uint8Array.from({ length: 60 + (i * 37) % 900 }, (_, j) => (i * 13 + j) & 0xff) }));
    const path = join(tmp, 'two-thousand.pcap');
    const { bytes } = buildPcap({ linkType: 1, snaplen: 65535 }, packets);
    writeFileSync(path, bytes);
    for (const [modulus, scale] of [[2, 7], [3, 1], [5, 1000], [1, 1]] as const) {
      const f = await compileProgram(program(modulus, scale), { batchBytes: BATCH });
      const all = runCapture(f, bytes);
      for (const count of [undefined, 1, 333, 1500, 5000]) {
        const want = countCodes(all, count);
        const got = runFile(f, path, count === undefined ? {} : { count });
        expect({ packets: got.packets, matched: got.matched, codes: [...got.codes].sort((a, b) => a[0] - b[0]) }, `${modulus}/${scale} -c ${count}`).toEqual(want);
      }
    }
  });
});
