/**
 * Loading binaryen, optionally through a V8 code cache.
 *
 * binaryen.js is one 15 MB ES module (its WebAssembly inside as base64): importing it takes
 * ~0.33 s, more than half of it V8 parsing and compiling the JavaScript, every time a process
 * compiles its first program. Node 20 keeps no code cache for ES modules, but a classic script
 * compiled through node:vm can take V8's cached data. With a cache directory set
 * (setCodeCacheDir: the CLI's compile child does, vm/compile-process.ts), the module's text is
 * turned into such a script once — its three module-only constructs replaced: the dynamic
 * import of node:module, import.meta.url and the final `export` of the awaited factory — and
 * kept in the directory with V8's code cache for it; later loads take ~0.1 s.
 *
 * Everything here falls back to a plain `import('binaryen')`: a binaryen whose text does not
 * have the expected shape (another release, say), a script V8 refuses, a cache that cannot be read
 * or written. The cached script is binaryen's own code, so either way it is the same compiler.
 * It runs with the process's rights, unlike the sandboxed modules beside it: the directory must
 * be the user's own (the default, ~/.cache/fplc, is).
 */
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type binaryenNS from 'binaryen';

type Binaryen = typeof binaryenNS;

let codeCacheDir: string | undefined;

/**
 * How this process got binaryen: `cached` (the script with V8's code cache), `compiled` (the
 * script compiled anew, its code cache written for next time), `import` (the plain module).
 */
export let loadedFrom: 'cached' | 'compiled' | 'import' | undefined;

/** Where load() keeps binaryen as a script and V8's code cache for it; undefined: a plain import. Call before binaryen is loaded. */
export function setCodeCacheDir(dir: string | undefined): void {
  codeCacheDir = dir;
}

/** The parameter through which the script gets node:module (the text's `await import("node:module")`). */
const NODE_MODULE_PARAM = '__fplcNodeModule';

/**
 * binaryen's module text as a classic script whose value is a function of node:module that
 * returns binaryen's factory, or undefined when the text does not have the shape this expects.
 */
export function toScript(source: string, fileUrl: string): string | undefined {
  const dynamicImport = 'await import("node:module")';
  // The end of the module: `var x=await factory(),y=x;export{y as default};`
  const tail = /var ([\w$]+)=await ([\w$]+)\(\),([\w$]+)=\1;export\{\3 as default\};\s*$/.exec(source);
  // ASCII only: the script is kept and read back as latin1, a byte per character.
  if (!tail || source.split(dynamicImport).length !== 2 || /[^\x00-\x7f]/.test(source)) return undefined;
  const body = source.slice(0, tail.index)
    .replace(dynamicImport, NODE_MODULE_PARAM)
    .split('import.meta.url').join(JSON.stringify(fileUrl));
  // Any other import would fail in a script (V8 refuses other module syntax when it compiles it).
  if (/\bimport\.meta\b|\bimport\s*\(/.test(body)) return undefined;
  return `(function(${NODE_MODULE_PARAM}){${body}\nreturn ${tail[2]};})`;
}

/** Removes a binaryen cache pair other than `keep` (older binaryen or Node versions). */
function dropOthers(dir: string, keep: string): void {
  for (const name of readdirSync(dir)) {
    if (/^binaryen-[0-9a-f]+\.(js|code)$/.test(name) && !name.startsWith(keep)) rmSync(join(dir, name), { force: true });
  }
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** A small hash of a short string (a file name key; V8 checks the cached data itself). */
function keyOf(s: string): string {
  let h1 = 0x811c9dc5, h2 = 0x9e3779b9;
  for (let i = 0; i < s.length; i++) {
    h1 = Math.imul(h1 ^ s.charCodeAt(i), 0x01000193);
    h2 = Math.imul(h2 ^ s.charCodeAt(i), 0x5bd1e995);
  }
  return ((h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0'));
}

async function loadCached(dir: string): Promise<Binaryen | undefined> {
  const require = createRequire(import.meta.url);
  const file = require.resolve('binaryen');
  const st = statSync(file);
  const { version } = require('binaryen/package.json') as { version: string };
  const key = `binaryen-${keyOf(JSON.stringify([version, st.size, st.mtimeMs, file, process.version, process.arch]))}`;
  const scriptFile = join(dir, `${key}.js`), codeFile = join(dir, `${key}.code`);
  let script: string | undefined;
  try { script = readFileSync(scriptFile, 'latin1'); } catch { /* not made yet */ }
  if (script === undefined) {
    script = toScript(readFileSync(file, 'latin1'), pathToFileURL(file).href);
    if (script === undefined) return undefined;
    // A directory that cannot keep it: the plain import costs less than the script uncached.
    try { writeAtomic(scriptFile, Buffer.from(script, 'latin1')); } catch { return undefined; }
    try { dropOthers(dir, key); } catch { /* leftovers stay */ }
  }
  let cachedData: Buffer | undefined;
  try { cachedData = readFileSync(codeFile); } catch { /* not made yet */ }
  const { Script } = await import('node:vm');
  let compiled, binaryen;
  try {
    compiled = new Script(script, { filename: file, ...(cachedData ? { cachedData } : {}) });
    const factory = (compiled.runInThisContext() as (m: unknown) => () => Promise<Binaryen>)(await import('node:module'));
    binaryen = await factory();
  } catch (err) {
    // A damaged script: remove it, or every later load would read it and fail again.
    rmSync(scriptFile, { force: true });
    rmSync(codeFile, { force: true });
    throw err;
  }
  loadedFrom = cachedData && !compiled.cachedDataRejected ? 'cached' : 'compiled';
  if (loadedFrom === 'compiled') {
    // After the factory ran: the functions it compiled are in the cache too (making it after a
    // whole compile instead measured no faster).
    try { writeAtomic(codeFile, compiled.createCachedData()); } catch { /* run without a cache */ }
  }
  return binaryen;
}

/** binaryen: through the code cache when a directory is set and that works, else imported. */
export async function loadBinaryen(): Promise<Binaryen> {
  if (codeCacheDir !== undefined) {
    try {
      const b = await loadCached(codeCacheDir);
      if (b) return b;
    } catch { /* fall back to the import */ }
  }
  loadedFrom = 'import';
  return (await import('binaryen')).default;
}
