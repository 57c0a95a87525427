/**
 * libpcap filter expressions ("BPF expressions", pcap-filter(7)) → IR, with libpcap 1.10.3's
 * semantics packet for packet: accepted packets get `snaplen` (what libpcap's program
 * returns), rejected ones 0, and a load past the captured length rejects the packet at once,
 * in the order libpcap's generated code does its loads.
 */
import { c, DEFAULT_FUEL, type Expr, type Program, type Stmt } from '../ir/ir.js';
import { CompileError, makeDiagnostic, type Diagnostic } from '../diagnostics.js';
import { linkTypeInfo, linkTypeName } from '../ir/linktypes.js';
import { GenError, Generator, type Pred } from './gen.js';
import { ParseError, parseFilter } from './grammar.js';
import { LexError } from './lexer.js';
import { LimitError } from './nesting.js';
import type { NameResolver } from './names.js';
import { rejectsAll } from './reject-all.js';

export { systemResolver, tableResolver, type NameResolver } from './names.js';

export interface PcapFilterOptions {
  linkType: number;
  /** Value returned for accepted packets (libpcap returns the snaplen); default 262144. */
  snaplen?: number;
  /**
   * IPv4 netmask for `ip broadcast` (u32). Default 0, what tcpdump passes reading a file (the
   * broadcast address is then 0.0.0.0 or 255.255.255.255); 0xffffffff is libpcap's
   * PCAP_NETMASK_UNKNOWN, which makes `ip broadcast` an error.
   */
  netmask?: number;
  /**
   * Where the packets come from, for libpcap's rules that depend on it (default 'file'):
   * - 'file': a savefile, as `tcpdump -r` compiles. On NULL and LOOP links `ip6` accepts
   *   AF_INET6 = 24, 28 and 30 (BSD, FreeBSD, Darwin), and NULL's AF word is read in the
   *   file's byte order (`fileByteOrder`).
   * - 'live': a live device (and libpcap's pcap_open_dead): `ip6` is this platform's AF_INET6
   *   (10 on Linux), NULL's AF word in this host's byte order.
   */
  capture?: 'file' | 'live';
  /** Byte order of the capture file (its pcap header or pcapng section); default 'little'. */
  fileByteOrder?: 'little' | 'big';
  file?: string;
  /**
   * Where host, network and ether names come from; default: this machine's /etc/hosts,
   * /etc/networks and /etc/ethers (read at compile time; DNS is never asked).
   */
  resolver?: NameResolver;
}

export const DEFAULT_SNAPLEN = 262144;

/** Local that holds a predicate's value when it needs statements (protochain). */
const RESULT_LOCAL = 3;

export function compilePcapFilter(input: string, opts: PcapFilterOptions): { program: Program; warnings: Diagnostic[] } {
  const expr = typeof input === 'string' ? input : String(input);
  const fail = (offset: number, length: number, message: string, extra: { expected?: string[]; hint?: string } = {}): never => {
    throw new CompileError([makeDiagnostic(expr, 'error', offset, length, message, { file: opts.file, ...extra })], expr);
  };
  if (typeof input !== 'string') fail(0, 1, `the filter expression must be a string, not ${typeof input}`);
  if (!linkTypeInfo(opts.linkType)) {
    const names = [...new Set(['EN10MB (1)', 'RAW (101)', 'LINUX_SLL (113)', 'LINUX_SLL2 (276)', 'NULL (0)', 'LOOP (108)', 'IPV4 (228)', 'IPV6 (229)'])];
    fail(0, Math.max(1, expr.length), `libpcap filter expressions are not supported on link type ${linkTypeName(opts.linkType)}; supported: ${names.join(', ')}`);
  }
  if (opts.capture !== undefined && opts.capture !== 'file' && opts.capture !== 'live') fail(0, 1, `capture must be 'file' or 'live', not ${JSON.stringify(opts.capture)}`);
  if (opts.fileByteOrder !== undefined && opts.fileByteOrder !== 'little' && opts.fileByteOrder !== 'big') fail(0, 1, `fileByteOrder must be 'little' or 'big', not ${JSON.stringify(opts.fileByteOrder)}`);
  if (opts.netmask !== undefined && !(Number.isInteger(opts.netmask) && opts.netmask >= 0 && opts.netmask <= 0xffffffff)) fail(0, 1, `netmask must be a u32, not ${opts.netmask}`);
  const snaplen = (opts.snaplen ?? DEFAULT_SNAPLEN) >>> 0;
  let pred: Pred | undefined;
  let gen: Generator | undefined;
  let tree: ReturnType<typeof parseFilter>;
  try {
    tree = parseFilter(expr);
    if (tree) {
      gen = new Generator({ linkType: opts.linkType, netmask: opts.netmask ?? 0, resolver: opts.resolver,
        capture: opts.capture ?? 'file', fileByteOrder: opts.fileByteOrder ?? 'little' });
      pred = gen.node(tree, { undef: true }).b;
    }
  } catch (e) {
    if (e instanceof LexError) fail(e.offset, e.length, e.message);
    if (e instanceof ParseError) fail(e.offset, e.length, e.message, { expected: e.expected, ...(hintFor(expr, e.offset)) });
    if (e instanceof GenError) fail(e.span.offset, e.span.length, e.message);
    if (e instanceof LimitError) fail(e.offset, e.length, e.message);
    // Only absurd nesting (thousands of parentheses or `not`s) gets this deep; libpcap's parser stops too.
    if (e instanceof RangeError && /call stack/i.test(e.message)) fail(0, Math.max(1, expr.length), 'expression nested too deeply');
    throw e;
  }
  const warnings: Diagnostic[] = [];
  if (pred && rejectsAll(pred)) {
    warnings.push(makeDiagnostic(expr, 'warning', 0, Math.max(1, expr.length), 'expression rejects all packets',
      { file: opts.file, ...rejectAllHint(expr) }));
  }
  const body: Stmt = pred === undefined
    ? { k: 'return', value: c(snaplen) }
    : lowerPred(pred, snaplen);
  const program: Program = {
    body,
    linkType: opts.linkType,
    registers: gen?.usesLoop ? 1 : 0,
    memoryCells: 1,
    locals: pred && pred.k !== 'e' ? Math.max(gen!.localsUsed, RESULT_LOCAL + 1) : 0,
    externs: [],
    fuel: DEFAULT_FUEL,
    source: { language: 'pcap', text: expr, ...(opts.file ? { file: opts.file } : {}) },
  };
  return { program, warnings };
}

/** Why a filter that compiles can never match, for the classic cases (libpcap#600, #916). */
function rejectAllHint(expr: string): { hint?: string } {
  if (/\bip6\b/.test(expr) && /\b(tcp|udp|icmp|sctp|igmp|pim|vrrp)\s*\[/.test(expr)) {
    return { hint: 'tcp[], udp[] and icmp[] read IPv4 packets only; for IPv6 use ip6[40 + …] (no extension headers) or icmp6[]' };
  }
  if (/\b(vlan|mpls|pppoes|geneve)\b/.test(expr)) {
    return { hint: 'vlan, mpls, pppoes and geneve shift the offsets of everything after them, across and/or/not: test the encapsulation first (`vlan and ip`, `ip or (vlan and ip)`)' };
  }
  return {};
}

/** The classic mistake: a protocol keyword where a name is expected (`ip proto tcp`). */
function hintFor(expr: string, offset: number): { hint?: string } {
  const before = expr.slice(0, offset);
  const word = /^[A-Za-z0-9]+/.exec(expr.slice(offset))?.[0];
  if (word && /\bproto(chain)?\s*$/.test(before)) return { hint: `protocol keywords must be escaped here: \`\\${word}\`` };
  return {};
}

function lowerPred(p: Pred, snaplen: number): Stmt {
  if (p.k === 'e') return { k: 'return', value: { k: 'cond', c: p.e, a: c(snaplen), b: c(0) } };
  const result: Expr = { k: 'local', n: RESULT_LOCAL };
  return { k: 'seq', body: [evalInto(p), { k: 'return', value: { k: 'cond', c: result, a: c(snaplen), b: c(0) } }] };
}

/** Statements that leave a predicate's 0/1 value in the result local, short-circuiting like the expression forms. */
function evalInto(p: Pred): Stmt {
  const set = (value: Expr): Stmt => ({ k: 'setlocal', n: RESULT_LOCAL, value });
  const result: Expr = { k: 'local', n: RESULT_LOCAL };
  switch (p.k) {
    case 'e': return set(p.e);
    case 'stmt': return { k: 'seq', body: [p.s, set(p.e)] };
    case 'not': return { k: 'seq', body: [evalInto(p.a), set({ k: 'lnot', a: result })] };
    case 'and': return { k: 'seq', body: [evalInto(p.a), { k: 'if', cond: result, then: evalInto(p.b) }] };
    case 'or': return { k: 'seq', body: [evalInto(p.a), { k: 'if', cond: { k: 'lnot', a: result }, then: evalInto(p.b) }] };
  }
}

/** The primitives this front end compiles (for documentation), by group. */
export function supportedPrimitives(): { group: string; primitives: string[] }[] {
  return [
    { group: 'hosts and networks', primitives: ['[src|dst] host ADDR', 'ip|arp|rarp [src|dst] host ADDR', 'ip6 host ADDR6',
      '[src|dst] net A.B.C.D[/LEN]', 'net A.B.C.D mask M.M.M.M', 'net ADDR6/LEN', 'ether [src|dst] host MAC',
      'src and dst / src or dst qualifiers', 'qualifier inheritance: host a or b, host a and (b or c)',
      'host NAME (/etc/hosts: every IPv4 and IPv6 address)', 'net NAME (/etc/networks)', 'ether host NAME (/etc/ethers)',
      'decnet [src|dst|host] AREA.NODE'] },
    { group: 'ports', primitives: ['[tcp|udp|sctp] [src|dst] port N|NAME', '[tcp|udp|sctp] [src|dst] portrange A-B'] },
    { group: 'protocols', primitives: ['ip ip6 arp rarp tcp udp sctp icmp icmp6 igmp igrp pim vrrp carp ah esp',
      'atalk aarp decnet lat sca mopdl moprc iso esis isis clnp l1 l2 iih lsp snp csnp psnp stp ipx netbeui',
      'ip proto N|\\NAME', 'ip6 proto N', 'proto N', 'ether proto N|\\NAME', 'iso proto \\NAME',
      'ip protochain N', 'ip6 protochain N', 'protochain N'] },
    { group: 'link layer', primitives: ['ether broadcast|multicast', 'broadcast', 'multicast', 'ip broadcast (netmask option; 0 by default, as tcpdump -r)',
      'ip multicast', 'ip6 multicast', 'vlan [ID]', 'mpls [LABEL]', 'pppoed', 'pppoes [SESSION]', 'geneve [VNI]',
      'llc [i|s|u|rr|rnr|rej|ui|ua|disc|dm|sabme|test|xid|frmr]',
      'inbound/outbound (LINUX_SLL, LINUX_SLL2)', 'ifindex N (LINUX_SLL2)', 'byte N op V'] },
    { group: 'arithmetic', primitives: ['less N', 'greater N', 'len', 'PROTO[expr]', 'PROTO[expr:1|2|4]',
      '+ - * / % & | ^ << >> unary -', '> >= = == != < <=', 'named constants (tcpflags, tcp-syn, icmp-echo, icmp6-echo, …)'] },
  ];
}
