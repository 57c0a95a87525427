/**
 * binaryen for the code generator, loaded once (binaryen-loader.ts: through V8's code cache
 * when the process set a cache directory, else a plain import). The code generator's modules
 * import it from here, never from 'binaryen'.
 */
import type B from 'binaryen';
import { loadBinaryen } from './binaryen-loader.js';

const binaryen = await loadBinaryen();

// The types of binaryen's namespace that the code generator names, beside the value.
declare namespace binaryen {
  type ExpressionRef = B.ExpressionRef;
  type Type = B.Type;
  type Module = B.Module;
}

export default binaryen;
