/**
 * The reproductions through the `fpl` command (dist/, built by npm test): a .wasm that names
 * TO_FILE, loops or is garbage; compiling that would have written a file; a cache directory or
 * entry that is not the user's own.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ret, seq, type Program } from '../../lang/ir/ir.js';
import { compileProgram } from '../../vm/compile.js';
import { cacheKey, encodeEntry, hash128 } from '../../vm/cache.js';
import { projectRoot } from '../support/env.js';
import { craftModule, metaOf, replaceMeta, RUN_LOOPS, RUN_PASSES } from '../support/module-bytes.js';

const fpl = join(projectRoot, 'bin/fpl.js');
const web = join(projectRoot, 'samples/web.pcap');
const tmp = mkdtempSync(join(tmpdir(), 'fplc-untrusted-'));
const cacheDir = join(tmp, 'cache');

function run(args: string[], env: Record<string, string> = {}, cwd = projectRoot) {
  const t = Date.now();
  const r = spawnSync(process.execPath, [fpl, ...args], { encoding: 'utf8', cwd, timeout: 60_000, env: { ...process.env, FPLC_CACHE_DIR: cacheDir, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t };
}
const write = (name: string, bytes: Uint8Array | string) => { const p = join(tmp, name); writeFileSync(p, bytes); return p; };
const program: Program = { body: ret(1), linkType: 1, registers: 0, memoryCells: 4, locals: 0, externs: [], fuel: 1 };

describe('fpl run X.wasm', () => {
  it('refuses a module that names TO_FILE unless --allow-extern TO_FILE, showing the path', async () => {
    const victim = write('victim', 'precious');
    const calls = await compileProgram({ ...program, body: seq({ k: 'eval', e: { k: 'extern', id: 0, args: [] } }, ret(1)), externs: [{ name: 'GetDynTCPDPortFromRTSP', config: [] }] });
    const evil = write('evil.wasm', replaceMeta(calls.wasm, { ...metaOf(calls.wasm), externs: [{ name: 'mapi:TO_FILE', config: [1, 0, 0, victim, 0] }] }));
    const r = run(['run', evil, '-r', web]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TO_FILE');
    expect(r.stderr).toContain(victim);
    expect(r.stderr).toContain('--allow-extern');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    const granted = run(['run', evil, '-r', web, '--allow-extern', 'TO_FILE']);
    expect(granted.code).toBe(0);
    expect(readFileSync(victim).length).toBeGreaterThan(24 + 191 * 16);
  });

  it('ends a looping run with exit 1 and a clear message; refuses a start function and garbage', () => {
    const loops = write('loops.wasm', craftModule(RUN_LOOPS));
    const r = run(['run', loops, '-r', web], { FPLC_TIME_LIMIT_MS: '300' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fpl: the module's run did not finish within 300 ms/);
    const start = run(['run', write('start.wasm', craftModule(RUN_PASSES, { startLoops: true })), '-r', web]);
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/start function/);
    const garbage = run(['run', write('garbage.wasm', 'MZ\x90\0garbage'), '-r', web]);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/^fpl: .*garbage\.wasm: not a WebAssembly module/);
    const dumped = run(['dump', '--wat', join(tmp, 'garbage.wasm')]);
    expect(dumped.code).toBe(1);
    expect(dumped.stderr).toMatch(/^fpl: .*garbage\.wasm: not a WebAssembly module/);
  });
});

describe('compiling never touches the world', () => {
  it('leaves a file TO_FILE or RES2FILE names untouched in check, dump --ir, compile and dead code', () => {
    const target = write('target', 'keep');
    const programs = [
      `EXTERN("TO_FILE",0,"${target}",0);\nRETURN 1;\n`,
      `IF (0) THEN EXTERN("TO_FILE",0,"${target}",0); FI\nRETURN 1;\n`,
      `RETURN EXTERN("TO_FILE",0,"${target}",0);\n`,
      `EXTERN("RES2FILE","1","0@0","h","${target}","0",0);\nRETURN 1;\n`,
    ];
    programs.forEach((text, i) => {
      const file = write(`p${i}.fpl`, text);
      for (const args of [['check', file], ['dump', '--ir', file], ['compile', file, '-o', join(tmp, `p${i}.wasm`)], ['run', file, '-r', web]]) {
        run(args);
        expect(readFileSync(target, 'utf8'), `${args[0]} of ${text}`).toBe('keep');
      }
    });
  });
});

describe('the cache is ours or unused', () => {
  it('refuses a directory writable by others, once, and compiles without it', () => {
    const open = join(tmp, 'open-cache');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = run(['run', '-r', web, '-e', 'tcp port 80', '--json'], { FPLC_CACHE_DIR: open });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).matched).toBe(129);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^fplc: warning: cache directory .* not used: it is writable by (its group|others)/)]);
    expect(readdirSync(open)).toEqual([]);
  });

  it('reports an unusable directory once and goes on, with or without --no-cache; an empty one is unset', () => {
    for (const extra of [[], ['--no-cache']]) {
      const r = run(['run', '-r', web, '-e', 'tcp port 80', '--json', ...extra], { FPLC_CACHE_DIR: '/proc/fplc' });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).matched).toBe(129);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.ms).toBeLessThan(30_000);
    }
    const cwd = mkdtempSync(join(tmpdir(), 'fplc-cwd-'));
    const home = mkdtempSync(join(tmpdir(), 'fplc-home-'));
    expect(run(['run', '-r', web, '-e', 'tcp port 80'], { FPLC_CACHE_DIR: '', XDG_CACHE_HOME: '', HOME: home }, cwd).code).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(join(home, '.cache/fplc')).some((f) => f.endsWith('.module'))).toBe(true);
  });

  it('does not run an entry planted by someone else or writable by others under the key of `tcp port 80`', async () => {
    const dir = join(tmp, 'planted');
    expect(run(['run', '-r', web, '-e', 'tcp port 81'], { FPLC_CACHE_DIR: dir }).code).toBe(0);
    // The planter's module passes every packet; the entry holds the genuine key.
    const all = await compileProgram({ ...program, body: ret(1) });
    const entry = readdirSync(dir).find((f) => f.endsWith('.module'))!;
    const key = readFileSync(join(dir, entry)).subarray(17, 17 + readFileSync(join(dir, entry)).readUInt32LE(13)).toString('utf8');
    const key80 = key.replace('"tcp port 81"', '"tcp port 80"');
    const plant = join(dir, `${hash128(key80)}.module`);
    expect(plant).not.toBe(join(dir, entry));
    for (const how of ['other-owner', 'group-writable'] as const) {
      writeFileSync(plant, encodeEntry(key80, all.wasm), { mode: 0o600 });
      if (how === 'other-owner' && process.getuid?.() === 0) chownSync(plant, 65534, 65534);
      else chmodSync(plant, 0o666);
      const r = run(['run', '-r', web, '-e', 'tcp port 80', '--json'], { FPLC_CACHE_DIR: dir });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).matched).toBe(129);   // not 191
      expect(r.stderr).toMatch(/cache file .* not used/);
    }
    expect(cacheKey).toBeDefined();
  });

  it('never runs a cached module that calls an extern needing a grant (an entry cannot write files)', async () => {
    const dir = join(tmp, 'granted');
    expect(run(['run', '-r', web, '-e', 'tcp port 82'], { FPLC_CACHE_DIR: dir }).code).toBe(0);
    const entry = join(dir, readdirSync(dir).find((f) => f.endsWith('.module'))!);
    const bytes = readFileSync(entry);
    const keyLen = bytes.readUInt32LE(13);
    const key = bytes.subarray(17, 17 + keyLen).toString('utf8');
    const victim = write('cache-victim', 'precious');
    const calls = await compileProgram({ ...program, body: seq({ k: 'eval', e: { k: 'extern', id: 0, args: [] } }, ret(1)), externs: [{ name: 'GetDynTCPDPortFromRTSP', config: [] }] });
    writeFileSync(entry, encodeEntry(key, replaceMeta(calls.wasm, { ...metaOf(calls.wasm), externs: [{ name: 'mapi:TO_FILE', config: [1, 0, 0, victim, 0] }] })), { mode: 0o600 });
    const r = run(['run', '-r', web, '-e', 'tcp port 82', '--json'], { FPLC_CACHE_DIR: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).matched).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(existsSync(entry)).toBe(true);
  });
});
