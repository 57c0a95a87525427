/**
 * loadFilter on hostile bytes: random data, truncated and bit-flipped modules, and modules
 * with forged metadata must be refused with an Error (never a crash, hang or huge allocation).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ret, type Program } from '../../lang/ir/ir.js';
import { compileProgram, loadFilter } from '../../vm/compile.js';

const program: Program = { body: ret(1), linkType: 1, registers: 0, memoryCells: 4, locals: 0, externs: [], fuel: 1 };

async function outcome(bytes: Uint8Array): Promise<'loaded' | 'refused'> {
  try {
    const f = await loadFilter(bytes);
    f.runRecords(new Uint8Array(16));   // a loaded module must also run
    return 'loaded';
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return 'refused';
  }
}

/** A module whose custom section is edited (to JSON no longer than the original, padded with spaces). */
function withMeta(wasm: Uint8Array, edit: (meta: Record<string, unknown>) => unknown): Uint8Array {
  const text = new TextDecoder().decode(wasm);
  const section = new TextDecoder().decode(WebAssembly.Module.customSections(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), 'fplc')[0]!);
  const at = text.indexOf(section);
  const end = at + section.length;
  const json = JSON.parse(text.slice(at, end)) as Record<string, unknown>;
  const text2 = JSON.stringify(edit(json));
  expect(text2.length).toBeLessThanOrEqual(end - at);
  const forged = new TextEncoder().encode(text2.padEnd(end - at));
  const out = wasm.slice();
  out.set(forged, at);
  return out;
}

describe('loading untrusted .wasm bytes', () => {
  it('refuses random bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (b) => {
      expect(await outcome(b)).toBe('refused');
    }), { numRuns: 200 });
  });

  it('never crashes on truncated or bit-flipped modules', async () => {
    const { wasm } = await compileProgram(program);
    await fc.assert(fc.asyncProperty(fc.nat(wasm.length - 1), fc.nat(255), fc.boolean(), async (at, v, cut) => {
      const bytes = cut ? wasm.slice(0, at) : wasm.slice();
      if (!cut) bytes[at] ^= v | 1;
      await outcome(bytes);
    }), { numRuns: 150 });
  });

  it('refuses forged metadata: other ABI, impossible layout, missing externs', async () => {
    const { wasm } = await compileProgram(program);
    expect(await outcome(wasm)).toBe('loaded');
    await expect(loadFilter(withMeta(wasm, (m) => ({ ...m, abi: 9 })))).rejects.toThrow(/ABI/);
    await expect(loadFilter(withMeta(wasm, (m) => ({ ...m, batchBytes: 9999999 })))).rejects.toThrow(/batchBytes/);
    await expect(loadFilter(withMeta(wasm, (m) => ({ ...m, pages: 9 })))).rejects.toThrow();
    await expect(loadFilter(withMeta(wasm, (m) => ({ ...m, memoryCells: 3 })))).rejects.toThrow(/memoryCells/);
    const calls = await compileProgram({ ...program, body: ret({ k: 'extern', id: 0, args: [] }), externs: [{ name: 'GetDynTCPDPortFromRTSP', config: [] }] });
    await expect(loadFilter(withMeta(calls.wasm, (m) => ({ ...m, externs: [{ name: 'nope', config: [] }] })))).rejects.toThrow(/nope/);
  });
});
