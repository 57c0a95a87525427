/**
 * binaryen kept in the user's cache directory as a classic script, its WebAssembly and V8's
 * code cache for the script (codegen/wasm/binaryen-loader.ts makes and runs them): a compile in
 * a fresh process loads binaryen in ~0.07 s instead of ~0.33 s. The CLI's compile child uses it
 * (vm/compile-process.ts); anything that fails here leaves binaryen to its plain import.
 *
 * Files: binaryen-<key>.js, .wasm and .code (~10 MB together), the key a hash of the cache
 * format, binaryen's version, file, size and mtime, Node's version and the architecture; made by
 * the first compile, replacing those of other keys. The script runs with the process's rights,
 * unlike the sandboxed modules beside it: the directory must be the user's own (the default,
 * ~/.cache/fplc, is).
 */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { instantiateScript, setBinaryenSource, toScript, type BinaryenSource } from '../codegen/wasm/binaryen-loader.js';
import { hash128, writeAtomic } from './cache.js';

/** Changes when what the cache files hold changes. */
const CACHE_FORMAT = 2;

/** Makes the code generator load binaryen through the files in `dir`; call before binaryen is loaded. */
export function useBinaryenCache(dir: string): void {
  setBinaryenSource(() => loadCached(dir));
}

/** Removes binaryen cache files other than `keep`'s (older binaryen or Node versions). */
function dropOthers(dir: string, keep: string): void {
  for (const name of readdirSync(dir)) {
    if (/^binaryen-[0-9a-f]+\.(js|wasm|code)$/.test(name) && !name.startsWith(keep)) rmSync(join(dir, name), { force: true });
  }
}

const loadCached = async (dir: string): ReturnType<BinaryenSource> => {
  const require = createRequire(import.meta.url);
  const file = require.resolve('binaryen');
  const st = statSync(file);
  const { version } = require('binaryen/package.json') as { version: string };
  const key = `binaryen-${hash128(JSON.stringify([CACHE_FORMAT, version, st.size, st.mtimeMs, file, process.version, process.arch]))}`;
  const scriptFile = join(dir, `${key}.js`), wasmFile = join(dir, `${key}.wasm`), codeFile = join(dir, `${key}.code`);
  let script: string | undefined, wasm: Uint8Array | undefined;
  try {
    script = readFileSync(scriptFile, 'latin1');
    wasm = readFileSync(wasmFile);
  } catch { script = undefined; }   // not made yet, or half: made again
  if (script === undefined || wasm === undefined) {
    const made = toScript(readFileSync(file, 'latin1'), pathToFileURL(file).href);
    if (made === undefined) return undefined;
    ({ script, wasm } = made);
    // A directory that cannot keep them: the plain import costs less than the script uncached.
    try {
      writeAtomic(wasmFile, wasm);
      writeAtomic(scriptFile, Buffer.from(script, 'latin1'));
    } catch { return undefined; }
    try { dropOthers(dir, key); } catch { /* leftovers stay */ }
  }
  let cachedData: Buffer | undefined;
  try { cachedData = readFileSync(codeFile); } catch { /* not made yet */ }
  let ran;
  try {
    ran = await instantiateScript(script, wasm, cachedData, file);
  } catch (err) {
    // A damaged script or WebAssembly: remove them, or every later load would fail again.
    for (const f of [scriptFile, wasmFile, codeFile]) rmSync(f, { force: true });
    throw err;
  }
  const from = cachedData && !ran.compiled.cachedDataRejected ? 'cached' : 'compiled';
  if (from === 'compiled') {
    // After the factory ran: the functions it compiled are in the cache too (making it after a
    // whole compile instead measured no faster).
    try { writeAtomic(codeFile, ran.compiled.createCachedData()); } catch { /* run without a cache */ }
  }
  return { binaryen: ran.binaryen, from };
};
