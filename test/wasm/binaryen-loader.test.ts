import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
    if (dir) (await import(${JSON.stringify(pathToFileURL(join(dist, 'vm/binaryen-cache.js')).href)})).useBinaryenCache(dir);
    const { compileFilter } = await import(${JSON.stringify(pathToFileURL(join(dist, 'vm/compile.js')).href)});
    const wasm = [];
    for (const e of ${JSON.stringify(EXPRS)}) wasm.push(Buffer.from((await compileFilter(e, { language: 'pcap', linkType: 1 })).wasm).toString('base64'));
    process.stdout.write(JSON.stringify({ wasm, loadedFrom: loader.loadedFrom }));`;
  const env = { ...process.env, FPLC_TEST_CODE_CACHE: dir ?? '' };
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`compile process failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { wasm: string[]; loadedFrom: string };
}

describe('binaryen as a script kept in the cache directory', () => {
  const file = (dir: string, ext: string) => join(dir, readdirSync(dir).find((f) => f.endsWith(ext))!);

  it('compiles the same modules as the imported binaryen, making the script once and reading it back after', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-binaryen-'));
    const plain = compileIn(undefined);
    expect(plain.loadedFrom).toBe('import');
    const first = compileIn(dir);
    expect(first.loadedFrom).toBe('compiled');
    // The script and its WebAssembly; no V8 code cache (code no shipped digest can cover).
    expect(readdirSync(dir).sort()).toEqual(['js', 'wasm'].map((ext) => expect.stringMatching(new RegExp(`^binaryen-[0-9a-f]+\\.${ext}$`))));
    const made = statSync(file(dir, '.js')).mtimeMs;
    const again = compileIn(dir);
    expect(again.loadedFrom).toBe('compiled');
    expect(statSync(file(dir, '.js')).mtimeMs).toBe(made);   // read back, not made again
    expect(first.wasm).toEqual(plain.wasm);
    expect(again.wasm).toEqual(plain.wasm);
  });

  it('runs nothing planted in the script or its WebAssembly: a digest mismatch is refused and the files are made again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-binaryen-'));
    const plain = compileIn(undefined);
    compileIn(dir);
    const marker = join(dir, 'planted-code-ran');
    const js = file(dir, '.js');
    const genuine = readFileSync(js, 'latin1');
    // Code prepended inside the function the script evaluates to: it would run at the next compile.
    writeFileSync(js, genuine.replace('(function(__fplcNodeModule){', `(function(__fplcNodeModule){process.getBuiltinModule('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');`), 'latin1');
    const r = compileIn(dir);
    expect(r.wasm).toEqual(plain.wasm);
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(js, 'latin1')).toBe(genuine);
    writeFileSync(file(dir, '.wasm'), Buffer.from('\0asm\x01\0\0\0\xff\xff', 'latin1'));
    const badWasm = compileIn(dir);
    expect(badWasm.loadedFrom).toBe('compiled');
    expect(badWasm.wasm).toEqual(plain.wasm);
    expect(readFileSync(file(dir, '.wasm')).length).toBeGreaterThan(1_000_000);
  });

  it('turns binaryen\'s module text into a script and its WebAssembly, and refuses text of another shape', () => {
    const source = readFileSync(createRequire(import.meta.url).resolve('binaryen'), 'latin1');
    const made = toScript(source, 'file:///x/index.js');
    expect(made).toBeDefined();
    expect(made!.script).not.toMatch(/import\.meta|import\(|export\{|\\0asm/);
    expect(made!.script.length).toBeLessThan(source.length / 10);
    expect(WebAssembly.validate(made!.wasm as Uint8Array<ArrayBuffer>)).toBe(true);
    const tail = 'var jr=await S6(),$r=jr;export{$r as default};';
    const fn = (body: string) => `async function S6(A={}){let{createRequire:r}=await import("node:module");var t=A.instantiateWasm;${body}}` + tail;
    expect(toScript(fn('return x6(`\\0asm\\x01\\0\\0\\0\\`\\xff`)'), 'file:///a')).toEqual({
      script: '(function(__fplcNodeModule){async function S6(A={}){let{createRequire:r}=__fplcNodeModule;var t=A.instantiateWasm;return x6(``)}\nreturn S6;})',
      wasm: Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x60, 0xff),
    });
    for (const other of [
      'export default 1;',
      fn('return 1'),                                                         // no WebAssembly
      fn('return [x6(`\\0asm\\x01\\0\\0\\0`), x6(`\\0asm\\x01\\0\\0\\0`)]'),  // two
      fn('return x6(`\\0asm\\x02\\0\\0\\0`)'),                                // another version
      fn('return x6(`\\0asm\\x01\\0\\0\\0${1}`)'),                            // a substitution
      fn('return x6(`\\0asm\\x01\\0\\0\\0`);await import("node:module")'),    // two imports of node:module
      fn('return x6(`\\0asm\\x01\\0\\0\\0`);await import("node:fs")'),        // another import
      fn('return x6(`\\0asm\\x01\\0\\0\\0`);"é"'),                           // not ASCII
      fn('return x6(`\\0asm\\x01\\0\\0\\0`)').replace('A.instantiateWasm', 'A.other'),   // no instantiateWasm option
    ]) expect(toScript(other, 'file:///a')).toBeUndefined();
  });
});
