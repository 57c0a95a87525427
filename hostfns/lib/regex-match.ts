/**
 * Runs a REGEXP automaton over bytes by simulating all its states at once (Thompson's
 * construction, as RE2 and Go do when they cannot use a DFA): each payload byte advances
 * every live state at most once, so a search costs O(bytes × instructions) whatever the
 * pattern — `(a+)+$` cannot backtrack. All arrays are allocated once per pattern; `test`
 * allocates nothing.
 */
import { isWordByte } from './regex-parse.js';
import {
  ASSERT_BOL, ASSERT_EOL, ASSERT_WORD, OP_ASSERT, OP_CONSUME, OP_JMP, OP_MATCH, OP_SPLIT,
  type RegexProgram,
} from './regex-compile.js';

const WORD = new Uint8Array(257); // indexed by byte + 1; -1 (outside the payload) is no word byte
for (let b = 0; b < 256; b++) WORD[b + 1] = isWordByte(b) ? 1 : 0;

export class RegexMatcher {
  private readonly op: Uint8Array;
  private readonly x: Int32Array;
  private readonly y: Int32Array;
  private readonly sets: Uint8Array;
  private current: Int32Array;
  private next: Int32Array;
  private count = 0;
  /** mark[pc] === generation: pc is already in the list being built. */
  private readonly mark: Uint32Array;
  private generation = 0;
  private readonly stack: Int32Array;
  /** A match can begin after the first byte (false when every path starts with `^`). */
  private readonly restarts: boolean;
  /** Bytes that can begin a match, or null when the empty string may match. */
  private readonly first: Uint8Array | null;

  constructor(program: RegexProgram) {
    ({ op: this.op, x: this.x, y: this.y, sets: this.sets } = program);
    const n = program.size;
    this.current = new Int32Array(n);
    this.next = new Int32Array(n);
    this.mark = new Uint32Array(n);
    this.stack = new Int32Array(n);
    const startsLater = this.reachableFromStart(false);
    this.restarts = startsLater.consumers.length > 0 || startsLater.matches;
    const any = this.reachableFromStart(true);
    if (any.matches) this.first = null;
    else {
      this.first = new Uint8Array(256);
      for (const pc of any.consumers) for (let b = 0; b < 256; b++) this.first[b] |= this.sets[this.x[pc]! + b]!;
    }
  }

  /** Does any substring of bytes[start, end) match? */
  test(bytes: Uint8Array, start: number, end: number): boolean {
    const { x, sets, first } = this;
    this.newList();
    for (let pos = start; ; pos++) {
      if (pos === start || this.restarts) {
        if (this.count === 0 && first !== null && first[bytes[pos]!] === 0) {
          while (pos < end && first[bytes[pos]!] === 0) pos++;
          if (pos === end) return false; // no empty match is possible, and no byte can begin one
          // The marks are of the closure at the old position, whose assertions may have failed there.
          this.newList();
        }
        if (this.addClosure(0, bytes, pos, start, end)) return true;
      }
      if (pos === end || this.count === 0 && !this.restarts) return false;
      const b = bytes[pos]!;
      const list = this.current, n = this.count;
      this.current = this.next; this.next = list;
      this.newList();
      for (let i = 0; i < n; i++) {
        const pc = list[i]!;
        if (sets[x[pc]! + b] === 1 && this.addClosure(pc + 1, bytes, pos + 1, start, end)) return true;
      }
    }
  }

  private newList(): void {
    this.count = 0;
    if (++this.generation === 0xffffffff) { this.mark.fill(0); this.generation = 1; }
  }

  /** Adds the consuming states reachable from pc at pos to the current list; true on a match. */
  private addClosure(pc0: number, bytes: Uint8Array, pos: number, start: number, end: number): boolean {
    const { op, x, y, mark, stack, current } = this;
    const gen = this.generation;
    let sp = 0;
    if (mark[pc0] === gen) return false;
    mark[pc0] = gen; stack[sp++] = pc0;
    while (sp > 0) {
      const pc = stack[--sp]!;
      switch (op[pc]) {
        case OP_CONSUME: current[this.count++] = pc; break;
        case OP_MATCH: return true;
        case OP_JMP: { const t = x[pc]!; if (mark[t] !== gen) { mark[t] = gen; stack[sp++] = t; } break; }
        case OP_SPLIT: {
          const b = y[pc]!, a = x[pc]!;
          if (mark[b] !== gen) { mark[b] = gen; stack[sp++] = b; }
          if (mark[a] !== gen) { mark[a] = gen; stack[sp++] = a; }
          break;
        }
        case OP_ASSERT: {
          const kind = x[pc]!;
          let ok: boolean;
          if (kind === ASSERT_BOL) ok = pos === start;
          else if (kind === ASSERT_EOL) ok = pos === end;
          else {
            const before = WORD[(pos > start ? bytes[pos - 1]! : -1) + 1]!;
            const after = WORD[(pos < end ? bytes[pos]! : -1) + 1]!;
            ok = (before !== after) === (kind === ASSERT_WORD);
          }
          if (ok && mark[pc + 1] !== gen) { mark[pc + 1] = gen; stack[sp++] = pc + 1; }
          break;
        }
      }
    }
    return false;
  }

  /**
   * The consuming states reachable from the start without a byte, and whether the match state
   * is; `^` passes only when `atStart`, other assertions are assumed to pass (over-approximation).
   */
  private reachableFromStart(atStart: boolean): { consumers: number[]; matches: boolean } {
    const seen = new Uint8Array(this.op.length), todo = [0], consumers: number[] = [];
    let matches = false;
    seen[0] = 1;
    while (todo.length) {
      const pc = todo.pop()!;
      const go = (t: number) => { if (!seen[t]) { seen[t] = 1; todo.push(t); } };
      switch (this.op[pc]) {
        case OP_CONSUME: consumers.push(pc); break;
        case OP_MATCH: matches = true; break;
        case OP_JMP: go(this.x[pc]!); break;
        case OP_SPLIT: go(this.x[pc]!); go(this.y[pc]!); break;
        case OP_ASSERT: if (atStart || this.x[pc] !== ASSERT_BOL) go(pc + 1); break;
      }
    }
    return { consumers, matches };
  }
}
