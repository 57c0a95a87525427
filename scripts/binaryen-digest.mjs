// A step of `npm run build`, after tsc: records in dist/binaryen-digest.json the SHA-256 of the
// script and WebAssembly that vm/binaryen-cache.ts makes from the installed binaryen, so that
// files read back from the cache directory are run only when they are exactly those.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const dist = join(fileURLToPath(import.meta.url), '../../dist');
const { writeBinaryenDigest } = await import(join(dist, 'vm/binaryen-cache.js'));
if (!writeBinaryenDigest(dist)) console.warn('binaryen-digest: binaryen has an unexpected shape; its script will not be cached');
