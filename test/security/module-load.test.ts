/**
 * Loading a module from outside (loadFilter): effects only when granted, metadata checked
 * field by field, the shape fplc emits, time limits and located traps. Each case is a
 * reproduction of a way a crafted module broke the loader.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { c, ret, seq, type Program } from '../../lang/ir/ir.js';
import { compileProgram } from '../../vm/compile.js';
import { loadFilter } from '../../vm/load.js';
import { ExternNotGrantedError, ExternUnavailableError, ModuleAbiError, ModuleFormatError, ModuleMetadataError, ModuleTimeoutError, ModuleTrapError } from '../../vm/module-errors.js';
import { openCapture } from '../../drivers/capture.js';
import { craftModule, metaOf, replaceMeta, RUN_LOOPS, RUN_PASSES, RUN_TRAPS } from '../support/module-bytes.js';

const tmp = mkdtempSync(join(tmpdir(), 'fplc-load-'));
const program: Program = { body: ret(1), linkType: 1, registers: 0, memoryCells: 4, locals: 0, externs: [], fuel: 1 };
const record = (wirelen: number) => { const r = new Uint8Array(16); new DataView(r.buffer).setUint32(12, wirelen, true); return r; };
const records = (...wirelens: number[]) => Uint8Array.from(wirelens.flatMap((w) => [...record(w)]));

/** A module calling the shipped RTSP extern once per packet, its extern renamed and configured by `extern`. */
async function withExtern(extern: { name: string; config: (string | number)[] }): Promise<Uint8Array> {
  const calls = await compileProgram({ ...program, body: seq({ k: 'eval', e: { k: 'extern', id: 0, args: [] } }, ret(1)), externs: [{ name: 'GetDynTCPDPortFromRTSP', config: [] }] });
  return replaceMeta(calls.wasm, { ...metaOf(calls.wasm), externs: [extern] });
}

async function refusal(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  throw new Error('expected a refusal');
}

describe('effects are granted, not taken', () => {
  it('refuses a module whose metadata names TO_FILE with a path, naming the extern and the path; writes nothing', async () => {
    const path = join(tmp, 'victim.pcap');
    const wasm = await withExtern({ name: 'mapi:TO_FILE', config: [1, 0, 0, path, 0] });
    const err = await refusal(loadFilter(wasm));
    expect(err).toBeInstanceOf(ExternNotGrantedError);
    expect(err.message).toContain('TO_FILE');
    expect(err.message).toContain(JSON.stringify(path));
    expect(existsSync(path)).toBe(false);
    // Granted: the packets are written, and only when the module runs.
    const f = await loadFilter(wasm, { allowExterns: ['TO_FILE'] });
    expect(existsSync(path)).toBe(false);
    expect([...f.runRecords(records(60, 61))]).toEqual([1, 1]);
    const src = openCapture(readFileSync(path));
    let n = 0;
    for (let b = src.nextBatch(new Uint8Array(4096), 0, 4096); b.records; b = src.nextBatch(new Uint8Array(4096), 0, 4096)) n += b.records;
    expect(n).toBe(2);
  });

  it('refuses RES2FILE and TO_BUFFER the same way, and the application\'s externs unless granted', async () => {
    for (const name of ['RES2FILE', 'TO_BUFFER']) {
      const err = await refusal(loadFilter(await withExtern({ name: `mapi:${name}`, config: [1, 0, 'x'] })));
      expect(err).toBeInstanceOf(ExternNotGrantedError);
      expect(err.message).toContain(name);
    }
    const sum = { name: 'sum', summary: 'test', call: () => 7 };
    const wasm = await withExtern({ name: 'sum', config: [2] });
    expect(await refusal(loadFilter(wasm))).toBeInstanceOf(ExternUnavailableError);
    expect(await refusal(loadFilter(wasm, { externs: [sum] }))).toBeInstanceOf(ExternNotGrantedError);
    const f = await loadFilter(wasm, { externs: [sum], allowExterns: ['sum'] });
    expect([...f.runRecords(records(1))]).toEqual([1]);
  });

  it('binds pure externs without a grant', async () => {
    const f = await loadFilter(await withExtern({ name: 'GetDynTCPDPortFromRTSP', config: [] }));
    expect([...f.runRecords(records(1))]).toEqual([1]);
  });
});

describe('metadata is checked field by field', () => {
  const cases: [string, (m: Record<string, unknown>) => unknown, RegExp][] = [
    ['stateOff: "x"', (m) => ({ ...m, stateOff: 'x' }), /stateOff: "x" is not an integer/],
    ['stateOff: -4', (m) => ({ ...m, stateOff: -4 }), /stateOff: -4 is outside/],
    ['externs[0].config not iterable', (m) => ({ ...m, externs: [{ name: 'x', config: 5 }] }), /externs\[0\]\.config: not an array/],
    ['externs not an array', (m) => ({ ...m, externs: {} }), /externs: not an array/],
    ['a config item that is an object', (m) => ({ ...m, externs: [{ name: 'x', config: [{}] }] }), /externs\[0\]\.config\[0\]/],
    ['pages beyond 4 GiB', (m) => ({ ...m, pages: 1e9 }), /pages: 1000000000 is outside/],
    ['batchBytes unaligned', (m) => ({ ...m, batchBytes: 262145 + 16 }), /batchBytes/],
    ['resultsOff over the batch', (m) => ({ ...m, resultsOff: 65536 }), /resultsOff/],
    ['an unknown field', (m) => ({ ...m, evil: 1 }), /evil: not a field/],
    ['tablesOff without tablesBytes', (m) => ({ ...m, tablesOff: 1 << 23 }), /tablesOff and tablesBytes come together/],
    ['not an object', () => [1, 2], /\(section\): not a JSON object/],
    ['another ABI', (m) => ({ ...m, abi: 9 }), /abi: .*ABI 9/],
  ];
  it.each(cases)('refuses %s, naming the field', async (_what, edit, message) => {
    const { wasm } = await compileProgram(program);
    const err = await refusal(loadFilter(replaceMeta(wasm, edit(metaOf(wasm)))));
    expect(err).toBeInstanceOf(ModuleMetadataError);
    expect(err.message).toMatch(message);
  });

  it('refuses a section that is not JSON or not UTF-8', async () => {
    const { wasm } = await compileProgram(program);
    expect(await refusal(loadFilter(replaceMeta(wasm, '{"abi":')))).toBeInstanceOf(ModuleMetadataError);
    const bad = replaceMeta(wasm, 'XX');
    const at = Buffer.from(bad).indexOf('XX');
    bad[at] = 0xff;
    expect((await refusal(loadFilter(bad))).message).toMatch(/not UTF-8 JSON/);
  });
});

describe('the shape fplc emits', () => {
  it('refuses a start function (it would run, and could loop, while the module loads)', async () => {
    const err = await refusal(loadFilter(craftModule(RUN_PASSES, { startLoops: true })));
    expect(err).toBeInstanceOf(ModuleFormatError);
    expect(err.message).toMatch(/start/);
  });

  it('refuses other exports, a memory of other limits, garbage and truncations with its own messages', async () => {
    expect((await refusal(loadFilter(craftModule(RUN_PASSES, { extraExport: 'other' })))).message).toMatch(/exports function "other"/);
    const pages = craftModule(RUN_PASSES);
    const wrongPages = replaceMeta(pages, { ...metaOf(pages), pages: (metaOf(pages).pages as number) + 1 });
    expect((await refusal(loadFilter(wrongPages))).message).toMatch(/initial = maximum/);
    for (const bytes of [Uint8Array.of(1, 2, 3), new TextEncoder().encode('#!/bin/sh\nrm -rf ~\n'), pages.slice(0, 30), pages.slice(0, pages.length - 3)]) {
      const err = await refusal(loadFilter(bytes));
      expect(err).toBeInstanceOf(ModuleFormatError);
      expect(err.message).not.toMatch(/^WebAssembly/);
    }
    expect(await loadFilter(pages)).toBeDefined();
  });

  it('refuses a run of another signature (an i64 parameter would take BigInts)', async () => {
    const bytes = craftModule(RUN_PASSES);
    expect([...bytes.subarray(8, 14)]).toEqual([1, 11, 2, 0x60, 3, 0x7f]);
    bytes[13] = 0x7e;
    const err = await refusal(loadFilter(bytes));
    expect(err).toBeInstanceOf(ModuleFormatError);
    expect(err.message).toMatch(/export run does not take 3 i32s/);
  });
});

describe('a loaded module cannot hang the caller', () => {
  it('stops a looping run with a typed error naming the entry point', async () => {
    const f = await loadFilter(craftModule(RUN_LOOPS), { timeLimitMs: 200 });
    const t = Date.now();
    let err: unknown;
    try { f.runRecords(records(1)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ModuleTimeoutError);
    expect((err as ModuleTimeoutError).entry).toBe('run');
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('says which packet trapped', async () => {
    // run traps when the last record of its range has wirelen 99.
    const body = [0x00, 0x20, 0x01, 0x41, 0x10, 0x6b, 0x28, 0x00, 0x0c, 0x41, 0xe3, 0x00, 0x46, 0x04, 0x40, 0x00, 0x0b, 0x41, 0x00, 0x0b];
    const f = await loadFilter(craftModule(body));
    let err: unknown;
    try { f.runRecords(records(1, 2, 99)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ModuleTrapError);
    expect((err as ModuleTrapError).packet).toBe(3);
    expect((err as Error).message).toMatch(/trapped in run on packet 3: unreachable/);
    expect(await refusal(Promise.resolve().then(async () => (await loadFilter(craftModule(RUN_TRAPS))).runRecords(records(5))))).toBeInstanceOf(ModuleTrapError);
  });

  it('refuses answers the ABI rules out instead of trusting them (counts, stop offsets)', async () => {
    // CTRL_BATCH_STOP (byte 12) = v; return n.
    const store = (v: number[], n: number[]) => [0x00, 0x41, 0x0c, 0x41, ...v, 0x36, 0x02, 0x00, 0x41, ...n, 0x0b];
    for (const body of [store([0x00], [0x01]), store([0x7f], [0xff, 0xff, 0x03]), [0x00, 0x41, 0x7f, 0x0b]]) {
      const f = await loadFilter(craftModule(body));
      let err: unknown;
      try { f.runRecords(records(1, 2)); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(ModuleAbiError);
      expect((err as Error).message).toMatch(/^the module's run broke the ABI: /);
    }
  });

  it('runs fplc\'s own modules loaded from bytes as before', async () => {
    const { wasm } = await compileProgram({ ...program, body: ret(c(7)) });
    expect([...(await loadFilter(wasm)).runRecords(records(1, 2))]).toEqual([7, 7]);
  });
});
