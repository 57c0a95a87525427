#!/usr/bin/env node
// Builds the libpcap addon (native/build/Release/fplc_libpcap.node), the oracle that tests and
// benchmarks compare fplc against. A machine without a C++ compiler or libpcap's headers is not
// an error here: the build says what is missing and exits 0, and the tests that need the addon
// skip loudly (or fail under CI=true).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, 'build', 'Release', 'fplc_libpcap.node');

function skip(why) {
  console.log(`native: libpcap addon NOT built: ${why}`);
  console.log('native: tests that compare against libpcap will be skipped (they fail under CI=true).');
  process.exit(0);
}

// Run by `npm install` (the prepare script): whatever goes wrong, say so and never fail the install.
process.on('uncaughtException', (e) => skip(`unexpected error: ${e?.message ?? e}`));

// Already built from these sources and loading: nothing to do (npm install runs this each time).
if (!process.argv.includes('--force') && existsSync(output)) {
  const sources = [join(here, 'src', 'libpcap_addon.cc'), join(here, 'binding.gyp')];
  const built = statSync(output).mtimeMs;
  if (sources.every((f) => !existsSync(f) || statSync(f).mtimeMs <= built)) {
    try {
      const addon = createRequire(import.meta.url)(output);
      console.log(`native: libpcap addon up to date (${addon.version()}); npm run build:native -- --force rebuilds it`);
      process.exit(0);
    } catch { /* does not load here (another Node?): rebuild */ }
  }
}

function has(cmd, args) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

const cxx = process.env.CXX || 'g++';
if (!has(cxx, ['--version'])) skip(`no C++ compiler (${cxx}); install g++ (apt-get install g++)`);
if (!has('make', ['--version'])) skip('no make; install make (apt-get install make)');
const pcapHeader = ['/usr/include/pcap/pcap.h', '/usr/local/include/pcap/pcap.h'].find((p) => existsSync(p));
if (!pcapHeader) skip("libpcap's headers are missing (pcap/pcap.h); install libpcap-dev (apt-get install libpcap-dev)");

let addonApiDir;
try {
  addonApiDir = dirname(createRequire(join(here, 'package.json')).resolve('node-addon-api'));
} catch {
  skip('node-addon-api is not installed; run npm install');
}

// node-gyp: the copy bundled with npm next to this node, else npx's.
const nodeGypCandidates = [
  resolve(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  resolve(dirname(process.execPath), 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
];
const nodeGyp = nodeGypCandidates.find((p) => existsSync(p));

// Node's own headers ship with this node (include/node beside bin/); pointing node-gyp at them
// keeps the build offline. Without them node-gyp would try to download them.
const nodeDir = resolve(dirname(process.execPath), '..');
const nodeDirArgs = existsSync(join(nodeDir, 'include', 'node', 'common.gypi')) ? [`--nodedir=${nodeDir}`] : [];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: here, stdio: 'inherit' });
  return r.status === 0;
}

let built = false;
if (nodeGyp) built = run(process.execPath, [nodeGyp, 'rebuild', '--loglevel=warn', ...nodeDirArgs]);
else built = run('npx', ['--yes', 'node-gyp', 'rebuild', '--loglevel=warn', ...nodeDirArgs]);

// Fallback: the addon is one file using only Node-API, so a direct compile works wherever the
// Node-API headers are present even when node-gyp itself cannot run.
if (!built || !existsSync(output)) {
  const nodeInclude = join(nodeDir, 'include', 'node');
  if (!existsSync(join(nodeInclude, 'node_api.h'))) skip('node-gyp failed and Node-API headers (include/node/node_api.h) are not beside this node');
  console.log('native: node-gyp failed; compiling directly with', cxx);
  mkdirSync(dirname(output), { recursive: true });
  try {
    execFileSync(cxx, ['-O2', '-std=c++17', '-shared', '-fPIC', '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS',
      `-I${nodeInclude}`, `-I${addonApiDir}`,
      join(here, 'src', 'libpcap_addon.cc'), '-lpcap', '-o', output], { stdio: 'inherit' });
    built = true;
  } catch {
    skip('the C++ compile failed (see the compiler output above)');
  }
}

// Prove the result loads and works before declaring success.
try {
  const addon = createRequire(import.meta.url)(output);
  console.log(`native: built ${output} (${addon.version()})`);
} catch (e) {
  skip(`the addon was built but does not load: ${e.message}`);
}
