/**
 * The results table of a bench run: each benchmark adds rows (fplc's figure, the peer's figure
 * measured in the same run, the ratio and the goal), and `--readme` writes them into README.md
 * between the `bench-results` markers, with the machine and the date.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { libpcapAvailable, libpcapVersion } from '../drivers/libpcap.js';

export interface ResultRow {
  /** P1 … P5, start-up. */
  bench: string;
  /** What was measured ("tcp dst port 80", "1,000 hosts", …). */
  subject: string;
  fplc: string;
  peer: string;
  /** The figure the goal is stated in (e.g. "0.31× libpcap"), and the goal itself. */
  ratio: string;
  goal: string;
}

export class Results {
  readonly rows: ResultRow[] = [];
  add(row: ResultRow): void { this.rows.push(row); }

  markdown(): string {
    const lines = [
      `Measured by \`npm run bench -- --readme\` on ${new Date().toISOString().slice(0, 10)}: ${machine()}.`,
      '',
      '| bench | subject | fplc | peer (same run) | ratio | goal |',
      '|---|---|---|---|---|---|',
      ...this.rows.map((r) => `| ${[r.bench, r.subject, r.fplc, r.peer, r.ratio, r.goal].map(cell).join(' | ')} |`),
    ];
    return lines.join('\n');
  }
}

/** A table cell: a `|` (in an expression) would end the cell. */
const cell = (text: string): string => text.replaceAll('|', '\\|');

export const BEGIN = '<!-- bench-results:begin -->';
export const END = '<!-- bench-results:end -->';

/** Replaces the text between the markers in `readme` (which must contain both, in order). */
export function writeReadmeTable(readme: string, table: string): void {
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(BEGIN), b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${readme} has no ${BEGIN} … ${END} section`);
  writeFileSync(readme, `${text.slice(0, a + BEGIN.length)}\n${table}\n${text.slice(b)}`);
}

function machine(): string {
  const cpu = cpus();
  const parts = [`${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`, `Node ${process.versions.node}`];
  if (libpcapAvailable()) parts.push(libpcapVersion().split(' (')[0]!);
  try {
    parts.push(execFileSync('tcpdump', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!);
  } catch { /* no tcpdump */ }
  return parts.join('; ');
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
