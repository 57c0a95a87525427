// Time per compile phase of a size case at several sizes: node bench/sizes/phases.mjs CASE N…
// The last phase, v8, is the engine compiling the module. Run as
//   node --no-liftoff --no-wasm-lazy-compilation bench/sizes/phases.mjs CASE N…
// it is V8's optimizing compile (TurboFan), which a run otherwise pays when the filter tiers
// up, in the background, and which `fpl run` then waits for before it exits. Without those
// flags it is the lazy compile only (next to nothing).
import { performance } from 'node:perf_hooks';
import { lowerSource } from '../../dist/vm/compile.js';
import { validateProgram } from '../../dist/lang/ir/validate.js';
import { FILTER_PIPELINE, PASSES } from '../../dist/lang/ir/pipeline.js';
import { compileWasm } from '../../dist/codegen/wasm/index.js';
const list = (n, f, sep) => Array.from({ length: n }, (_, i) => f(i)).join(sep);
const CASES = {
  ports: (n) => [list(n, (i) => `port ${1 + (i % 65535)}`, ' or '), 'pcap'],
  tcpand: (n) => [list(n, () => 'tcp', ' and '), 'pcap'],
  plus: (n) => [`ether[0] + ${list(n - 1, () => '1', ' + ')} = 5`, 'pcap'],
  hostport: (n) => [list(n, (i) => `(host 10.${(i >> 8) & 255}.${i & 255}.1 and port ${1 + (i % 65535)})`, ' or '), 'pcap'],
  strsearch: (n) => [list(n, (i) => `IF (EXTERN("STR_SEARCH", "word${i}", 0, 0)) THEN R[0] = R[0] + 1; FI`, '\n') + '\nRETURN R[0];\n', 'fpl'],
};
const [name, ...sizes] = process.argv.slice(2);
for (const n of sizes.map(Number)) {
  const [src, language] = CASES[name](n);
  const t = [];
  let t0 = performance.now();
  const step = (label, f) => { const r = f(); const t1 = performance.now(); t.push(`${label} ${(t1 - t0).toFixed(0)}`); t0 = t1; return r; };
  const { program } = await lowerSource(src, { language });
  t.push(`front ${(performance.now() - t0).toFixed(0)}`); t0 = performance.now();
  step('validate', () => validateProgram(program));
  let p = program;
  for (const name of FILTER_PIPELINE) p = step(name, () => PASSES.get(name).run(p));
  const mod = step('wasm', () => compileWasm(p, {}));
  step('v8', () => new WebAssembly.Module(mod.wasm));
  console.log(`${name} ${n}: ${t.join(', ')} ms; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
}
