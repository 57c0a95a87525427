import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXCERPT_COLUMNS, formatDiagnostic, type Diagnostic } from '../../lang/diagnostics.js';

/** A diagnostic at line:col; `offset` is where that is in the source (formatDiagnostic goes by line and column). */
const diag = (line: number, col: number, length = 1, offset = col - 1): Diagnostic => ({ severity: 'error', message: 'bad', offset, line, col, length });

/** The excerpt and caret lines of a formatted diagnostic. */
function shown(d: Diagnostic, source: string): { excerpt: string; caret: string } {
  const [, excerpt, caret] = formatDiagnostic(d, source).split('\n');
  return { excerpt: excerpt!.slice(2), caret: caret!.slice(2) };
}

describe('diagnostics', () => {
  it('show a short line whole, the caret under the column and ~ under the rest of the token', () => {
    const { excerpt, caret } = shown(diag(2, 10, 5, 12), 'ip\ntcp port 99999 or udp');
    expect(excerpt).toBe('tcp port 99999 or udp');
    expect(caret).toBe('         ^~~~~');
    expect(formatDiagnostic(diag(2, 10, 5, 12), 'ip\ntcp port 99999').split('\n')[0]).toBe('<input>:2:10: error: bad');
  });

  it('show a long line as an excerpt around the column, the caret still under the token', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 8 }), (before, after, len) => {
      const line = `${'a'.repeat(before)}${'X'.repeat(len)}${'b'.repeat(after)}`;
      const { excerpt, caret } = shown(diag(1, before + 1, len), line);
      expect(excerpt.length).toBeLessThanOrEqual(Math.max(line.length, EXCERPT_COLUMNS + 2));
      const at = caret.indexOf('^');
      // The caret marks the token's first character, and ~ follows it only over the token.
      expect(excerpt[at]).toBe('X');
      expect(caret.slice(at)).toMatch(/^\^~*$/);
      for (let i = at; i < caret.length; i++) expect(excerpt[i]).toBe('X');
      if (line.length > EXCERPT_COLUMNS) {
        expect(excerpt.startsWith('…')).toBe(before > 40);
        expect(excerpt.endsWith('…')).toBe(excerpt.replace(/…/g, '').length < line.length && !line.endsWith(excerpt.replace(/^…/, '')));
      } else {
        expect(excerpt).toBe(line);
      }
    }));
  });
});
