/**
 * The grammar of libpcap 1.10's filter language (grammar.y.in), in ohm. It runs over the
 * token stream of lexer.ts written out as words (keywords as themselves, NUM/HID/HID6/EID/
 * AID/ID as class names), so that lexing follows flex's longest-match rule exactly and the
 * grammar only sees tokens; positions map back to the source through the token table.
 *
 * Shapes that differ from C on purpose (grammar.y.in):
 * - `and` and `or` have equal precedence and associate left;
 * - `%` and `^` have no precedence declaration, so bison shifts: they take the operand just
 *   before them and everything after them (`a % 3 + 1` is `a % (3 + 1)`);
 * - an `id` after `and`/`or`/`not` inherits the last qualifiers (resolved in gen.ts).
 */
import type * as ohm from 'ohm-js';
import type { Arth, Id, Node, Qual, Span } from './ast.js';
import { loadGrammar } from '../grammar-recipe.js';
import { tokenize, type Token } from './lexer.js';
import { checkNesting } from './nesting.js';

const PNAMES = ['link', 'ip', 'arp', 'rarp', 'sctp', 'tcp', 'udp', 'icmp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp',
  'atalk', 'aarp', 'decnet', 'lat', 'sca', 'mopdl', 'moprc', 'ip6', 'icmp6', 'ah', 'esp', 'iso', 'esis', 'isis',
  'l1', 'l2', 'iih', 'lsp', 'snp', 'psnp', 'csnp', 'clnp', 'stp', 'ipx', 'netbeui', 'radio'];
/** Keywords of primitives for link types fplc does not compile for (ATM, SS7, pflog, 802.11). */
const FOREIGN = ['lane', 'metac', 'bcc', 'oam', 'oamf4', 'oamf4ec', 'oamf4sc', 'sc', 'ilmic', 'vpi', 'vci',
  'connectmsg', 'metaconnect', 'fisu', 'lssu', 'lsu', 'msu', 'hfisu', 'hlssu', 'hmsu', 'sio', 'opc', 'dpc', 'sls',
  'hsio', 'hopc', 'hdpc', 'hsls', 'on', 'rnr', 'srnr', 'rset', 'reason', 'action', 'type', 'subtype', 'dir'];
const OTHER_KW = ['src', 'dst', 'host', 'net', 'mask', 'port', 'portrange', 'proto', 'protochain', 'gateway', 'ra',
  'ta', 'addr1', 'addr2', 'addr3', 'addr4', 'less', 'greater', 'byte', 'broadcast', 'multicast', 'and', 'or', 'not',
  'len', 'inbound', 'outbound', 'ifindex', 'vlan', 'mpls', 'pppoed', 'pppoes', 'geneve', 'llc'];
const CLASSES = ['NUM', 'HID', 'HIDSIX', 'EID', 'AID', 'ID'];

const alt = (words: string[]) => words.map((w) => `k_${w}`).join(' | ');

export const PCAP_GRAMMAR_SOURCE = String.raw`
PcapFilter {
  Prog = Expr?
  Expr = Term ExprTail*
  ExprTail = (k_and | k_or) Operand
  Operand = Term | Id
  Not = k_not | "!" ~"="
  Term = Not Term  -- not
       | Head Id  -- head
       | Arth Relop Arth  -- rel
       | "(" Expr ")"  -- paren
       | Other
       | Pname  -- pname
  Head = Pname? Dqual Aqual  -- pda
       | Pname? Dqual  -- pd
       | Pname? Aqual  -- pa
       | Pname? k_proto  -- proto
       | Pname? k_protochain  -- protochain
       | Pname? k_gateway  -- gateway
  Dqual = k_src k_or k_dst  -- sord
        | k_dst k_or k_src  -- dors
        | k_src k_and k_dst  -- sandd
        | k_dst k_and k_src  -- dands
        | k_src | k_dst | k_addr1 | k_addr2 | k_addr3 | k_addr4 | k_ra | k_ta
  Aqual = k_host | k_net | k_port | k_portrange
  Pname = ${alt(PNAMES)}
  Id = Not Id  -- not
     | Nid
     | Pnum  -- num
     | "(" Pid ")"  -- paren
  Nid = k_HID "/" k_NUM  -- hidlen
      | k_HID k_mask k_HID  -- hidmask
      | k_HID  -- hid
      | k_HIDSIX "/" k_NUM  -- hid6len
      | k_HIDSIX  -- hid6
      | k_EID  -- eid
      | k_AID  -- aid
      | k_ID  -- name
  Pid = (Nid | Pnum) PidTail*
  PidTail = (k_and | k_or) Id
  Pnum = k_NUM  -- num
       | "(" Pnum ")"  -- paren
  Other = Pname? k_broadcast  -- broadcast
        | Pname? k_multicast  -- multicast
        | k_less k_NUM  -- less
        | k_greater k_NUM  -- greater
        | k_byte k_NUM Byteop k_NUM  -- byte
        | k_inbound  -- inbound
        | k_outbound  -- outbound
        | k_ifindex k_NUM  -- ifindex
        | (k_vlan | k_mpls | k_pppoes | k_geneve) Pnum  -- tagnum
        | (k_vlan | k_mpls | k_pppoes | k_geneve | k_pppoed)  -- tag
        | k_llc (k_ID | k_rnr)?  -- llc
        | Foreign (k_NUM | k_ID | k_HID)*  -- foreign
  Foreign = ${alt(FOREIGN)}
  Byteop = "&" | "|" | "<" | ">" | "="
  Relop = ">=" | "<=" | "!=" | ">" | "<" | "="
  Arth = Arth "|" AAnd  -- bin
       | AAnd
  AAnd = AAnd "&" AShift  -- bin
       | AShift
  AShift = AShift ("<<" | ">>") AAdd  -- bin
         | AAdd
  AAdd = AAdd ("+" | "-") AMul  -- bin
       | AMul
  AMul = AMul ("*" | "/") AUn  -- bin
       | AUn
  AUn = "-" AUn  -- neg
      | AMod
  AMod = APrim ("%" | "^") Arth  -- bin
       | APrim
  APrim = Pname "[" Arth ":" k_NUM "]"  -- loadsize
        | Pname "[" Arth "]"  -- load
        | k_len  -- len
        | "(" Arth ")"  -- paren
        | k_NUM  -- num
  wc = alnum | "_"
${[...PNAMES, ...FOREIGN, ...OTHER_KW, ...CLASSES].map((w) => `  k_${w} = "${w}" ~wc`).join('\n')}
}`;

let compiled: ohm.Grammar | undefined;
function grammar(): ohm.Grammar {
  compiled ??= loadGrammar('pcapfilter', PCAP_GRAMMAR_SOURCE);
  return compiled;
}

export class ParseError extends Error {
  constructor(message: string, readonly offset: number, readonly length: number, readonly expected?: string[]) { super(message); }
}

const CLASS_WORD: Record<string, string> = { NUM: 'NUM', HID: 'HID', HID6: 'HIDSIX', EID: 'EID', AID: 'AID', ID: 'ID' };

/**
 * Parses a filter expression; returns undefined for an empty one (which accepts every packet).
 * A chain of operands joined by top-level `and`/`or` (`host a or host b or …`) is parsed operand
 * by operand (parseOperands), so that a list of 10,000 terms of a few shapes is a few small ohm
 * matches; anything else, and any chain with an operand that does not parse, is parsed whole,
 * which gives the errors. `whole` forces that path (tests compare the two).
 */
export function parseFilter(src: string, opts: { whole?: boolean } = {}): Node | undefined {
  const tokens = tokenize(src);
  checkNesting(tokens);
  const operands = opts.whole ? undefined : splitChain(tokens);
  return (operands && parseOperands(src, tokens, operands)) ?? parseWhole(src, tokens);
}

/** The grammar's words for tokens (keywords and punctuation as themselves, other tokens by class) and where each starts. */
function encode(tokens: readonly Token[]): { enc: string; starts: number[] } {
  const starts: number[] = [];
  let enc = '';
  for (const t of tokens) {
    const w = t.kind === 'kw' || t.kind === 'punct' ? t.text : CLASS_WORD[t.kind];
    if (enc) enc += ' ';
    starts.push(enc.length);
    enc += w;
  }
  return { enc, starts };
}

/** Runs the `ast` operation over a match of `tokens` (the semantic actions read the tokens through `parsing`). */
function astOf(m: ohm.MatchResult, src: string, tokens: Token[], starts: number[]): unknown {
  const tokenAt = new Map<number, Token>();
  starts.forEach((s, i) => tokenAt.set(s, tokens[i]!));
  parsing = { src, tokens, starts, tokenAt };
  try {
    return astSemantics(grammar())(m).ast();
  } finally {
    parsing = undefined;
  }
}

function parseWhole(src: string, tokens: Token[]): Node | undefined {
  const { enc, starts } = encode(tokens);
  const m = matchEncoded(grammar(), enc);
  if (m.failed()) {
    const pos = m.getRightmostFailurePosition();
    const i = starts.findIndex((s) => s >= pos);
    const bad = i < 0 ? undefined : tokens[i];
    const offset = bad ? bad.offset : src.length;
    const what = bad ? `'${src.slice(bad.offset, bad.offset + bad.length)}'` : 'end of the expression';
    throw new ParseError(`syntax error: unexpected ${what}`, offset, bad ? bad.length : 1, expectedFrom(m));
  }
  return astOf(m, src, tokens, starts) as Node | undefined;
}

interface Operand { from: number; to: number; op?: 'and' | 'or' }

const isKw = (t: Token | undefined, ...words: string[]) => t !== undefined && t.kind === 'kw' && words.includes(t.text);

/**
 * The operands of a top-level chain `T and|or T …` (token ranges, each with the operator before
 * it), or undefined when there is no chain of two or more. The grammar's only `and`/`or` outside
 * parentheses and brackets that is not an operator of the chain is a direction qualifier's
 * (`src or dst`, `dst and src`), between two direction keywords. Unbalanced parentheses or an
 * empty operand: undefined (the whole parse reports them).
 */
function splitChain(tokens: readonly Token[]): Operand[] | undefined {
  const out: Operand[] = [];
  let depth = 0, from = 0, op: Operand['op'];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'punct') {
      if (t.text === '(' || t.text === '[') depth++;
      else if (t.text === ')' || t.text === ']') { if (--depth < 0) return undefined; }
      continue;
    }
    if (depth > 0 || !isKw(t, 'and', 'or')) continue;
    if (isKw(tokens[i - 1], 'src', 'dst') && isKw(tokens[i + 1], 'src', 'dst')) continue;
    if (i === from) return undefined;
    out.push({ from, to: i, ...(op ? { op } : {}) });
    op = t.text as 'and' | 'or';
    from = i + 1;
  }
  if (depth !== 0 || from >= tokens.length || out.length === 0) return undefined;
  out.push({ from, to: tokens.length, op });
  return out;
}

/**
 * The chain parsed operand by operand — the first as a Term, the others as an Operand (Term or
 * Id), as Expr's rules take them — and joined left to right as Expr's action joins them; undefined
 * if an operand does not parse. Operands of one shape share one match (matchEncoded).
 */
function parseOperands(src: string, tokens: readonly Token[], operands: readonly Operand[]): Node | undefined {
  let acc: Node | undefined;
  for (const { from, to, op } of operands) {
    const part = tokens.slice(from, to);
    const { enc, starts } = encode(part);
    const m = matchEncoded(grammar(), enc, op ? 'Operand' : 'Term');
    if (m.failed()) return undefined;
    const r = astOf(m, src, part, starts) as Node;
    acc = acc && op ? { t: 'bool', op, l: acc, r, span: { offset: acc.span.offset, length: r.span.offset + r.span.length - acc.span.offset } } : r;
  }
  return acc;
}

/**
 * Recent successful matches by token encoding. The grammar sees token classes, not values, so
 * `tcp dst port 1` … `tcp dst port 10000` (a MAPI device's flows) are one match, which the
 * semantic actions read with each expression's own tokens: one ohm parse instead of 10,000.
 */
const recentMatches = new Map<string, ohm.MatchResult>();
const RECENT_MATCHES = 32;
/** Longer encodings are not kept (a match holds memo tables in proportion to its input). */
const RECENT_MATCH_MAX_CHARS = 512;

function matchEncoded(g: ohm.Grammar, enc: string, rule = 'Prog'): ohm.MatchResult {
  const key = `${rule} ${enc}`;
  const hit = recentMatches.get(key);
  if (hit) {
    recentMatches.delete(key);   // most recently used last
    recentMatches.set(key, hit);
    return hit;
  }
  const m = g.match(enc, rule);
  if (m.succeeded() && enc.length <= RECENT_MATCH_MAX_CHARS) {
    recentMatches.set(key, m);
    if (recentMatches.size > RECENT_MATCHES) recentMatches.delete(recentMatches.keys().next().value!);
  }
  return m;
}

/** What the semantic actions need of the parse in progress (the semantics are built once, not per parse). */
let parsing: { src: string; tokens: Token[]; starts: number[]; tokenAt: Map<number, Token> } | undefined;
let semantics: ohm.Semantics | undefined;

/** Index of the first token starting at or after `pos` (binary search: spans stay O(log n) on huge filters). */
function tokenIndexFrom(pos: number): number {
  const { starts } = parsing!;
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! < pos) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Source span of a CST node: from its first token to the end of its last token. */
function spanOf(node: ohm.Node): Span {
  const { src, tokens } = parsing!;
  const { startIdx, endIdx } = node.source;
  const first = tokenIndexFrom(startIdx);
  const last = Math.max(first, tokenIndexFrom(endIdx) - 1);
  if (first >= tokens.length) return { offset: src.length, length: 1 };
  const a = tokens[first]!;
  const b = tokens[Math.max(first, last)]!;
  return { offset: a.offset, length: b.offset + b.length - a.offset };
}

const tok = (node: ohm.Node): Token => parsing!.tokenAt.get(node.source.startIdx)!;
const kwName = (node: ohm.Node): string => node.sourceString;

function astSemantics(g: ohm.Grammar): ohm.Semantics {
  if (semantics) return semantics;
  semantics = g.createSemantics();
  semantics.addOperation('ast', {
    Prog(e) { return e.numChildren ? e.child(0).ast() : undefined; },
    Expr(first, tails) {
      let acc = first.ast() as Node;
      for (const t of tails.children) {
        const op = t.child(0).sourceString as 'and' | 'or';
        const r = t.child(1).ast() as Node | Id;
        acc = { t: 'bool', op, l: acc, r, span: { offset: acc.span.offset, length: r.span.offset + r.span.length - acc.span.offset } };
      }
      return acc;
    },
    Term_not(_n, e) { return { t: 'not', e: e.ast(), span: spanOf(this) }; },
    Term_head(h, id) { return { t: 'head', q: h.ast(), id: id.ast(), span: spanOf(this) }; },
    Term_rel(a, op, b) { return { t: 'rel', op: op.sourceString, a: a.ast(), b: b.ast(), span: spanOf(this) }; },
    Term_paren(_l, e, _r) { return { t: 'paren', e: e.ast(), span: spanOf(this) }; },
    Term_pname(p) { return { t: 'pname', name: kwName(p), span: spanOf(this) }; },
    Head_pda(p, d, a) { return { proto: optName(p), dir: d.ast(), addr: kwName(a) } as Qual; },
    Head_pd(p, d) { return { proto: optName(p), dir: d.ast() } as Qual; },
    Head_pa(p, a) { return { proto: optName(p), addr: kwName(a) } as Qual; },
    Head_proto(p, _k) { return { proto: optName(p), addr: 'proto' } as Qual; },
    Head_protochain(p, _k) { return { proto: optName(p), addr: 'protochain' } as Qual; },
    Head_gateway(p, _k) { return { proto: optName(p), addr: 'gateway' } as Qual; },
    Dqual(k) {
      const s = k.sourceString.replace(/\s+/g, ' ');
      return s === 'src or dst' || s === 'dst or src' ? 'or' : s === 'src and dst' || s === 'dst and src' ? 'and' : s;
    },
    Id_not(_n, e) { return { t: 'idnot', e: e.ast(), span: spanOf(this) }; },
    Id_num(p) { return { t: 'idnum', v: p.ast(), span: spanOf(this) }; },
    Id_paren(_l, e, _r) { return { t: 'idparen', e: e.ast(), span: spanOf(this) }; },
    Nid_hidlen(h, _s, n) { return { t: 'hid', s: tok(h).text, masklen: tok(n).value, span: spanOf(this) }; },
    Nid_hidmask(h, _m, m) { return { t: 'hid', s: tok(h).text, mask: tok(m).text, span: spanOf(this) }; },
    Nid_hid(h) { return { t: 'hid', s: tok(h).text, span: spanOf(this) }; },
    Nid_hid6len(h, _s, n) { return { t: 'hid6', s: tok(h).text, masklen: tok(n).value, span: spanOf(this) }; },
    Nid_hid6(h) { return { t: 'hid6', s: tok(h).text, span: spanOf(this) }; },
    Nid_eid(h) { return { t: 'eid', s: tok(h).text, span: spanOf(this) }; },
    Nid_aid(h) { return { t: 'aid', s: tok(h).text, span: spanOf(this) }; },
    Nid_name(h) { return { t: 'idname', s: tok(h).text, span: spanOf(this) }; },
    Pid(first, tails) {
      const f = first.ast();
      let acc: Id = typeof f === 'number' ? { t: 'idnum', v: f, span: spanOf(first) } : f;
      for (const t of tails.children) {
        const r = t.child(1).ast() as Id;
        acc = { t: 'idbool', op: t.child(0).sourceString as 'and' | 'or', l: acc, r, span: { offset: acc.span.offset, length: r.span.offset + r.span.length - acc.span.offset } };
      }
      return acc;
    },
    Pnum_num(n) { return tok(n).value; },
    Pnum_paren(_l, p, _r) { return p.ast(); },
    Other_broadcast(p, _k) { return { t: 'other', kind: 'broadcast', pqual: optName(p), span: spanOf(this) }; },
    Other_multicast(p, _k) { return { t: 'other', kind: 'multicast', pqual: optName(p), span: spanOf(this) }; },
    Other_less(_k, n) { return { t: 'other', kind: 'less', num: tok(n).value, span: spanOf(this) }; },
    Other_greater(_k, n) { return { t: 'other', kind: 'greater', num: tok(n).value, span: spanOf(this) }; },
    Other_byte(_k, n, op, v) { return { t: 'other', kind: 'byte', num: tok(n).value, name: `${op.sourceString} ${tok(v).value}`, span: spanOf(this) }; },
    Other_inbound(_k) { return { t: 'other', kind: 'inbound', span: spanOf(this) }; },
    Other_outbound(_k) { return { t: 'other', kind: 'outbound', span: spanOf(this) }; },
    Other_ifindex(_k, n) { return { t: 'other', kind: 'ifindex', num: tok(n).value, span: spanOf(this) }; },
    Other_tagnum(k, p) { return { t: 'other', kind: k.sourceString, num: p.ast(), span: spanOf(this) }; },
    Other_tag(k) { return { t: 'other', kind: k.sourceString, span: spanOf(this) }; },
    Other_llc(_k, a) {
      const name = a.numChildren ? (a.child(0).sourceString === 'rnr' ? 'rnr' : tok(a.child(0)).text) : undefined;
      return { t: 'other', kind: 'llc', name, span: spanOf(this) };
    },
    Other_foreign(k, _a) { return { t: 'other', kind: 'foreign', name: k.sourceString, span: spanOf(this) }; },
    Arth_bin(a, op, b) { return arthBin(a, op, b, spanOf(this)); },
    AAnd_bin(a, op, b) { return arthBin(a, op, b, spanOf(this)); },
    AShift_bin(a, op, b) { return arthBin(a, op, b, spanOf(this)); },
    AAdd_bin(a, op, b) { return arthBin(a, op, b, spanOf(this)); },
    AMul_bin(a, op, b) { return arthBin(a, op, b, spanOf(this)); },
    AMod_bin(a, op, b) { return arthBin(a, op, b, spanOf(this)); },
    AUn_neg(_m, a) { return { t: 'neg', a: a.ast(), span: spanOf(this) }; },
    APrim_loadsize(p, _l, i, _c, n, _r) {
      return { t: 'load', proto: kwName(p), index: i.ast(), size: tok(n).value!, span: spanOf(this), sizeSpan: spanOf(n) } as Arth;
    },
    APrim_load(p, _l, i, _r) { return { t: 'load', proto: kwName(p), index: i.ast(), size: 1, span: spanOf(this) } as Arth; },
    APrim_len(_k) { return { t: 'len', span: spanOf(this) }; },
    APrim_paren(_l, a, _r) { return a.ast(); },
    APrim_num(n) { return { t: 'num', v: tok(n).value!, span: spanOf(this) }; },
    _terminal() { return this.sourceString; },
    _iter(...children) { return children.map((c) => c.ast()); },
  });
  return semantics;
}

function optName(opt: ohm.Node): string | undefined {
  return opt.numChildren ? opt.child(0).sourceString : undefined;
}

function arthBin(a: ohm.Node, op: ohm.Node, b: ohm.Node, span: Span): Arth {
  return { t: 'bin', op: op.sourceString as never, a: a.ast(), b: b.ast(), span };
}

/** A short list of what the parser would have accepted, in the language's own words. */
function expectedFrom(m: ohm.MatchResult): string[] | undefined {
  try {
    const text: string = (m as unknown as { shortMessage?: string }).shortMessage ?? '';
    const i = text.indexOf('Expected ');
    if (i < 0) return undefined;
    const items = text.slice(i + 9).replace(/"|\bk_/g, '').split(/, | or /).map((s: string) => s.trim()).filter(Boolean);
    const pretty: string[] = [...new Set(items.map((s: string) => (s === 'HIDSIX' ? 'an IPv6 address' : s === 'HID' ? 'an IPv4 address' : s === 'NUM' ? 'a number' : s === 'ID' ? 'a name' : s === 'EID' ? 'a MAC address' : s)))];
    return pretty.length && pretty.length <= 12 ? pretty : undefined;
  } catch {
    return undefined;
  }
}
