/**
 * The FPL syntax tree: what the parser produces and the checker/lowering consumes. Every node
 * keeps the span of source text it came from, for diagnostics.
 */

/** A piece of the source: 0-based offset and length. */
export interface Span { off: number; len: number }

export type BinaryOperator =
  | '||' | '&&' | '|' | '^' | '&' | '==' | '!=' | '<' | '<=' | '>' | '>='
  | '<<' | '>>' | '+' | '-' | '*' | '/' | '%';

export type UnaryOperator = '!' | '~' | '-';

export type AssignOperator = '=' | '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>=';

export interface StringLiteral { k: 'str'; value: string; span: Span }

export type AstExpr =
  /** `text` as written; the value is checked (fits in u32) by the lowering. */
  | { k: 'num'; text: string; span: Span }
  | { k: 'bool'; value: boolean; span: Span }
  | { k: 'name'; name: string; span: Span }
  /** `opSpan` is the operator, `span` the whole expression. */
  | { k: 'bin'; op: BinaryOperator; a: AstExpr; b: AstExpr; opSpan: Span; span: Span }
  | { k: 'unary'; op: UnaryOperator; a: AstExpr; span: Span }
  | { k: 'reg'; index: AstExpr; span: Span }
  | { k: 'mem'; index: AstExpr; span: Span }
  /** PKT.name, PKT.name[index], PKT.name[index].sub[subIndex]. */
  | { k: 'pkt'; name: string; nameSpan: Span; index?: AstExpr;
      sub?: { name: string; nameSpan: Span; index: AstExpr }; span: Span }
  | { k: 'hash'; off: AstExpr; len: AstExpr; range: AstExpr; span: Span }
  | { k: 'extern'; name: string; nameSpan: Span; args: (AstExpr | StringLiteral)[]; span: Span };

export type LValue = Extract<AstExpr, { k: 'reg' | 'mem' }>;

/** `target op value`, or `target++` / `target--` (no value). */
export interface AssignNode {
  k: 'assign';
  target: LValue;
  op: AssignOperator | '++' | '--';
  opSpan: Span;
  value?: AstExpr;
  span: Span;
}

export type AstStmt =
  /** `closed` is false when the IF ran into the end of input without its FI. */
  | { k: 'if'; cond: AstExpr; then: AstStmt[]; else?: AstStmt[]; closed: boolean; span: Span }
  | { k: 'for'; init: AssignNode; cond: AstExpr; update: AssignNode; body: AstStmt[]; span: Span }
  | { k: 'break'; span: Span }
  | { k: 'return'; value: AstExpr; span: Span }
  | { k: 'call'; call: Extract<AstExpr, { k: 'extern' }>; span: Span }
  | AssignNode;
