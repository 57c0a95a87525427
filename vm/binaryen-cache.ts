/**
 * binaryen kept in the user's cache directory as a classic script and its WebAssembly
 * (codegen/wasm/binaryen-loader.ts makes and runs them): a compile in a fresh process skips
 * decoding binaryen's WebAssembly from a string and the module loader. The CLI's compile child
 * uses it (vm/compile-process.ts); anything that fails here leaves binaryen to its plain import.
 *
 * The script runs with the process's rights, so what is read back must be what toScript made
 * from the installed binaryen: `npm run build` computes the SHA-256 of both files
 * (binaryen-digest.json in dist/, beside the code it protects, where a planter in the cache
 * directory cannot reach) and every load compares them before running anything; a mismatch is
 * refused with a warning, the files are made again and checked again. Without a digest (an
 * unbuilt tree) or for another binaryen than the one built against, nothing is cached.
 *
 * V8's code cache of the script is not kept: it is code (bytecode V8 runs without checking it
 * against the source) that no shipped digest can cover, so it could only be trusted as far as
 * the directory is; README "Security" has the start-up this costs.
 *
 * Files: binaryen-<key>.js and .wasm (~10 MB together), the key a hash of the cache format,
 * binaryen's version and file, Node's version and the architecture; made by the first compile,
 * replacing those of other keys. The directory must pass vm/cache.ts's ownership checks.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { instantiateScript, setBinaryenSource, toScript, type BinaryenSource } from '../codegen/wasm/binaryen-loader.js';
import { hash128, readOwnedFile, writeAtomic } from './cache.js';

/** Changes when what the cache files hold changes. */
const CACHE_FORMAT = 3;

/** What the build recorded: binaryen's version and the SHA-256 of the script (its URL normalized) and of the WebAssembly. */
export interface BinaryenDigest { binaryen: string; script: string; wasm: string }

const DIGEST_FILE = () => fileURLToPath(new URL('../binaryen-digest.json', import.meta.url));

/** Makes the code generator load binaryen through the files in `dir` (already checked to be ours); call before binaryen is loaded. */
export function useBinaryenCache(dir: string | undefined): void {
  if (dir) setBinaryenSource(() => loadCached(dir));
}

/**
 * The digests of a script and WebAssembly. The script holds binaryen's file URL (where it was
 * installed); it is replaced by a character toScript never emits (non-ASCII), so the digest
 * does not depend on the install path and nothing else can stand in for the URL.
 */
export function scriptDigest(script: string, wasm: Uint8Array, fileUrl: string): { script: string; wasm: string } {
  const normalized = script.split(JSON.stringify(fileUrl)).join('\u2603');
  return {
    script: createHash('sha256').update(normalized, 'utf8').digest('hex'),
    wasm: createHash('sha256').update(wasm).digest('hex'),
  };
}

function binaryenFile(): { file: string; version: string } {
  const require = createRequire(import.meta.url);
  return { file: require.resolve('binaryen'), version: (require('binaryen/package.json') as { version: string }).version };
}

/** Writes binaryen-digest.json for the installed binaryen into `dist` (`npm run build`, scripts/binaryen-digest.mjs). */
export function writeBinaryenDigest(dist: string): BinaryenDigest | undefined {
  const { file, version } = binaryenFile();
  const url = pathToFileURL(file).href;
  const made = toScript(readFileSync(file, 'latin1'), url);
  if (!made) return undefined;
  const digest = { binaryen: version, ...scriptDigest(made.script, made.wasm, url) };
  writeFileSync(join(dist, 'binaryen-digest.json'), JSON.stringify(digest) + '\n');
  return digest;
}

function shippedDigest(): BinaryenDigest | undefined {
  try { return JSON.parse(readFileSync(DIGEST_FILE(), 'utf8')) as BinaryenDigest; } catch { return undefined; }
}

/** Removes binaryen cache files other than `keep`'s (older binaryen or Node versions, and older formats' code caches). */
function dropOthers(dir: string, keep: string): void {
  for (const name of readdirSync(dir)) {
    if (/^binaryen-[0-9a-f]+\.(js|wasm|code)$/.test(name) && (!name.startsWith(keep) || name.endsWith('.code'))) rmSync(join(dir, name), { force: true });
  }
}

const loadCached = async (dir: string): ReturnType<BinaryenSource> => {
  const digest = shippedDigest();
  const { file, version } = binaryenFile();
  if (!digest || digest.binaryen !== version) return undefined;
  const url = pathToFileURL(file).href;
  const key = `binaryen-${hash128(JSON.stringify([CACHE_FORMAT, version, file, process.version, process.arch]))}`;
  const scriptFile = join(dir, `${key}.js`), wasmFile = join(dir, `${key}.wasm`);
  const verified = (script: string, wasm: Uint8Array) => {
    const d = scriptDigest(script, wasm, url);
    return d.script === digest.script && d.wasm === digest.wasm;
  };
  let script: string | undefined, wasm: Uint8Array | undefined;
  try {
    script = readOwnedFile(scriptFile).toString('latin1');
    wasm = readOwnedFile(wasmFile);
  } catch { script = undefined; }   // not made yet, half made, or not ours: made again
  if (script !== undefined && wasm !== undefined && !verified(script, wasm)) {
    process.stderr.write(`fplc: warning: ${scriptFile} is not the script made from binaryen ${version} (its digest differs): made again\n`);
    script = undefined;
  }
  if (script === undefined || wasm === undefined) {
    const made = toScript(readFileSync(file, 'latin1'), url);
    if (made === undefined || !verified(made.script, made.wasm)) return undefined;
    ({ script, wasm } = made);
    try {
      writeAtomic(wasmFile, wasm);
      writeAtomic(scriptFile, Buffer.from(script, 'latin1'));
    } catch { /* a directory that cannot keep them: this run still uses them */ }
    try { dropOthers(dir, key); } catch { /* leftovers stay */ }
  }
  let ran;
  try {
    ran = await instantiateScript(script, wasm, undefined, file);
  } catch (err) {
    for (const f of [scriptFile, wasmFile]) rmSync(f, { force: true });
    throw err;
  }
  return { binaryen: ran.binaryen, from: 'compiled' };
};
