import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toScript } from '../../codegen/wasm/binaryen-loader.js';

const dist = resolve(import.meta.dirname, '../../dist');
const EXPRS = ['tcp dst port 80', 'host 10.0.0.1 or host 10.0.0.2 or net 192.168.0.0/16', 'ip6 and udp', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn'];

/**
 * Compiles EXPRS in a fresh process (the built dist/), binaryen loaded through the code cache in
 * `dir` (or imported, without one): the modules' bytes and how binaryen was loaded.
 */
function compileIn(dir: string | undefined): { wasm: string[]; loadedFrom: string } {
  const script = `
    const loader = await import(${JSON.stringify(pathToFileURL(join(dist, 'codegen/wasm/binaryen-loader.js')).href)});
    const dir = process.env.FPLC_TEST_CODE_CACHE;
    if (dir) loader.setCodeCacheDir(dir);
    const { compileFilter } = await import(${JSON.stringify(pathToFileURL(join(dist, 'vm/compile.js')).href)});
    const wasm = [];
    for (const e of ${JSON.stringify(EXPRS)}) wasm.push(Buffer.from((await compileFilter(e, { language: 'pcap', linkType: 1 })).wasm).toString('base64'));
    process.stdout.write(JSON.stringify({ wasm, loadedFrom: loader.loadedFrom }));`;
  const env = { ...process.env, FPLC_TEST_CODE_CACHE: dir ?? '' };
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`compile process failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { wasm: string[]; loadedFrom: string };
}

describe('binaryen through V8\'s code cache', () => {
  it('compiles the same modules as the imported binaryen, making the cache once and using it after', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-binaryen-'));
    const plain = compileIn(undefined);
    expect(plain.loadedFrom).toBe('import');
    const first = compileIn(dir);
    expect(first.loadedFrom).toBe('compiled');
    expect(readdirSync(dir).sort()).toEqual([expect.stringMatching(/^binaryen-[0-9a-f]+\.code$/), expect.stringMatching(/^binaryen-[0-9a-f]+\.js$/)]);
    const again = compileIn(dir);
    expect(again.loadedFrom).toBe('cached');
    expect(first.wasm).toEqual(plain.wasm);
    expect(again.wasm).toEqual(plain.wasm);
  });

  it('falls back to the import over a damaged script, removes it, and makes a code cache V8 refused anew', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-binaryen-'));
    const plain = compileIn(undefined);
    compileIn(dir);
    const file = (ext: string) => join(dir, readdirSync(dir).find((f) => f.endsWith(ext))!);
    const code = file('.code');
    writeFileSync(code, 'not a code cache');
    const refused = compileIn(dir);
    expect(refused.loadedFrom).toBe('compiled');
    expect(refused.wasm).toEqual(plain.wasm);
    expect(readFileSync(code).length).toBeGreaterThan(1000);
    writeFileSync(file('.js'), '(function(){ this is not JavaScript');
    const damaged = compileIn(dir);
    expect(damaged.loadedFrom).toBe('import');
    expect(damaged.wasm).toEqual(plain.wasm);
    expect(readdirSync(dir)).toEqual([]);
    expect(compileIn(dir).loadedFrom).toBe('compiled');
  });

  it('turns binaryen\'s module text into a script, and refuses text of another shape', () => {
    const source = readFileSync(createRequire(import.meta.url).resolve('binaryen'), 'latin1');
    const script = toScript(source, 'file:///x/index.js');
    expect(script).toBeDefined();
    expect(script).not.toMatch(/import\.meta|import\(|export\{/);
    const tail = 'var jr=await S6(),$r=jr;export{$r as default};';
    expect(toScript('async function S6(){let{createRequire:r}=await import("node:module")}' + tail, 'file:///a')).toBe(
      '(function(__fplcNodeModule){async function S6(){let{createRequire:r}=__fplcNodeModule}\nreturn S6;})');
    for (const other of [
      'export default 1;',
      'async function S6(){}' + tail,                                                          // no import of node:module
      'async function S6(){await import("node:module");await import("node:module")}' + tail,  // two
      'async function S6(){await import("node:module");await import("node:fs")}' + tail,      // another import
      'async function S6(){await import("node:module");"é"}' + tail,                          // not ASCII
    ]) expect(toScript(other, 'file:///a')).toBeUndefined();
  });
});
