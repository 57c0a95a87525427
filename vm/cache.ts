/**
 * A disk cache of compiled modules, so that running the same program again skips the front end
 * and binaryen (whose load alone costs ~0.4 s). Keyed by the source, every option that changes
 * the module, and the identity of the compiler that built it (package version and the build's
 * files), so a rebuilt fplc never reuses a stale module. Only programs that compile without
 * warnings are cached (a hit could not repeat them). Failures to read or write the cache are
 * never errors: the program is simply compiled.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompileOptions } from './compile.js';
import { loadFilter } from './load.js';
import type { CompiledFilter } from './filter.js';

export function defaultCacheDir(): string {
  return process.env.FPLC_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fplc');
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
  return createHash('sha256').update(parts.sort().join('|')).digest('hex');
}

export function cacheKey(source: string, opts: CompileOptions): string {
  const { externs: _externs, ...rest } = opts;
  return createHash('sha256').update(JSON.stringify([compilerIdentity(), source, rest])).digest('hex');
}

type Compile = (source: string, opts: CompileOptions) => Promise<CompiledFilter>;

// The compiler and its IR passes are loaded on a miss only: a hit starts faster without them.
const compileHere: Compile = async (source, opts) => (await import('./compile.js')).compileFilter(source, opts);

/**
 * compileFilter through the cache in `dir`; `compileFilter` compiles on a miss (the CLI passes
 * compile-process.ts's). Programs with application externs are not cached.
 */
export async function compileFilterCached(source: string, opts: CompileOptions, dir = defaultCacheDir(), compileFilter: Compile = compileHere): Promise<CompiledFilter> {
  if (opts.externs?.length) return compileFilter(source, opts);
  const file = join(dir, `${cacheKey(source, opts)}.wasm`);
  let bytes: Uint8Array | undefined;
  try { bytes = readFileSync(file); } catch { /* a miss */ }
  if (bytes) {
    try { return await loadFilter(bytes); } catch { /* a damaged entry: compile again */ }
  }
  const filter = await compileFilter(source, opts);
  if (filter.warnings.length === 0) {
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, filter.wasm);
      renameSync(tmp, file);   // atomic: concurrent runs never see half a module
    } catch { /* read-only home, full disk: run uncached */ }
  }
  return filter;
}
