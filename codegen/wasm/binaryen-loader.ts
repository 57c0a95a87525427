/**
 * Loading binaryen: a plain import, or through a source the runtime sets (vm/binaryen-cache.ts,
 * used by the CLI's compile child), which keeps binaryen as a classic script with V8's code
 * cache in the user's cache directory.
 *
 * binaryen.js is one 15 MB ES module: importing it takes ~0.33 s, more than half of it V8
 * parsing and compiling the JavaScript, ~45 ms decoding its WebAssembly from a string, every
 * time a process compiles its first program. Node 20 keeps no code cache for ES modules, but a
 * classic script compiled through node:vm can take V8's cached data. This module knows
 * binaryen's shape: toScript turns the module's text into such a script (its three module-only
 * constructs replaced: the dynamic import of node:module, import.meta.url and the final
 * `export` of the awaited factory) and takes its WebAssembly out as bytes of their own;
 * instantiateScript runs them. Where they are kept is the source's business.
 *
 * Everything falls back to the plain import: a source that fails or has nothing. The script is
 * binaryen's own code, so either way it is the same compiler.
 */
import type binaryenNS from 'binaryen';

type Binaryen = typeof binaryenNS;

/**
 * How this process got binaryen: `cached` (the script with V8's code cache), `compiled` (the
 * script compiled anew, its code cache made for next time), `import` (the plain module).
 */
export let loadedFrom: 'cached' | 'compiled' | 'import' | undefined;

/** binaryen from elsewhere than its module, and how (`cached` or `compiled`); undefined: nothing there. */
export type BinaryenSource = () => Promise<{ binaryen: Binaryen; from: 'cached' | 'compiled' } | undefined>;

let source: BinaryenSource | undefined;

/** Where loadBinaryen tries first (vm/binaryen-cache.ts); call before binaryen is loaded. */
export function setBinaryenSource(s: BinaryenSource | undefined): void {
  source = s;
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
 * then instantiates the bytes (instantiateScript), so the literal is never read.
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

/**
 * Runs a script made by toScript: binaryen, and the script as compiled (for V8's code cache:
 * `cachedDataRejected`, `createCachedData`). The factory instantiates `wasm` through its
 * `instantiateWasm` option; if that fails, the option's callback never runs and the factory
 * would never settle, so the failure ends the wait instead.
 */
export async function instantiateScript(script: string, wasm: Uint8Array, cachedData: Buffer | undefined, filename: string):
  Promise<{ binaryen: Binaryen; compiled: import('node:vm').Script }> {
  const { Script } = await import('node:vm');
  const compiled = new Script(script, { filename, ...(cachedData ? { cachedData } : {}) });
  const factory = (compiled.runInThisContext() as (m: unknown) => (opts: object) => Promise<Binaryen>)(await import('node:module'));
  let failed!: (err: unknown) => void;
  const failure = new Promise<never>((_, reject) => { failed = reject; });
  const binaryen = await Promise.race([failure, factory({
    instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) {
      WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, imports).then((r) => done(r.instance), failed);
      return {};
    },
  })]);
  return { binaryen, compiled };
}

/** binaryen: from the source when one is set and it has it, else imported. */
export async function loadBinaryen(): Promise<Binaryen> {
  if (source) {
    try {
      const got = await source();
      if (got) {
        loadedFrom = got.from;
        return got.binaryen;
      }
    } catch { /* fall back to the import */ }
  }
  loadedFrom = 'import';
  return (await import('binaryen')).default;
}
