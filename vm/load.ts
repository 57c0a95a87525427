/**
 * Loading a compiled module: no front end, no IR passes, no binaryen. Kept apart from
 * compile.ts so that running a `.wasm` or a cached module loads only this and the runtime
 * (every ES module costs the CLI's start-up about a millisecond).
 *
 * A module from outside this process (loadFilter: a `.wasm` file, bytes from anywhere) is data:
 * its shape and metadata are checked before anything is bound (vm/module-check.ts), it gets
 * only the externs that cannot reach outside the process unless the caller grants more
 * (allowExterns), and every call into it runs under a time limit (vm/guard.ts).
 */
import type { Diagnostic } from '../lang/diagnostics.js';
import { MAPI_EXTERN_PREFIX, type ExternImpl, type ModuleMeta } from '../abi/index.js';
import { externTable, BUILTIN_EXTERNS } from '../hostfns/registry.js';
import { CompiledFilter } from './filter.js';
import { DEFAULT_TIME_LIMIT_MS, guardEntries } from './guard.js';
import { checkModule } from './module-check.js';
import { ExternNotGrantedError, ExternUnavailableError } from './module-errors.js';

export interface LoadFilterOptions {
  /** Externs the application provides; a module may call them only when they are also granted (allowExterns). */
  externs?: readonly ExternImpl[];
  /**
   * Externs with effects outside the module the caller grants, by name: TO_FILE, RES2FILE,
   * TO_BUFFER (as `NAME` or `mapi:NAME`) and the application's externs. Pure externs (the
   * shipped ones, MAPI's computing functions such as STR_SEARCH, HASH, REGEXP) need no grant.
   */
  allowExterns?: readonly string[];
  /** Time limit of each call into the module, in ms (default DEFAULT_TIME_LIMIT_MS); a call past it throws ModuleTimeoutError. */
  timeLimitMs?: number;
}

/** MAPI functions whose JavaScript part reaches outside the module, and what it does. */
export const EFFECTFUL_MAPI_EXTERNS: ReadonlyMap<string, string> = new Map([
  ['TO_FILE', 'writes packets to a file'],
  ['RES2FILE', 'writes results to a file'],
  ['TO_BUFFER', 'hands packets to the application\'s buffers'],
]);

/** Loads a module compiled ahead of time (`fpl compile`, CompiledFilter.wasm). No binaryen. */
export async function loadFilter(wasm: Uint8Array, opts: LoadFilterOptions = {}): Promise<CompiledFilter> {
  if (!(wasm instanceof Uint8Array)) throw new TypeError('loadFilter takes the module bytes as a Uint8Array');
  const limit = opts.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`timeLimitMs must be a positive integer, not ${limit}`);
  const { module, meta } = checkModule(wasm);
  const externs = grantedExterns(meta, opts.externs ?? [], new Set(opts.allowExterns ?? []));
  const vm = await import('node:vm');
  return CompiledFilter.load(wasm, {
    module, externs, externsFor: mapiExternImpls,
    entries: (exports, memory) => guardEntries(exports, memory, { timeLimitMs: limit, vm, replayable: meta.externs.length === 0 }),
  });
}

/**
 * The application's externs the module may call: those granted. Refuses, naming the extern
 * and its config, every extern of the module that is effectful and not granted, and every
 * extern that is not available at all.
 */
function grantedExterns(meta: ModuleMeta, given: readonly ExternImpl[], allowed: ReadonlySet<string>): ExternImpl[] {
  const table = externTable(given.filter((x) => allowed.has(x.name)));
  const givenNames = new Set(given.map((x) => x.name));
  for (const x of meta.externs) {
    if (x.name.startsWith(MAPI_EXTERN_PREFIX)) {
      const name = x.name.slice(MAPI_EXTERN_PREFIX.length);
      const effect = EFFECTFUL_MAPI_EXTERNS.get(name);
      // config is [linkType, index, …MAPI arguments]: the arguments say what it touches (paths).
      if (effect && !allowed.has(name) && !allowed.has(x.name)) throw new ExternNotGrantedError(name, x.config.slice(2), effect);
      continue;
    }
    if (givenNames.has(x.name)) {
      if (!allowed.has(x.name)) throw new ExternNotGrantedError(x.name, x.config, 'the application provides (its effects are the application\'s)');
      continue;
    }
    if (!isShipped(x.name)) throw new ExternUnavailableError(x.name, [...table.keys()]);
  }
  return [...table.values()].filter((x) => givenNames.has(x.name));
}

/** Whether a module calls an extern that needs a grant when loaded (vm/cache.ts does not keep such modules). */
export function needsGrant(meta: ModuleMeta): boolean {
  return meta.externs.some((x) => x.name.startsWith(MAPI_EXTERN_PREFIX) ? EFFECTFUL_MAPI_EXTERNS.has(x.name.slice(MAPI_EXTERN_PREFIX.length)) : !isShipped(x.name));
}

/** Whether fplc itself ships the extern (pure: it needs no grant). */
function isShipped(name: string): boolean {
  return BUILTIN_EXTERNS.some((x) => x.name === name);
}

/**
 * Instantiates module bytes compiled in this process or its compile child (compileProgram,
 * compile-process.ts), with the MAPI externs they mention, the application's externs and
 * compile warnings: the program is the caller's own, so every extern it names is granted.
 */
export async function loadCompiled(wasm: Uint8Array, externs: readonly ExternImpl[], warnings: Diagnostic[], module?: WebAssembly.Module): Promise<CompiledFilter> {
  return CompiledFilter.load(wasm, {
    externs, warnings, externsFor: mapiExternImpls, ...(module ? { module } : {}),
    entries: (exports, memory) => guardEntries(exports, memory, { replayable: false }),
  });
}

/**
 * The JavaScript parts of MAPI functions a program calls as EXTERN("NAME", …) (externs named
 * `mapi:NAME` in the module's metadata), loaded only for modules that call them.
 */
async function mapiExternImpls(names: readonly string[]): Promise<readonly ExternImpl[]> {
  if (!names.some((name) => name.startsWith(MAPI_EXTERN_PREFIX))) return [];
  return (await import('./mapi/externs.js')).MAPI_EXTERN_IMPLS;
}
