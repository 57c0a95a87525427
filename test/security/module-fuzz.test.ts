/**
 * Fuzzing what comes from outside: fplc's modules with mutated bytes and mutated metadata
 * fields through loadFilter and `fpl run`, and mutated cache entries through the cache. The
 * promise: a refusal or a run, both within a bound; every refusal a ModuleError (typed, with
 * our message); a cache hit never runs a module other than the one compiled for the program.
 * Short under npm test; FPLC_LONG_FUZZ=1 runs ~50 times more cases.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilterCached } from '../../vm/cache.js';
import { compileFilter } from '../../vm/compile.js';
import { loadFilter } from '../../vm/load.js';
import { ModuleError } from '../../vm/module-errors.js';
import { projectRoot } from '../support/env.js';
import { metaOf, replaceMeta } from '../support/module-bytes.js';

const LONG = process.env.FPLC_LONG_FUZZ === '1';
const runs = (short: number) => (LONG ? short * 50 : short);
const tmp = mkdtempSync(join(tmpdir(), 'fplc-fuzz-'));

/** Three records: an empty one, a TCP-ish frame, a short one. */
const RECORDS = Uint8Array.from([
  ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ...[1, 0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0], ...new Array(12).fill(0xaa), 0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, ...new Array(36).fill(0x11),
  ...[2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 60, 0, 0, 0], 1, 2, 3,
]);

let sources: Uint8Array[] | undefined;
async function modules(): Promise<Uint8Array[]> {
  if (sources) return sources;
  const made = await Promise.all([
    compileFilter('tcp port 80 or udp', { language: 'pcap' }),
    compileFilter('R[0] = R[0] + 1; FOR (R[1] = 0; R[1] < 5; R[1]++) M[R[1]] = PKT.B[R[1]]; ROF EXTERN(GetDynTCPDPortFromRTSP, 0, 1); RETURN M[1];', { language: 'fpl' }),
  ]);
  sources = made.map((f) => f.wasm);
  return sources;
}

/** Loads and runs `bytes`: 'ran' or 'refused'; anything but a ModuleError fails the property. */
async function outcome(bytes: Uint8Array): Promise<'ran' | 'refused'> {
  try {
    const f = await loadFilter(bytes, { timeLimitMs: 2000 });
    f.runRecords(RECORDS);
    return 'ran';
  } catch (err) {
    if (!(err instanceof ModuleError)) throw new Error(`not a ModuleError: ${(err as Error)?.name}: ${(err as Error)?.message}`);
    return 'refused';
  }
}

const jsonValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), fc.constantFrom(undefined, -4, 0, 1, 65536, 2 ** 31, 'x', [], {}));

describe('fuzzing loadFilter', () => {
  it('mutated metadata fields: refused with a ModuleError, or run', async () => {
    const mods = await modules();
    await fc.assert(fc.asyncProperty(fc.nat(mods.length - 1), fc.nat(), jsonValue, fc.boolean(), async (which, pick, value, inExtern) => {
      const wasm = mods[which]!;
      const meta = metaOf(wasm);
      const externs = meta.externs as Record<string, unknown>[];
      const target = inExtern && externs.length ? externs[pick % externs.length]! : meta;
      const keys = [...Object.keys(target), 'extra'];
      const key = keys[pick % keys.length]!;
      if (value === undefined) delete target[key]; else target[key] = value;
      await outcome(replaceMeta(wasm, meta));
    }), { numRuns: runs(150) });
  });

  it('mutated metadata text: refused with a ModuleError, or run', async () => {
    const mods = await modules();
    await fc.assert(fc.asyncProperty(fc.nat(mods.length - 1), fc.nat(), fc.string({ maxLength: 6 }), async (which, at, text) => {
      const json = JSON.stringify(metaOf(mods[which]!));
      const i = at % json.length;
      await outcome(replaceMeta(mods[which]!, json.slice(0, i) + text + json.slice(i + text.length)));
    }), { numRuns: runs(150) });
  });

  it('bit flips and truncations of whole modules: refused with a ModuleError, or run', async () => {
    const mods = await modules();
    await fc.assert(fc.asyncProperty(fc.nat(mods.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 3 }), fc.option(fc.nat()), async (which, flips, cut) => {
      const bytes = mods[which]!.slice();
      for (const [at, bit] of flips) bytes[at % bytes.length]! ^= 1 << bit;
      await outcome(cut === null ? bytes : bytes.slice(0, cut % bytes.length));
    }), { numRuns: runs(300) });
  });
});

describe('fuzzing fpl run X.wasm', () => {
  it('bit-flipped modules end with exit 0 or 1 and an fpl: message, never a hang or a crash', async () => {
    const mods = await modules();
    const web = join(projectRoot, 'samples/web.pcap');
    await fc.assert(fc.asyncProperty(fc.nat(mods.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 3 }), async (which, flips) => {
      const bytes = mods[which]!.slice();
      for (const [at, bit] of flips) bytes[at % bytes.length]! ^= 1 << bit;
      const file = join(tmp, 'flipped.wasm');
      writeFileSync(file, bytes);
      const r = spawnSync(process.execPath, [join(projectRoot, 'bin/fpl.js'), 'run', file, '-r', web, '--json'],
        { encoding: 'utf8', timeout: 60_000, env: { ...process.env, FPLC_TIME_LIMIT_MS: '2000', FPLC_CACHE_DIR: join(tmp, 'cache') } });
      expect(r.signal).toBeNull();
      expect([0, 1]).toContain(r.status);
      if (r.status === 1) expect(r.stderr).toMatch(/^fpl: /);
    }), { numRuns: runs(6) });
  });
});

describe('fuzzing the module cache', () => {
  it('a damaged or tampered entry (the user\'s own) is a miss: results always equal a fresh compile', async () => {
    const dir = join(tmp, 'entries');
    const expr = 'tcp port 80 or udp';
    const fresh = [...(await compileFilter(expr, { language: 'pcap' })).runRecords(RECORDS)];
    await compileFilterCached(expr, { language: 'pcap' }, dir);
    const name = readdirSync(dir).find((f) => f.endsWith('.module'))!;
    const genuine = readFileSync(join(dir, name));
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 3 }), fc.option(fc.nat()), async (flips, cut) => {
      const bytes = Buffer.from(genuine);
      for (const [at, bit] of flips) bytes[at % bytes.length]! ^= 1 << bit;
      writeFileSync(join(dir, name), cut === null ? bytes : bytes.subarray(0, cut % bytes.length), { mode: 0o600 });
      const f = await compileFilterCached(expr, { language: 'pcap' }, dir);
      expect([...f.runRecords(RECORDS)]).toEqual(fresh);
    }), { numRuns: runs(60) });
  });
});
