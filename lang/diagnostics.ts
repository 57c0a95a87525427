/**
 * Diagnostics shared by every front end: a position in a source, a message, what was
 * expected, and a formatter that prints `file:line:col: error: message`, the source line and
 * a caret under the offending text.
 */
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  message: string;
  /** 0-based character offset into the source and length of the offending text (>= 1 for a caret run). */
  offset: number;
  length?: number;
  /** 1-based line and column, derived from offset. */
  line: number;
  col: number;
  file?: string;
  /** What the parser would have accepted here, e.g. ['"THEN"', 'an expression']. */
  expected?: string[];
  /** A hint for a classic mistake ("did you mean `ip proto \\tcp`?"). */
  hint?: string;
}

export function lineCol(source: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(Math.max(offset, 0), source.length);
  for (let i = 0; i < end; i++) {
    if (source.charCodeAt(i) === 10) { line++; start = i + 1; }
  }
  return { line, col: end - start + 1 };
}

export function makeDiagnostic(source: string, severity: Severity, offset: number, length: number,
  message: string, extra: { file?: string; expected?: string[]; hint?: string } = {}): Diagnostic {
  const { line, col } = lineCol(source, offset);
  return { severity, message, offset, length: Math.max(1, length), line, col, ...extra };
}

/** `file:line:col: severity: message`, the source line, a caret line, then expected/hint lines. */
export function formatDiagnostic(d: Diagnostic, source: string): string {
  const where = `${d.file ?? '<input>'}:${d.line}:${d.col}`;
  const lines = source.split('\n');
  const text = (lines[d.line - 1] ?? '').replace(/\t/g, ' ').replace(/\r$/, '');
  const { excerpt, caretAt } = excerptAround(text, d.col - 1);
  // ~ under the rest of the token, as far as the excerpt shows it.
  const marked = Math.max(1, Math.min(d.length ?? 1, excerpt.length - caretAt));
  const out = [`${where}: ${d.severity}: ${d.message}`, `  ${excerpt}`, `  ${' '.repeat(caretAt)}^${'~'.repeat(marked - 1)}`];
  if (d.expected?.length) out.push(`  expected ${d.expected.join(', ')}`);
  if (d.hint) out.push(`  hint: ${d.hint}`);
  return out.join('\n');
}

/** Source lines longer than this are shown as an excerpt around the column (a 1,000-host list is one line). */
export const EXCERPT_COLUMNS = 100;
/** How much of the line before the column an excerpt keeps. */
const EXCERPT_BEFORE = 40;

/** The part of `text` shown under a diagnostic at 0-based column `at`, `…` where it was cut, and where the caret goes in it. */
function excerptAround(text: string, at: number): { excerpt: string; caretAt: number } {
  if (text.length <= EXCERPT_COLUMNS) return { excerpt: text, caretAt: at };
  const from = Math.max(0, Math.min(at - EXCERPT_BEFORE, text.length - EXCERPT_COLUMNS));
  const to = Math.min(text.length, from + EXCERPT_COLUMNS);
  const head = from > 0 ? '…' : '';
  return { excerpt: `${head}${text.slice(from, to)}${to < text.length ? '…' : ''}`, caretAt: at - from + head.length };
}

/** Thrown by front ends; carries every error found (and the warnings seen so far). */
export class CompileError extends Error {
  constructor(readonly diagnostics: Diagnostic[], readonly source: string) {
    super(diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d, source)).join('\n'));
    this.name = 'CompileError';
  }
}
