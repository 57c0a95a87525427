/**
 * Loading a compiled module: no front end, no IR passes, no binaryen. Kept apart from
 * compile.ts so that running a `.wasm` or a cached module loads only this and the runtime
 * (every ES module costs the CLI's start-up about a millisecond).
 */
import type { Diagnostic } from '../lang/diagnostics.js';
import type { ExternImpl } from '../abi/index.js';
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
  return CompiledFilter.load(wasm, { externs: [...await mapiExternImpls(wasm), ...externs], warnings });
}

/**
 * The JavaScript parts of MAPI functions a program calls as EXTERN("NAME", …) (externs named
 * `mapi:NAME`), loaded only for modules that mention them.
 */
async function mapiExternImpls(wasm: Uint8Array): Promise<readonly ExternImpl[]> {
  if (!Buffer.from(wasm.buffer, wasm.byteOffset, wasm.byteLength).includes('mapi:')) return [];
  return (await import('./mapi/externs.js')).MAPI_EXTERN_IMPLS;
}
