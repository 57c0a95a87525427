/**
 * A REGEXP syntax tree → a Thompson automaton as flat typed arrays: per instruction an opcode
 * and two operands. CONSUME's x is the offset of its byte set in `sets` (256 entries of 0/1,
 * shared between equal sets); SPLIT goes to x and y; JMP to x; ASSERT checks kind x.
 * Counted repetition is expanded, so the size is bounded before anything is emitted.
 */
import { REGEX_MAX_INSTRUCTIONS } from '../../lang/ir/limits.js';
import type { RegexNode } from './regex-parse.js';

export const OP_CONSUME = 0, OP_SPLIT = 1, OP_JMP = 2, OP_ASSERT = 3, OP_MATCH = 4;
export const ASSERT_BOL = 0, ASSERT_EOL = 1, ASSERT_WORD = 2, ASSERT_NONWORD = 3;
const ASSERT_KIND = { bol: ASSERT_BOL, eol: ASSERT_EOL, word: ASSERT_WORD, nonword: ASSERT_NONWORD } as const;

export interface RegexProgram {
  size: number;
  op: Uint8Array;
  x: Int32Array;
  y: Int32Array;
  sets: Uint8Array;
}

export class RegexTooLargeError extends Error {}

/** Instructions `node` compiles to (a float: it may be far past any limit). */
export function programSize(node: RegexNode): number {
  switch (node.k) {
    case 'set': case 'assert': return 1;
    case 'empty': return 0;
    case 'cat': return node.items.reduce((n, it) => n + programSize(it), 0);
    case 'alt': return node.items.reduce((n, it) => n + programSize(it), 0) + 2 * (node.items.length - 1);
    case 'rep': {
      const body = programSize(node.node);
      return body * node.min + (node.max === -1 ? body + 2 : (node.max - node.min) * (body + 1));
    }
  }
}

export function compileProgram(root: RegexNode): RegexProgram {
  const size = programSize(root) + 1;
  if (size > REGEX_MAX_INSTRUCTIONS) {
    throw new RegexTooLargeError(`the pattern expands to ${size > 1e9 ? 'over 10^9' : Math.ceil(size)} automaton instructions, more than REGEX_MAX_INSTRUCTIONS (${REGEX_MAX_INSTRUCTIONS}); lower the {m,n} counts`);
  }
  const op = new Uint8Array(size), x = new Int32Array(size), y = new Int32Array(size);
  const setIndex = new Map<string, number>();
  const setList: Uint8Array[] = [];
  let n = 0;
  const emit = (o: number, a = 0, b = 0) => { op[n] = o; x[n] = a; y[n] = b; return n++; };
  const setOffset = (bytes: Uint8Array) => {
    const key = Buffer.from(bytes).toString('latin1');
    let k = setIndex.get(key);
    if (k === undefined) { k = setList.length * 256; setIndex.set(key, k); setList.push(bytes); }
    return k;
  };
  const gen = (node: RegexNode): void => {
    switch (node.k) {
      case 'set': emit(OP_CONSUME, setOffset(node.bytes)); return;
      case 'assert': emit(OP_ASSERT, ASSERT_KIND[node.what]); return;
      case 'empty': return;
      case 'cat': for (const it of node.items) gen(it); return;
      case 'alt': {
        const jumps: number[] = [];
        node.items.forEach((it, i) => {
          if (i === node.items.length - 1) { gen(it); return; }
          const split = emit(OP_SPLIT, n + 1);
          gen(it);
          jumps.push(emit(OP_JMP));
          y[split] = n;
        });
        for (const j of jumps) x[j] = n;
        return;
      }
      case 'rep': {
        for (let i = 0; i < node.min; i++) gen(node.node);
        if (node.max === -1) {
          const split = emit(OP_SPLIT, n + 1);
          gen(node.node);
          emit(OP_JMP, split);
          y[split] = n;
          return;
        }
        const splits: number[] = [];
        for (let i = node.min; i < node.max; i++) { splits.push(emit(OP_SPLIT, n + 1)); gen(node.node); }
        for (const s of splits) y[s] = n;
        return;
      }
    }
  };
  gen(root);
  emit(OP_MATCH);
  const sets = new Uint8Array(setList.length * 256);
  setList.forEach((s, i) => sets.set(s, i * 256));
  return { size: n, op, x, y, sets };
}
