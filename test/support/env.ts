/**
 * What the test machine has. Tests that need an external tool or the corpus skip loudly when
 * it is missing — except under CI=true, where a missing requirement is a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The tcpdump capture corpus: $FPLC_CORPUS, else ../shared/corpus/tcpdump-tests beside the
 * project (the team's layout), else the same under /work.
 */
export const corpusDir = [process.env.FPLC_CORPUS, resolve(projectRoot, '../shared/corpus/tcpdump-tests'), '/work/shared/corpus/tcpdump-tests']
  .find((d): d is string => !!d && existsSync(d)) ?? resolve(projectRoot, '../shared/corpus/tcpdump-tests');
export const inCI = process.env.CI === 'true';

function has(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const haveTcpdump = has('tcpdump', ['--version']);
export const haveTshark = has('tshark', ['--version']);
export const haveCorpus = existsSync(corpusDir);

/**
 * Returns true when the requirement is met. When it is not: under CI it throws (the suite
 * fails); elsewhere it warns once and returns false so the caller can skip.
 */
export function requires(what: string, ok: boolean): boolean {
  if (ok) return true;
  if (inCI) throw new Error(`test requirement missing under CI: ${what}`);
  console.warn(`SKIPPED: ${what} is not available on this machine`);
  return false;
}

/**
 * Skips the running test visibly (`ctx.skip`, reported as skipped with the reason) when a tool
 * or data set is missing; under CI a missing one fails the test instead.
 */
export function need(ctx: { skip(note?: string): void }, what: string, ok: boolean): void {
  if (ok) return;
  if (inCI) throw new Error(`test requirement missing under CI: ${what}`);
  ctx.skip(`${what} is not available on this machine`);
}
