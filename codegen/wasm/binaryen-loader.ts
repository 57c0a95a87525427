/**
 * Loading binaryen, optionally through a V8 code cache.
 *
 * binaryen.js is one 15 MB ES module (its WebAssembly inside as base64): importing it takes
 * ~0.33 s, more than half of it V8 parsing and compiling the JavaScript, every time a process
 * compiles its first program. Node 20 keeps no code cache for ES modules, but a classic script
 * compiled through node:vm can take V8's cached data. With a cache directory set
 * (setCodeCacheDir: the CLI's compile child does, vm/compile-process.ts), the module's text is
 * turned into such a script once — its three module-only constructs replaced: the dynamic
 * import of node:module, import.meta.url and the final `export` of the awaited factory — its
 * WebAssembly taken out as bytes of their own, and kept in the directory with V8's code cache
 * for the script; later loads take ~0.07 s.
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

/** Changes when what the cache files hold changes. */
const CACHE_FORMAT = 2;

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

/** binaryen split for the cache: its JavaScript as a script, and its WebAssembly's bytes. */
export interface BinaryenScript { script: string; wasm: Uint8Array }

/**
 * The end of a template literal that starts at `from` (a backtick), or -1 when it has a
 * substitution (`${`) or no end.
 */
function templateEnd(text: string, from: number): number {
  for (let i = from + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '`') return i;
    else if (c === '$' && text[i + 1] === '{') return -1;
  }
  return -1;
}

/**
 * binaryen's module text as a classic script whose value is a function of node:module that
 * returns binaryen's factory, and the WebAssembly the text carries, or undefined when the text
 * does not have the shape this expects. The WebAssembly is inside as one template literal of
 * latin1 characters (the factory decodes it on every load, ~45 ms); here it becomes bytes of its
 * own, and the script an empty literal in its place: the factory's `instantiateWasm` option
 * then instantiates the bytes (load()), so the literal is never read.
 */
export function toScript(source: string, fileUrl: string): BinaryenScript | undefined {
  const dynamicImport = 'await import("node:module")';
  // The end of the module: `var x=await factory(),y=x;export{y as default};`
  const tail = /var ([\w$]+)=await ([\w$]+)\(\),([\w$]+)=\1;export\{\3 as default\};\s*$/.exec(source);
  // ASCII only: the script is kept and read back as latin1, a byte per character.
  if (!tail || source.split(dynamicImport).length !== 2 || !source.includes('.instantiateWasm') || /[^\x00-\x7f]/.test(source)) return undefined;
  // The WebAssembly: the one literal that starts with its magic, \0asm.
  const magic = '`\\0asm';
  const start = source.indexOf(magic);
  if (start < 0 || source.indexOf(magic, start + 1) >= 0) return undefined;
  const end = templateEnd(source, start);
  if (end < 0 || end > tail.index) return undefined;
  // The literal's value, as JavaScript reads it (escapes and all); its characters are the bytes,
  // decoded as binaryen's own decoder does.
  const text = new Function(`return ${source.slice(start, end + 1)};`)() as string;
  const wasm = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) { const c = text.charCodeAt(i); wasm[i] = ~c >> 8 & c; }
  if (wasm[4] !== 1 || wasm[5] !== 0 || wasm[6] !== 0 || wasm[7] !== 0) return undefined;   // version 1 after the magic
  const body = (source.slice(0, start) + '``' + source.slice(end + 1, tail.index))
    .replace(dynamicImport, NODE_MODULE_PARAM)
    .split('import.meta.url').join(JSON.stringify(fileUrl));
  // Any other import would fail in a script (V8 refuses other module syntax when it compiles it).
  if (/\bimport\.meta\b|\bimport\s*\(/.test(body)) return undefined;
  return { script: `(function(${NODE_MODULE_PARAM}){${body}\nreturn ${tail[2]};})`, wasm };
}

/** Removes binaryen cache files other than `keep`'s (older binaryen or Node versions). */
function dropOthers(dir: string, keep: string): void {
  for (const name of readdirSync(dir)) {
    if (/^binaryen-[0-9a-f]+\.(js|wasm|code)$/.test(name) && !name.startsWith(keep)) rmSync(join(dir, name), { force: true });
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
  const key = `binaryen-${keyOf(JSON.stringify([CACHE_FORMAT, version, st.size, st.mtimeMs, file, process.version, process.arch]))}`;
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
  const { Script } = await import('node:vm');
  let compiled, binaryen;
  try {
    compiled = new Script(script, { filename: file, ...(cachedData ? { cachedData } : {}) });
    const factory = (compiled.runInThisContext() as (m: unknown) => (opts: object) => Promise<Binaryen>)(await import('node:module'));
    // The factory instantiates through this hook; if that fails, the hook's callback never
    // runs and the factory would never settle: the failure ends the wait instead.
    let failed!: (err: unknown) => void;
    const failure = new Promise<never>((_, reject) => { failed = reject; });
    const bytes = wasm;
    binaryen = await Promise.race([failure, factory({
      instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) {
        WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, imports).then((r) => done(r.instance), failed);
        return {};
      },
    })]);
  } catch (err) {
    // A damaged script or WebAssembly: remove them, or every later load would fail again.
    for (const f of [scriptFile, wasmFile, codeFile]) rmSync(f, { force: true });
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
