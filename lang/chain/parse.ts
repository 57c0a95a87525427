/** Flow-graph source → syntax tree (ast.ts), or a syntax error that says where and what was expected. */
import type * as ohm from 'ohm-js';
import { makeDiagnostic, type Diagnostic } from '../diagnostics.js';
import type { ChainArg, ChainElement, ChainNode, ChainPath, ChainValue, Span } from './ast.js';
import { chainGrammar } from './grammar.js';

const spanOf = (n: ohm.Node): Span => ({ off: n.source.startIdx, len: n.source.endIdx - n.source.startIdx });

/** `\"`, `\'` and `\\` are escapes; any other backslash stays (STR_SEARCH patterns use `\|`). */
function unquote(body: string): string {
  return body.replace(/\\(["'\\])/g, '$1');
}

let semantics: ohm.Semantics | undefined;

function chainSemantics(): ohm.Semantics {
  if (semantics) return semantics;
  semantics = chainGrammar().createSemantics().addOperation<any>('ast', {
    Graph(path, _end): ChainPath { return path['ast'](); },
    Path(first, connectors, rest): ChainPath {
      const others = rest.children;
      return {
        elements: [first['ast']() as ChainElement, ...others.map((e) => e['ast']() as ChainElement)],
        connectors: connectors.children.map((c) => ({ text: c.sourceString as '>' | '->', span: spanOf(c) })),
      };
    },
    Element(e): ChainElement { return e['ast'](); },
    Group(_open, first, _bars, rest, _close): ChainElement {
      return { k: 'group', paths: [first['ast']() as ChainPath, ...rest.children.map((p) => p['ast']() as ChainPath)], span: spanOf(this) };
    },
    Node(_open, cls, _commas, args, _close): ChainElement {
      const node: ChainNode = {
        className: cls.sourceString, classSpan: spanOf(cls), span: spanOf(this),
        args: args.children.map((opt) => {
          const arg = opt.children[0];
          if (arg) return arg['ast']() as ChainArg;
          // An empty argument: point just after the comma before it.
          const at = opt.source.startIdx;
          return { span: { off: at, len: 0 } };
        }),
      };
      return { k: 'node', node };
    },
    Arg_named(name, _eq, value): ChainArg { return { name: name.sourceString, value: value['ast']() as ChainValue, span: spanOf(this) }; },
    Arg_plain(value): ChainArg { return { value: value['ast']() as ChainValue, span: spanOf(this) }; },
    Value(v): ChainValue { return v['ast'](); },
    number_hex(_x, digits): ChainValue { return { kind: 'number', value: parseInt(digits.sourceString, 16), span: spanOf(this) }; },
    number_dec(_minus, _digits): ChainValue { return { kind: 'number', value: Number(this.sourceString), span: spanOf(this) }; },
    word(_chars): ChainValue { return { kind: 'word', value: this.sourceString, span: spanOf(this) }; },
    string(_open, chars, _close): ChainValue { return { kind: 'string', value: unquote(chars.sourceString), span: spanOf(this) }; },
  });
  return semantics;
}

function tokenAt(source: string, off: number): string {
  if (off >= source.length) return 'end of input';
  const word = /^[A-Za-z0-9_]+/.exec(source.slice(off, off + 64));
  if (word) return `"${word[0]}"`;
  return `"${source.startsWith('->', off) ? '->' : source[off]}"`;
}

function syntaxError(source: string, match: ohm.MatchResult, file?: string): Diagnostic {
  const m = match as unknown as { getRightmostFailurePosition(): number; getRightmostFailures(): { getText(): string; type: string; isFluffy(): boolean }[] };
  const pos = m.getRightmostFailurePosition();
  let items = [...new Set(m.getRightmostFailures().filter((f) => !f.isFluffy())
    .map((f) => (f.type === 'string' ? JSON.stringify(f.getText()) : f.getText())))]
    .filter((i) => !i.startsWith('not '));
  if (items.length > 1) items = items.filter((i) => i !== 'end of input');
  const found = tokenAt(source, pos);
  const list = items.length <= 1 ? items[0] ?? '' : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
  let message = list ? `expected ${list} but found ${found}` : `unexpected ${found}`;
  if ((source[pos] === '"' || source[pos] === "'") && !source.slice(pos + 1).split('\n')[0]!.includes(source[pos]!)) {
    message = `this string is not closed: expected ${source[pos]} on the same line`;
  }
  const extra = file !== undefined ? { file } : {};
  return makeDiagnostic(source, 'error', pos, found === 'end of input' ? 1 : found.length - 2, message, extra);
}

export type ChainParseResult = { ok: true; graph: ChainPath } | { ok: false; error: Diagnostic };

export function parseChain(source: string, file?: string): ChainParseResult {
  const match = chainGrammar().match(source);
  if (match.failed()) return { ok: false, error: syntaxError(source, match, file) };
  return { ok: true, graph: chainSemantics()(match)['ast']() as ChainPath };
}
