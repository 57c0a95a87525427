/**
 * A disk cache of compiled modules, so that running the same program again skips the front end
 * and binaryen (whose load alone costs ~0.4 s). Keyed by the source, every option that changes
 * the module, and the identity of the compiler that built it (package version and the build's
 * files), so a rebuilt fplc never reuses a stale module. Only programs that compile without
 * warnings are cached (a hit could not repeat them). Failures to read or write the cache are
 * never errors: the program is simply compiled.
 *
 * An entry is named by a 128-bit hash of its key and holds the key itself before the module
 * (ENTRY_MAGIC, u32 key length, key as UTF-8, hash128 of the module, module bytes): a hit
 * compares the whole key and the module's hash, so
 * a hash collision is a miss, never another program's module. That is why the hash need not be
 * cryptographic, and node:crypto (~3 ms of every start to load) is not needed.
 *
 * Trust. What the cache holds runs: modules, and binaryen's script (vm/binaryen-cache.ts). So
 * the cache is used only when it is ours, as ssh treats its keys: the directory and every file
 * read from it owned by this user and writable by no one else, each directory above it owned
 * by this user or root and not writable by others (unless sticky, as /tmp). Anything else is
 * refused with a one-line warning and the program is compiled without the cache. Within such a
 * directory only this user (or root) can plant an entry, and they can run code as this user
 * anyway: a key or digest kept beside the entries would add nothing against them. A hit is
 * still loaded as a module from outside (shape and metadata checked, vm/module-check.ts), and
 * programs with externs that need a grant (TO_FILE, …) are never cached, so that an entry
 * cannot write files.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompileOptions } from './compile.js';
import { loadCompiled, needsGrant } from './load.js';
import { checkModule } from './module-check.js';
import type { CompiledFilter } from './filter.js';

/** $FPLC_CACHE_DIR, else $XDG_CACHE_HOME/fplc, else ~/.cache/fplc; an empty variable counts as unset. */
export function defaultCacheDir(): string {
  return process.env.FPLC_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fplc');
}

const myUid = (): number | undefined => process.getuid?.();

/** Why a file or directory's status makes it not ours, or undefined. */
function notOurs(st: { uid: number; mode: number }, what: string): string | undefined {
  const uid = myUid();
  if (uid === undefined) return undefined;   // no owners to check (Windows)
  if (st.uid !== uid) return `${what} is owned by uid ${st.uid}, not by this user (${uid})`;
  if (st.mode & 0o022) return `${what} is writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode ${(st.mode & 0o7777).toString(8)})`;
  return undefined;
}

/** Why the directories above `dir` let someone else replace it, or undefined. */
function unsafeParents(dir: string): string | undefined {
  const uid = myUid();
  if (uid === undefined) return undefined;
  for (let d = dirname(dir); ; d = dirname(d)) {
    const st = statSync(d);
    if (st.uid !== uid && st.uid !== 0) return `${d} above it is owned by uid ${st.uid}`;
    if ((st.mode & 0o022) && !(st.mode & 0o1000)) return `${d} above it is writable by others and not sticky`;
    if (dirname(d) === d) return undefined;
  }
}

/** Creates `dir` and the directories missing above it (mode 0700), one mkdir each: no retry loop. */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try { statSync(d); break; } catch { missing.push(d); }
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try { mkdirSync(d, { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
  }
}

const checkedDirs = new Map<string, string | undefined>();

/** Warns once per process on stderr (the CLI's compile child is told the outcome, so it does not warn again). */
function warn(message: string): void {
  process.stderr.write(`fplc: warning: ${message}\n`);
}

/**
 * `dir`, resolved and created if missing, when it is ours (see above); otherwise undefined,
 * after one warning on stderr. Checked once per directory per process.
 */
export function usableCacheDir(dir: string, quiet = false): string | undefined {
  const abs = resolve(dir);
  if (checkedDirs.has(abs)) return checkedDirs.get(abs);
  let why: string | undefined;
  try {
    makeDirs(abs);
    const st = statSync(abs);
    why = !st.isDirectory() ? 'it is not a directory' : notOurs(st, 'it') ?? unsafeParents(abs);
  } catch (e) {
    why = (e as Error).message;
  }
  if (why && !quiet) warn(`cache directory ${abs} not used: ${why}`);
  checkedDirs.set(abs, why ? undefined : abs);
  return why ? undefined : abs;
}

/**
 * A file of the cache, read only if it is a regular file (not a link) owned by this user and
 * writable by no one else; throws otherwise, or when it is missing.
 */
export function readOwnedFile(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const st = fstatSync(fd);
    const why = !st.isFile() ? 'not a regular file' : notOurs(st, 'the file');
    if (why) {
      warn(`cache file ${path} not used: ${why}`);
      throw new Error(why);
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

let identity: string | undefined;
/**
 * What distinguishes this compiler build. `npm run build` stamps it in dist/build-id (a hash of
 * every built file, scripts/bundle-cli.mjs); a stamp older than the files tsc wrote (tsc run
 * alone) or a missing one is replaced by the package version and the size and mtime of every
 * built file, which takes a few milliseconds of stat calls.
 */
function compilerIdentity(): string {
  identity ??= compilerIdentityOf(join(dirname(fileURLToPath(import.meta.url)), '..'));
  return identity;
}

/** The identity of the build in `dist` (exported for tests; compilerIdentity memoizes this one's). */
export function compilerIdentityOf(dist: string): string {
  return stampedIdentity(dist) ?? statIdentity(dist);
}

function stampedIdentity(dist: string): string | undefined {
  try {
    const stamp = join(dist, 'build-id');
    const stamped = statSync(stamp).mtimeMs;
    // tsc rewrites every file it emits: a stamp older than these was not written after it.
    if (['bin/cli.js', 'vm/compile.js'].some((f) => statSync(join(dist, f)).mtimeMs > stamped)) return undefined;
    return `build:${readFileSync(stamp, 'utf8').trim()}`;
  } catch {
    return undefined;
  }
}

function statIdentity(dist: string): string {
  const parts: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'test' && e.name !== 'bench') walk(path);
      } else if (e.name.endsWith('.js') || e.name === 'package.json') {
        try { const st = statSync(path); parts.push(`${path}:${st.size}:${st.mtimeMs}`); } catch { /* raced away */ }
      }
    }
  };
  walk(dist);
  return hash128(parts.sort().join('|'));
}

/**
 * A 128-bit hash of a string's UTF-16 code units as 32 hex digits: four 32-bit multiply-xor
 * lanes, mixed together at the end (the construction of bryc's public-domain cyrb128). Spread
 * well enough to name files; not a defence against anyone choosing collisions (entries hold
 * their key, see above).
 */
export function hash128(s: string): string {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ c, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ c, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ c, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ c, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4; h2 ^= h1; h3 ^= h1; h4 ^= h1;
  return [h1, h2, h3, h4].map((h) => (h >>> 0).toString(16).padStart(8, '0')).join('');
}

/** Everything that determines the module compiled for `source`: the cache's key. */
export function cacheKey(source: string, opts: CompileOptions): string {
  const { externs: _externs, ...rest } = opts;
  return JSON.stringify([compilerIdentity(), source, rest]);
}

const ENTRY_MAGIC = Buffer.from('fplc-cache-2\n');
const SUM_BYTES = 32;

/** hash128 of the module's bytes: an entry damaged after it was written (a disk, a partial copy) is a miss, not another module. */
const moduleSum = (wasm: Uint8Array) => Buffer.from(hash128(Buffer.from(wasm.buffer, wasm.byteOffset, wasm.byteLength).toString('latin1')), 'latin1');

/** A cache entry: the magic, the key's length and bytes, the module's hash128, then the module. */
export function encodeEntry(key: string, wasm: Uint8Array): Buffer {
  const k = Buffer.from(key, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(k.length);
  return Buffer.concat([ENTRY_MAGIC, len, k, moduleSum(wasm), wasm]);
}

/** The module an entry holds for `key`, or undefined when it holds another key or is damaged. */
export function decodeEntry(entry: Buffer, key: string): Uint8Array | undefined {
  const m = ENTRY_MAGIC.length;
  if (entry.length < m + 4 || !entry.subarray(0, m).equals(ENTRY_MAGIC)) return undefined;
  const n = entry.readUInt32LE(m);
  if (n > entry.length - m - 4 - SUM_BYTES) return undefined;
  if (!entry.subarray(m + 4, m + 4 + n).equals(Buffer.from(key, 'utf8'))) return undefined;
  const wasm = entry.subarray(m + 4 + n + SUM_BYTES);
  return entry.subarray(m + 4 + n, m + 4 + n + SUM_BYTES).equals(moduleSum(wasm)) ? wasm : undefined;
}

/** What the cache keeps at most; past either bound, the least recently used entries go first. */
export const CACHE_MAX_ENTRIES = 1000;
export const CACHE_MAX_BYTES = 256 * 1024 * 1024;
/** A temporary file this old is left over from a run that died while writing it. */
const STALE_TMP_MS = 60 * 60 * 1000;

/**
 * Keeps the cache within CACHE_MAX_ENTRIES and CACHE_MAX_BYTES, least recently used entries
 * (by mtime, which a hit refreshes) out first, and removes what is not an entry of this format:
 * leftovers of interrupted writes and entries of older fplc versions (`.wasm`). Runs after a
 * write, that is after a compile, beside which listing the directory costs nothing.
 */
export function pruneCache(dir: string, maxEntries = CACHE_MAX_ENTRIES, maxBytes = CACHE_MAX_BYTES): void {
  const now = Date.now();
  const entries: { path: string; size: number; used: number }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    let st;
    try { st = statSync(path); } catch { continue; }   // removed meanwhile by another run
    if (!st.isFile()) continue;
    if (/^[0-9a-f]{32}\.module$/.test(name)) entries.push({ path, size: st.size, used: st.mtimeMs });
    else if (/^[0-9a-f]{64}\.wasm$/.test(name) || (name.endsWith('.tmp') && now - st.mtimeMs > STALE_TMP_MS)) rmSync(path, { force: true });
  }
  entries.sort((a, b) => b.used - a.used);
  let bytes = 0;
  entries.forEach((e, i) => {
    bytes += e.size;
    // The newest entry stays whatever its size: it was just written for this run.
    if (i > 0 && (i >= maxEntries || bytes > maxBytes)) rmSync(e.path, { force: true });
  });
}

/** Writes a file whole or not at all (a temporary beside it, renamed): concurrent runs never see half of one. */
export function writeAtomic(path: string, data: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
}

type Compile = (source: string, opts: CompileOptions) => Promise<CompiledFilter>;

// The compiler and its IR passes are loaded on a miss only: a hit starts faster without them.
const compileHere: Compile = async (source, opts) => (await import('./compile.js')).compileFilter(source, opts);

/**
 * compileFilter through the cache in `dir` (when it is ours, see usableCacheDir); `compileFilter`
 * compiles on a miss (the CLI passes compile-process.ts's). Programs with application externs,
 * or with externs that need a grant, are not cached.
 */
export async function compileFilterCached(source: string, opts: CompileOptions, dir = defaultCacheDir(), compileFilter: Compile = compileHere): Promise<CompiledFilter> {
  if (opts.externs?.length) return compileFilter(source, opts);
  const usable = usableCacheDir(dir);
  if (!usable) return compileFilter(source, opts);
  const key = cacheKey(source, opts);
  const file = join(usable, `${hash128(key)}.module`);
  let wasm: Uint8Array | undefined;
  try { wasm = decodeEntry(readOwnedFile(file), key); } catch { /* a miss */ }
  if (wasm) {
    let filter: CompiledFilter | undefined;
    try { filter = await loadCachedModule(wasm); } catch { /* a damaged entry: compile again */ }
    if (filter) {
      // Used now: the last the pruning evicts (one syscall; mtime, as atime is often not kept).
      try { const now = new Date(); utimesSync(file, now, now); } catch { /* read-only cache */ }
      return filter;
    }
  }
  const filter = await compileFilter(source, opts);
  if (filter.warnings.length === 0 && !needsGrant(filter.meta)) {
    try {
      writeAtomic(file, encodeEntry(key, filter.wasm));
      pruneCache(usable);
    } catch { /* read-only home, full disk: run uncached */ }
  }
  return filter;
}

/**
 * A cache hit, checked as a module from outside (shape, metadata) and refused if it calls an
 * extern that needs a grant (none is cached); the program is the user's own, compiled by this
 * fplc into a directory only they can write, so it runs without the time limit of loadFilter.
 */
async function loadCachedModule(wasm: Uint8Array): Promise<CompiledFilter> {
  const { module, meta } = checkModule(wasm);
  if (needsGrant(meta)) throw new Error('a cache entry calls an extern that needs a grant');
  return loadCompiled(wasm, [], [], module);
}
