/**
 * Loading a compiled module: no front end, no IR passes, no binaryen. Kept apart from
 * compile.ts so that running a `.wasm` or a cached module loads only this and the runtime
 * (every ES module costs the CLI's start-up about a millisecond).
 */
import type { Diagnostic } from '../lang/diagnostics.js';
import { MAPI_EXTERN_PREFIX, type ExternImpl } from '../abi/index.js';
import { CompiledFilter } from './filter.js';

/** Loads a module compiled ahead of time (`fpl compile`, CompiledFilter.wasm). No binaryen. */
export function loadFilter(wasm: Uint8Array, opts: { externs?: readonly ExternImpl[] } = {}): Promise<CompiledFilter> {
  if (!(wasm instanceof Uint8Array)) throw new TypeError('loadFilter takes the module bytes as a Uint8Array');
  return loadCompiled(wasm, opts.externs ?? [], []);
}

/**
 * Instantiates freshly compiled module bytes (compileProgram, compile-process.ts) or loaded
 * ones, with the MAPI externs they mention, the application's externs and compile warnings.
 */
export async function loadCompiled(wasm: Uint8Array, externs: readonly ExternImpl[], warnings: Diagnostic[]): Promise<CompiledFilter> {
  return CompiledFilter.load(wasm, { externs, warnings, externsFor: mapiExternImpls });
}

/**
 * The JavaScript parts of MAPI functions a program calls as EXTERN("NAME", …) (externs named
 * `mapi:NAME` in the module's metadata), loaded only for modules that call them.
 */
async function mapiExternImpls(names: readonly string[]): Promise<readonly ExternImpl[]> {
  if (!names.some((name) => name.startsWith(MAPI_EXTERN_PREFIX))) return [];
  return (await import('./mapi/externs.js')).MAPI_EXTERN_IMPLS;
}
