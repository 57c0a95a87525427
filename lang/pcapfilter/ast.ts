/** The parsed form of a libpcap filter expression (grammar.y.in's shapes, with source spans). */

export interface Span { offset: number; length: number }

/** Qualifier values (grammar.y.in's Q_*): `undefined` = Q_DEFAULT. */
export interface Qual {
  proto?: string;   // a pname keyword: 'ip', 'tcp', 'link', …
  dir?: 'src' | 'dst' | 'or' | 'and' | 'addr1' | 'addr2' | 'addr3' | 'addr4' | 'ra' | 'ta';
  addr?: 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'protochain' | 'gateway';
  /** qerr: the context after a primitive that carries no qualifiers (an ID there is an error). */
  undef?: boolean;
}

export type Arth =
  | { t: 'num'; v: number; span: Span }
  | { t: 'len'; span: Span }
  | { t: 'load'; proto: string; index: Arth; size: number; span: Span; sizeSpan?: Span }
  | { t: 'bin'; op: '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>'; a: Arth; b: Arth; span: Span }
  | { t: 'neg'; a: Arth; span: Span };

/** What follows a head (or inherits the last qualifiers): grammar.y.in's `id`. */
export type Id =
  | { t: 'idnum'; v: number; span: Span }
  | { t: 'idname'; s: string; span: Span }
  | { t: 'hid'; s: string; masklen?: number; mask?: string; span: Span }
  | { t: 'hid6'; s: string; masklen?: number; span: Span }
  | { t: 'eid'; s: string; span: Span }
  | { t: 'aid'; s: string; span: Span }
  | { t: 'idnot'; e: Id; span: Span }
  | { t: 'idbool'; op: 'and' | 'or'; l: Id; r: Id; span: Span }
  | { t: 'idparen'; e: Id; span: Span };

export type Node =
  | { t: 'bool'; op: 'and' | 'or'; l: Node; r: Node | Id; span: Span }
  | { t: 'not'; e: Node; span: Span }
  | { t: 'head'; q: Qual; id: Id; span: Span }
  | { t: 'paren'; e: Node; span: Span }
  | { t: 'pname'; name: string; span: Span }
  | { t: 'rel'; op: '>' | '>=' | '=' | '<=' | '<' | '!='; a: Arth; b: Arth; span: Span }
  | { t: 'other'; kind: string; pqual?: string; num?: number; name?: string; span: Span };

export const ID_KINDS: ReadonlySet<string> = new Set(['idnum', 'idname', 'hid', 'hid6', 'eid', 'aid', 'idnot', 'idbool', 'idparen']);
export const isId = (n: Node | Id): n is Id => ID_KINDS.has(n.t);
