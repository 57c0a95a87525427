/**
 * The size limits of a libpcap expression (lang/ir/limits.ts), checked on its tokens before
 * anything recursive runs: the parser, the code generator and the passes recurse on nesting, so
 * an expression past a limit gets an error at the token that crosses it instead of a stack
 * overflow after seconds of work. `and`/`or` chains do not nest (they are parsed operand by
 * operand and joined as balanced trees); only their length is bounded.
 */
import { PCAP_MAX_OPERATOR_CHAIN, PCAP_MAX_PAREN_DEPTH, PCAP_MAX_TERMS } from '../ir/limits.js';
import type { Token } from './lexer.js';

const ARITH = new Set(['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>']);

export class LimitError extends Error {
  constructor(message: string, readonly offset: number, readonly length: number) { super(message); }
}

export function checkNesting(tokens: readonly Token[]): void {
  // `chain`: operators that nest on the current path (arithmetic, `not`), counted across the
  // parentheses around it; `base`: its value where the innermost open parenthesis began.
  let terms = 1, chain = 0, base = 0;
  const outer: number[] = [];
  for (const t of tokens) {
    const fail = (msg: string): never => { throw new LimitError(msg, t.offset, t.length); };
    const word = t.kind === 'kw' || t.kind === 'punct' ? t.text : '';
    if (word === 'and' || word === 'or') {
      if (++terms > PCAP_MAX_TERMS) fail(`more than ${PCAP_MAX_TERMS} terms joined by and/or (PCAP_MAX_TERMS)`);
      chain = base;
    } else if (word === '(') {
      if (outer.length >= PCAP_MAX_PAREN_DEPTH) fail(`parentheses nested more than ${PCAP_MAX_PAREN_DEPTH} deep (PCAP_MAX_PAREN_DEPTH)`);
      outer.push(base);
      base = chain;
    } else if (word === ')') {
      chain = base;
      base = outer.pop() ?? 0;
    } else if (ARITH.has(word) || word === 'not' || word === '!') {
      if (++chain > PCAP_MAX_OPERATOR_CHAIN) fail(`more than ${PCAP_MAX_OPERATOR_CHAIN} nested operators (arithmetic or \`not\`) (PCAP_MAX_OPERATOR_CHAIN)`);
    } else if (['>', '>=', '=', '<=', '<', '!='].includes(word)) {
      chain = base;
    }
  }
}
