/** Syntax tree of a flow graph (grammar.ts). Spans are 0-based offsets into the source. */
export interface Span { off: number; len: number }

export type ChainValue =
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'number'; value: number; span: Span }
  | { kind: 'word'; value: string; span: Span };

export interface ChainArg {
  /** `name=value` (the FFPF `expr=` form); undefined for a plain argument. */
  name?: string;
  /** Undefined for an empty argument, as in `(packetcount,,8)`. */
  value?: ChainValue;
  span: Span;
}

export interface ChainNode {
  className: string;
  classSpan: Span;
  args: ChainArg[];
  span: Span;
}

export type ChainElement =
  | { k: 'node'; node: ChainNode }
  | { k: 'group'; paths: ChainPath[]; span: Span };

export interface ChainPath {
  elements: ChainElement[];
  connectors: { text: '>' | '->'; span: Span }[];
}
