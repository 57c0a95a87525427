// The last step of `npm run build`, after tsc: bundles the `fpl` command and stamps the build.
//
// dist/cli/: the CLI (dist/bin/cli.js) and every module it imports, commander included, as a
// few ES modules. Node loads a module graph one file at a time; the ~30 modules and commander
// that `fpl run` needs cost ~25 ms of a ~70 ms start-up, a bundle ~5 ms. Modules the CLI
// imports lazily (the compiler, the MAPI runtime, fpl bench) become chunks loaded on demand, so
// a cached `fpl run` still loads no compiler. binaryen and ohm-js stay in node_modules.
// Processes the CLI spawns (compile-process.js, the libpcap compile child) run from dist/ as
// they are: they name their script relative to their own directory, which is one level below
// dist/ in both layouts.
//
// dist/build-id: a hash of every built file, the compiler's identity for the module cache
// (vm/cache.ts), so that a cache hit does not stat the whole of dist/ to compute it.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '../..');
const dist = join(root, 'dist');
const out = join(dist, 'cli');

// commander requires node:child_process at load for executable subcommands, which fpl has
// none of; loading it pulls in net, dgram and the stream machinery (~2.5 ms of every start).
// Inside commander it resolves to this shim, which loads the real module on first use.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "module.exports = { spawn: (...a) => require('node:child_process').spawn(...a) };",
      loader: 'js',
    }));
  },
};

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [join(dist, 'bin/cli.js')],
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['binaryen', 'ohm-js'],
  // commander is CommonJS and requires Node's modules; an ES module has no `require` of its own.
  banner: { js: "import { createRequire as __fplcRequire } from 'node:module'; const require = __fplcRequire(import.meta.url);" },
  plugins: [lazyChildProcess],
  logLevel: 'warning',
});

const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path);
    else if (e.name.endsWith('.js') || e.name.endsWith('.json')) files.push(path);
  }
};
walk(dist);
const hash = createHash('sha256');
for (const f of files.sort()) hash.update(relative(dist, f)).update('\0').update(readFileSync(f)).update('\0');
hash.update(readFileSync(join(root, 'package.json')));
writeFileSync(join(dist, 'build-id'), `${hash.digest('hex')}\n`);
