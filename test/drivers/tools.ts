/** Locating the corpus and external oracles (tcpdump, tshark) for the driver tests. */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { corpusDir } from '../support/env.js';

export const CORPUS = corpusDir;
export const inCI = process.env.CI === 'true';

export function hasTool(name: string, arg = '--version'): boolean {
  const r = spawnSync(name, [arg], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Whether a test that needs `what` can run: it must in CI; elsewhere a missing piece is a loud skip.
 */
export function available(what: string, present: boolean): boolean {
  if (present) return true;
  if (inCI) throw new Error(`${what} is required in CI but missing`);
  console.warn(`SKIPPED: ${what} is missing`);
  return false;
}

export const corpusPresent = () => existsSync(CORPUS);

/** Runs a command, resolving with its stdout, stderr and exit code (never rejects). */
export function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((done) => {
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
    });
  });
}

/** Runs jobs with at most `width` in flight. */
export async function pool<T, R>(items: T[], width: number, job: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) { const i = next++; out[i] = await job(items[i]); }
  }));
  return out;
}
