/**
 * The scanner of libpcap 1.10's filter language (scanner.l), rule for rule: at each position
 * every rule is tried, the longest match wins and a tie goes to the rule listed first — flex's
 * rule. That decides the odd cases the same way libpcap does: `len-4` is one name, `10.1.2.3x`
 * is a name, `012345670123` is a MAC address, `tcp-syn` is a keyword but `tcp-syx` a name.
 */

export type TokenKind =
  | 'kw'      // keyword (text holds the canonical keyword)
  | 'punct'   // operator or bracket (text holds it)
  | 'NUM' | 'HID' | 'HID6' | 'EID' | 'AID' | 'ID';

export interface Token {
  kind: TokenKind;
  /** Canonical keyword / punctuation, or the lexeme (an escaped ID without its backslash). */
  text: string;
  /** Value of NUM tokens (u32). */
  value?: number;
  offset: number;
  length: number;
}

export class LexError extends Error {
  constructor(message: string, readonly offset: number, readonly length: number) { super(message); }
}

/** Keyword spellings → canonical keyword (the grammar's terminal). */
const KEYWORDS: Record<string, string> = {};
function kw(canon: string, ...spellings: string[]): void {
  for (const s of [canon, ...spellings]) KEYWORDS[s] = canon;
}
kw('dst'); kw('src');
kw('link', 'ether', 'ppp', 'slip', 'fddi', 'tr', 'wlan');
for (const k of ['arp', 'rarp', 'ip', 'sctp', 'tcp', 'udp', 'icmp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp', 'radio',
  'ip6', 'icmp6', 'ah', 'esp', 'atalk', 'aarp', 'decnet', 'lat', 'sca', 'moprc', 'mopdl', 'iso', 'l1', 'l2', 'iih',
  'lsp', 'snp', 'csnp', 'psnp', 'clnp', 'stp', 'ipx', 'netbeui', 'host', 'net', 'port', 'portrange', 'proto',
  'protochain', 'gateway', 'type', 'subtype', 'ra', 'ta', 'less', 'greater', 'broadcast', 'multicast',
  'inbound', 'outbound', 'ifindex', 'vlan', 'mpls', 'pppoed', 'pppoes', 'geneve', 'lane', 'llc', 'metac', 'bcc',
  'oam', 'oamf4', 'oamf4ec', 'oamf4sc', 'sc', 'ilmic', 'vpi', 'vci', 'connectmsg', 'metaconnect', 'reason',
  'action', 'fisu', 'lssu', 'lsu', 'msu', 'hfisu', 'hlssu', 'hmsu', 'sio', 'opc', 'dpc', 'sls', 'hsio', 'hopc',
  'hdpc', 'hsls']) kw(k);
kw('esis', 'es-is'); kw('isis', 'is-is');
kw('mask'); kw('dir', 'direction');
kw('addr1', 'address1'); kw('addr2', 'address2'); kw('addr3', 'address3'); kw('addr4', 'address4');
kw('byte'); kw('and', '&&'); kw('or', '||'); kw('not'); kw('len', 'length');
kw('on', 'ifname'); kw('rset', 'ruleset'); kw('rnr', 'rulenum'); kw('srnr', 'subrulenum');

/** Keywords that stand for numbers (scanner.l returns NUM for them). */
export const NAMED_NUMBERS: Record<string, number> = {
  icmptype: 0, icmpcode: 1,
  'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5, 'icmp-echo': 8,
  'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11, 'icmp-paramprob': 12,
  'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15, 'icmp-ireqreply': 16, 'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  icmp6type: 0, icmp6code: 1,
  'icmp6-destinationunreach': 1, 'icmp6-packettoobig': 2, 'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4, 'icmp6-echo': 128, 'icmp6-echoreply': 129,
  'icmp6-multicastlistenerquery': 130, 'icmp6-multicastlistenerreportv1': 131,
  'icmp6-multicastlistenerdone': 132, 'icmp6-routersolicit': 133, 'icmp6-routeradvert': 134,
  'icmp6-neighborsolicit': 135, 'icmp6-neighboradvert': 136, 'icmp6-redirect': 137,
  'icmp6-routerrenum': 138, 'icmp6-nodeinformationquery': 139, 'icmp6-nodeinformationresponse': 140,
  'icmp6-ineighbordiscoverysolicit': 141, 'icmp6-ineighbordiscoveryadvert': 142,
  'icmp6-multicastlistenerreportv2': 143, 'icmp6-homeagentdiscoveryrequest': 144,
  'icmp6-homeagentdiscoveryreply': 145, 'icmp6-mobileprefixsolicit': 146, 'icmp6-mobileprefixadvert': 147,
  'icmp6-certpathsolicit': 148, 'icmp6-certpathadvert': 149, 'icmp6-multicastrouteradvert': 151,
  'icmp6-multicastroutersolicit': 152, 'icmp6-multicastrouterterm': 153,
  tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10,
  'tcp-urg': 0x20, 'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

const B = '[0-9A-Fa-f][0-9A-Fa-f]?';
const B2 = '(?:[0-9A-Fa-f]{4})';
const N = '(?:0[xX][0-9A-Fa-f]+|[0-9]+)';
const MAC = `(?:${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|${B2}{3})`;

/** `first`: the characters a match can begin with (a superset is safe; see RULES_AT). */
type Rule = { re: RegExp; first: RegExp; kind: 'skip' | 'punct' | 'AID' | 'EID' | 'NUM' | 'HID' | 'HID6' | 'BOGUSMAC' | 'ID' | 'ESCID' | 'CHAR' };
const rx = (s: string) => new RegExp(s, 'y');
const HEX = /[0-9A-Fa-f]/, DIGIT = /[0-9]/;

// In scanner.l order (keywords are matched separately, before all of these).
const RULES: Rule[] = [
  { re: rx('[ \\r\\n\\t]+'), first: /[ \r\n\t]/, kind: 'skip' },
  { re: rx('>=|<=|!=|==|<<|>>|[+\\-*/%:\\[\\]!<>()&|^=]'), first: /[-+*/%:[\]!<>()&|^=]/, kind: 'punct' },
  { re: rx(`\\$${B}`), first: /\$/, kind: 'AID' },
  { re: rx(MAC), first: HEX, kind: 'EID' },
  { re: rx(N), first: DIGIT, kind: 'NUM' },
  { re: rx(`${N}\\.${N}(?:\\.${N}(?:\\.${N})?)?`), first: DIGIT, kind: 'HID' },
  { re: rx('[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*'), first: /[0-9A-Fa-f:.]/, kind: 'HID6' },
  { re: rx(`${B}:+(?:${B}:+)+`), first: HEX, kind: 'BOGUSMAC' },
  { re: rx('[A-Za-z0-9][-_.A-Za-z0-9]*'), first: /[A-Za-z0-9]/, kind: 'ID' },
  { re: rx('\\\\[^ !()\\n\\t]+'), first: /\\/, kind: 'ESCID' },
  { re: rx('[^]'), first: /[^]/, kind: 'CHAR' },
];

const KEYWORD_RE = rx('[A-Za-z0-9][-_.A-Za-z0-9]*|&&|\\|\\|');
const KEYWORD_FIRST = /[A-Za-z0-9&|]/;

/**
 * For each ASCII character, the rules (in order) whose matches can begin with it: a token is
 * tried against those alone (a 10,000-term list has ~30,000 tokens; all eleven rules at each
 * cost ~1 µs a token). Other characters try every rule.
 */
const RULES_AT: Rule[][] = Array.from({ length: 128 }, (_, c) => RULES.filter((r) => r.first.test(String.fromCharCode(c))));
const KEYWORD_AT: boolean[] = Array.from({ length: 128 }, (_, c) => KEYWORD_FIRST.test(String.fromCharCode(c)));

/** Parses a textual IPv6 address (with an optional embedded IPv4 tail) into 16 bytes, or undefined. */
export function parseIPv6(s: string): Uint8Array | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.split('::').length > 2) return undefined;
  let tail4: number[] = [];
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > 0) {
    const v4 = s.slice(lastColon + 1).split('.');
    if (v4.length !== 4 || v4.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    tail4 = v4.map(Number);
    text = s.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const groupsWanted = tail4.length ? 6 : 8;
  const parseGroups = (part: string) => (part === '' ? [] : part.split(':'));
  let groups: string[];
  if (text.includes('::')) {
    const [h, t] = text.split('::');
    const head = parseGroups(h);
    const tail = parseGroups(t);
    const fill = groupsWanted - head.length - tail.length;
    if (fill < 1) return undefined;
    groups = [...head, ...Array(fill).fill('0'), ...tail];
  } else {
    groups = parseGroups(text);
    if (groups.length !== groupsWanted) return undefined;
  }
  if (groups.some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); out[2 * i] = v >> 8; out[2 * i + 1] = v & 0xff; });
  if (tail4.length) out.set(tail4, 12);
  return out;
}

/** libpcap's stou: decimal, 0x hex or 0 octal, at most 32 bits. */
function numberValue(s: string, offset: number): number {
  let base = 10;
  let digits = s;
  if (s[0] === '0' && s.length > 1) {
    if (s[1] === 'x' || s[1] === 'X') { base = 16; digits = s.slice(2); } else { base = 8; digits = s.slice(1); }
  }
  let n = 0;
  for (const ch of digits) {
    const d = parseInt(ch, 16);
    if (base === 8 && d > 7) throw new LexError(`number ${s} contains non-octal digit`, offset, s.length);
    n = n * base + d;
    if (n > 0xffffffff) throw new LexError(`number ${s} overflows 32 bits`, offset, s.length);
  }
  return n;
}

/** `allRules`: try every rule at every position (the reference the character table must agree with; tests). */
export function tokenize(src: string, allRules = false): Token[] {
  const out: Token[] = [];
  let pos = 0;
  while (pos < src.length) {
    const c = src.charCodeAt(pos);
    const rules = allRules || c >= 128 ? RULES : RULES_AT[c]!;
    // Keywords come first in scanner.l: they win ties against every other rule.
    let best: { len: number; rule?: Rule; keyword?: string } = { len: 0 };
    KEYWORD_RE.lastIndex = pos;
    const km = allRules || c >= 128 || KEYWORD_AT[c] ? KEYWORD_RE.exec(src) : null;
    if (km) {
      // A keyword matches only its exact spelling; the longest keyword prefix of the name run counts.
      for (let l = km[0].length; l > 0; l--) {
        const cand = km[0].slice(0, l);
        if (KEYWORDS[cand] !== undefined || NAMED_NUMBERS[cand] !== undefined) { best = { len: l, keyword: cand }; break; }
      }
    }
    for (const rule of rules) {
      rule.re.lastIndex = pos;
      const m = rule.re.exec(src);
      if (!m) continue;
      let len = m[0].length;
      if (rule.kind === 'HID6') {
        // The V6 patterns of scanner.l: take the longest prefix that is a valid IPv6 address.
        while (len > 0 && !(src.slice(pos, pos + len).split(':').length > 2 && parseIPv6(src.slice(pos, pos + len)))) len--;
      }
      if (len > best.len) best = { len, rule };
    }
    const text = src.slice(pos, pos + best.len);
    const offset = pos;
    pos += best.len;
    if (best.keyword !== undefined) {
      const k = best.keyword;
      if (NAMED_NUMBERS[k] !== undefined) out.push({ kind: 'NUM', text: k, value: NAMED_NUMBERS[k], offset, length: k.length });
      else out.push({ kind: 'kw', text: KEYWORDS[k], offset, length: k.length });
      continue;
    }
    const rule = best.rule!;
    switch (rule.kind) {
      case 'skip': break;
      case 'punct': out.push({ kind: 'punct', text: text === '==' ? '=' : text, offset, length: text.length }); break;
      case 'NUM': out.push({ kind: 'NUM', text, value: numberValue(text, offset), offset, length: text.length }); break;
      case 'AID': case 'EID': case 'HID': case 'HID6': case 'ID':
        out.push({ kind: rule.kind, text, offset, length: text.length }); break;
      case 'ESCID': out.push({ kind: 'ID', text: text.slice(1), offset, length: text.length }); break;
      case 'BOGUSMAC': throw new LexError(`bogus ethernet address ${text}`, offset, text.length);
      case 'CHAR': throw new LexError(`illegal character '${text}'`, offset, 1);
    }
  }
  return out;
}
