import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilerIdentityOf } from '../../vm/cache.js';

/** A fake build: the files the stamp is checked against, and a stamp `age` seconds old relative to them. */
function fakeDist(stamp: string | undefined, stampAge = -10): string {
  const dist = mkdtempSync(join(tmpdir(), 'fplc-dist-'));
  mkdirSync(join(dist, 'bin'));
  mkdirSync(join(dist, 'vm'));
  const built = Date.now() / 1000 - 100;
  for (const f of ['bin/cli.js', 'vm/compile.js']) {
    writeFileSync(join(dist, f), `// ${f}`);
    utimesSync(join(dist, f), built, built);
  }
  if (stamp !== undefined) {
    writeFileSync(join(dist, 'build-id'), `${stamp}\n`);
    utimesSync(join(dist, 'build-id'), built - stampAge, built - stampAge);
  }
  return dist;
}

describe('the module cache\'s compiler identity', () => {
  it('is the build stamp when the build wrote it after the compiled files', () => {
    expect(compilerIdentityOf(fakeDist('abc'))).toBe('build:abc');
    expect(compilerIdentityOf(fakeDist('def'))).toBe('build:def');
  });

  it('falls back to the built files\' sizes and times when the stamp is missing or older than them', () => {
    const unstamped = fakeDist(undefined);
    const stale = fakeDist('abc', 10);   // tsc ran after the build that wrote the stamp
    for (const dist of [unstamped, stale]) expect(compilerIdentityOf(dist)).toMatch(/^[0-9a-f]{32}$/);
    // The fallback follows the files: rewriting one changes the identity.
    const before = compilerIdentityOf(unstamped);
    writeFileSync(join(unstamped, 'vm/compile.js'), '// changed');
    expect(compilerIdentityOf(unstamped)).not.toBe(before);
  });
});
