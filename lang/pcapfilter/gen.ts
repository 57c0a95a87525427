/**
 * Lowering of a parsed filter expression to IR, mirroring libpcap 1.10.3's gencode.c function
 * by function. The order in which gencode.c joins blocks (gen_and(b0, b1) runs b0 first, so
 * does gen_or) is the order of the loads here, because a load past the captured length ends
 * the whole filter with 0: the verdict on truncated packets depends on it.
 *
 * Offset state (off_linktype, off_linkpl, off_linkhdr, off_nl, MPLS depth) is global and
 * changes as primitives are generated in source order, as in libpcap: `vlan`, `mpls`, `pppoes`
 * and `geneve` shift everything generated after them. An offset has a constant part and, after
 * `geneve`, a variable part held in an IR local (libpcap keeps it in a scratch register): the
 * locals are set by statements that run when the geneve test matches, and every later load
 * adds them, exactly where libpcap's code does `ldx M[r]; ld [x + k]`.
 */
import { bin, c, field, land, lnot, lor, load, type Expr, type Stmt, type FieldName } from '../ir/ir.js';
import { fieldDef } from '../ir/fields.js';
import { linkTypeInfo } from '../ir/linktypes.js';
import type { Arth, Id, Node, Qual, Span } from './ast.js';
import { isId } from './ast.js';
import { parseIPv6 } from './lexer.js';
import { ETHER_PROTOS, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, LLC_S_SUBTYPES, LLC_SAPS, LLC_U_SUBTYPES, nameToPort, nameToPortRange,
  nameToProto, PROTO_UNDEF, systemResolver, type NameResolver } from './names.js';

export class GenError extends Error {
  constructor(message: string, readonly span: Span) { super(message); }
}

/** A predicate: an IR expression (0/1), or — for protochain's loop — statements then a test. */
export type Pred =
  | { k: 'e'; e: Expr }
  | { k: 'and' | 'or'; a: Pred; b: Pred }
  | { k: 'not'; a: Pred }
  | { k: 'stmt'; s: Stmt; e: Expr };

const P = (e: Expr): Pred => ({ k: 'e', e });
const TRUE = P(c(1));
const FALSE = P(c(0));
function and(a: Pred, b: Pred): Pred {
  return a.k === 'e' && b.k === 'e' ? P(land(a.e, b.e)) : { k: 'and', a, b };
}
function or(a: Pred, b: Pred): Pred {
  return a.k === 'e' && b.k === 'e' ? P(lor(a.e, b.e)) : { k: 'or', a, b };
}
function not(a: Pred): Pred {
  return a.k === 'e' ? P(lnot(a.e)) : { k: 'not', a };
}
/**
 * Joins a run of predicates with one operator as a balanced tree. Short-circuit `and`/`or`
 * are associative including their evaluation order and faults, so this is the left-to-right
 * chain libpcap builds, without a tree as deep as the chain is long.
 */
export function joinBalanced(op: 'and' | 'or', items: readonly Pred[], lo = 0, hi = items.length): Pred {
  if (hi - lo === 1) return items[lo];
  const mid = (lo + hi) >>> 1;
  const a = joinBalanced(op, items, lo, mid);
  const b = joinBalanced(op, items, mid, hi);
  return op === 'and' ? and(a, b) : or(a, b);
}

/** An offset in the frame: a constant part plus, after `geneve`, a variable part in local `v`. */
interface Off { k: number; v?: number }
const TRUE_WITH = (s: Stmt): Pred => ({ k: 'stmt', s, e: c(1) });
const local = (n: number): Expr => ({ k: 'local', n });
const setLocal = (n: number, value: Expr): Stmt => ({ k: 'setlocal', n, value });

const ETHERMTU = 1500;
const ETHERTYPE = { IP: 0x800, ARP: 0x806, REVARP: 0x8035, IPV6: 0x86dd, ATALK: 0x809b, AARP: 0x80f3, IPX: 0x8137,
  DN: 0x6003, SCA: 0x6007, LAT: 0x6004, MOPDL: 0x6001, MOPRC: 0x6002, MPLS: 0x8847, PPPOED: 0x8863, PPPOES: 0x8864,
  VLAN: 0x8100, QINQ_AD: 0x88a8, QINQ: 0x9100, TEB: 0x6558 };
const GENEVE_PORT = 6081;
/** BPF_MEMWORDS: libpcap keeps geneve's variable offsets in these scratch registers. */
const BPF_MEMWORDS = 16;
const LLCSAP = { IP: 0x06, ISONS: 0xfe, NETBEUI: 0xf0, IPX: 0xe0, STP: 0x42 };
const ISO = { ESIS: 0x82, ISIS: 0x83, CLNP: 0x81 };
const PPP_TYPES: Record<number, number> = { [ETHERTYPE.IP]: 0x21, [ETHERTYPE.IPV6]: 0x57, [ETHERTYPE.DN]: 0x27,
  [ETHERTYPE.ATALK]: 0x29, [LLCSAP.ISONS]: 0x23, [LLCSAP.STP]: 0x31, [LLCSAP.IPX]: 0x2b, 0x0600: 0x25 };
const IPPROTO = { ICMP: 1, IGMP: 2, IGRP: 9, PIM: 103, VRRP: 112, ICMPV6: 58, AH: 51, ESP: 50, FRAGMENT: 44 };

/** AF_ values in DLT_NULL/DLT_LOOP headers (libpcap's BSD_AFNUM_*; Linux's AF_INET6 for live captures). */
const AF_INET = 2;
const AF_INET6_BSD = 24;
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;
const AF_INET6_LINUX = 10;
const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const bswap32 = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

interface Compiled { e: Expr; guard?: Pred; firstImm?: number }

export interface GenOptions {
  linkType: number;
  netmask?: number;
  resolver?: NameResolver;
  /** A savefile (default) or a live capture: see PcapFilterOptions.capture. */
  capture?: 'file' | 'live';
  fileByteOrder?: 'little' | 'big';
}

export class Generator {
  private readonly dlt: number;
  private linkMode: 'ether' | 'sll' | 'sll2' | 'raw' | 'null' | 'loop' | 'ipv4' | 'ipv6' | 'ppp';
  private offLinktype: Off | undefined;
  private offLinkpl: Off;
  private offNl = 0;
  /** off_linkhdr: where `link[]`/`ether[]` and MAC addresses start (moves after pppoes and geneve). */
  private offLinkhdr: Off = { k: 0 };
  private offNlNosnap = 0;
  private labelDepth = 0;
  /** After `geneve`: the link header is the (possible) inner Ethernet header (is_geneve). */
  private isGeneve = false;
  private readonly baseL3: number;
  private readonly baseLinktype: number | undefined;
  private readonly resolver: NameResolver;
  /** Set when protochain needs its loop register. */
  usesLoop = false;
  /** Locals used: 0: A, 1: X, 2: scratch (protochain), 3: the result (index.ts), then geneve's offsets. */
  localsUsed = 4;
  /** libpcap's scratch registers taken by geneve offsets (it fails past BPF_MEMWORDS). */
  private registersTaken = 0;
  private span: Span = { offset: 0, length: 1 };

  constructor(private readonly opts: GenOptions) {
    this.dlt = opts.linkType;
    const lt = linkTypeInfo(this.dlt);
    if (!lt) throw new GenError(`link type ${this.dlt} is not supported`, this.span);
    const modes: Record<string, Generator['linkMode']> = { EN10MB: 'ether', LINUX_SLL: 'sll', LINUX_SLL2: 'sll2', RAW: 'raw', NULL: 'null', LOOP: 'loop', IPV4: 'ipv4', IPV6: 'ipv6' };
    this.linkMode = modes[lt.name];
    this.offLinkpl = { k: lt.l3 };
    const ltype = this.linkMode === 'null' || this.linkMode === 'loop' ? 0 : lt.ethertype;
    this.offLinktype = ltype === undefined ? undefined : { k: ltype };
    this.resolver = opts.resolver ?? systemResolver();
    if (this.linkMode === 'ether') this.offNlNosnap = 3;
    this.baseL3 = lt.l3;
    this.baseLinktype = lt.ethertype;
  }

  private fail(msg: string, span = this.span): never {
    throw new GenError(msg, span);
  }

  // ---- loads --------------------------------------------------------------------------

  /** The constant part of the network header's offset (off_linkpl + off_nl). */
  private get l3(): number { return this.offLinkpl.k + this.offNl; }

  /** A load at `off + rel`: absolute, or `[x + k]` with x the offset's variable part. */
  private at(off: Off, rel: number, size: 1 | 2 | 4): Expr {
    return off.v === undefined ? load(off.k + rel, size) : load(bin('add', local(off.v), c(off.k + rel)), size);
  }
  /** An indexed accessor load `[ix + var + k]` (bpf_filter faults instead of wrapping at 2^32 in `x + k`). */
  private indexedAt(ix: Expr, off: Off, k: number, size: 1 | 2 | 4): Expr {
    return this.indexed(off.v === undefined ? ix : bin('add', ix, local(off.v)), off.k + k, size);
  }
  /** Loads relative to the network header (OR_LINKPL + off_nl). */
  private nl(rel: number, size: 1 | 2 | 4): Expr { return this.at(this.offLinkpl, this.offNl + rel, size); }
  private get fixedOffsets(): boolean { return this.linkMode !== 'ppp' && this.offLinkpl.v === undefined && !this.isGeneve; }

  /** OR_LINKPL: relative to the network header. */
  private pl(rel: number, size: 1 | 2 | 4, name?: FieldName): Expr {
    // A named field where it reads exactly these bytes (fields.ts), so a splitter can see it.
    if (name && this.fixedOffsets && this.l3 >= this.baseL3) return field(name, this.l3 - this.baseL3);
    // Otherwise (after pppoes or geneve) a plain load that reads what the field reads, its shift
    // and mask included: `ip4.fragoff` is the low 13 bits, not the DF/MF flags beside them.
    const def = name ? fieldDef(name) : undefined;
    let e = this.nl(rel, size);
    if (def?.shr) e = bin('shr', e, c(def.shr));
    if (def?.mask !== undefined) e = bin('and', e, c(def.mask));
    return e;
  }
  /** OR_LINKTYPE. */
  private lt(rel: number, size: 1 | 2 | 4): Expr {
    const off = this.offLinktype!;
    if (rel === 0 && size === 2 && this.baseLinktype !== undefined && this.fixedOffsets && off.v === undefined && off.k >= this.baseLinktype) {
      return field('link.type', off.k - this.baseLinktype);
    }
    return this.at(off, rel, size);
  }
  /** OR_LINKHDR: relative to the link-layer header (MAC addresses, `link[]`). */
  private lh(rel: number, size: 1 | 2 | 4): Expr { return this.at(this.offLinkhdr, rel, size); }
  private cmp(e: Expr, v: number): Pred { return P(bin('eq', e, c(v))); }
  private mcmp(e: Expr, v: number, mask: number): Pred {
    return mask >>> 0 === 0xffffffff ? this.cmp(e, v) : P(bin('eq', bin('and', e, c(mask)), c(v)));
  }
  /** gen_loadx_iphdrlen: X = 4*(L3[0]&0xf), plus the variable part of off_linkpl if there is one. */
  private ihl(): Expr {
    const len = bin('mul', bin('and', this.nl(0, 1), c(0xf)), c(4));
    return this.offLinkpl.v === undefined ? len : bin('add', len, local(this.offLinkpl.v));
  }
  /** OR_TRAN_IPV4: a transport-header field (libpcap's IPv4 rule). */
  private tran4(rel: number, size: 1 | 2 | 4): Expr {
    if (size === 2 && (rel === 0 || rel === 2) && this.fixedOffsets && this.l3 >= this.baseL3) {
      return field(rel === 0 ? 'l4v4.sport' : 'l4v4.dport', this.l3 - this.baseL3);
    }
    return load(bin('add', this.ihl(), c(this.l3 + rel)), size);
  }
  private tran6(rel: number, size: 1 | 2 | 4): Expr {
    if (size === 2 && (rel === 0 || rel === 2) && this.fixedOffsets && this.l3 >= this.baseL3) {
      return field(rel === 0 ? 'l4v6.sport' : 'l4v6.dport', this.l3 - this.baseL3);
    }
    return this.nl(40 + rel, size);
  }
  /** An indexed load `[X + k]`: bpf_filter faults instead of wrapping when X + k passes 2^32. */
  private indexed(ix: Expr, k: number, size: 1 | 2 | 4): Expr {
    if (ix.k === 'const') return ix.v + k > 0xffffffff ? FAULT : load(ix.v + k, size);
    if (k === 0) return load(ix, size);
    return { k: 'cond', c: bin('gt', ix, c(0xffffffff - k)), a: FAULT, b: load(bin('add', ix, c(k)), size) };
  }

  // ---- link layer ---------------------------------------------------------------------

  linktype(proto: number): Pred {
    if (this.labelDepth > 0) {
      if (proto === ETHERTYPE.IP || proto === 0x21) return and(this.mcmp(this.nl(-2, 1), 1, 1), this.mcmp(this.nl(0, 1), 0x40, 0xf0));
      if (proto === ETHERTYPE.IPV6 || proto === 0x57) return and(this.mcmp(this.nl(-2, 1), 1, 1), this.mcmp(this.nl(0, 1), 0x60, 0xf0));
      this.fail('unsupported protocol over mpls');
    }
    switch (this.linkMode) {
      case 'ether': return this.etherLinktype(proto);
      case 'sll': return this.sllLinktype(proto);
      case 'sll2': return this.cmp(this.lt(0, 2), proto);
      case 'ppp': return this.cmp(this.lt(0, 2), PPP_TYPES[proto] ?? proto);
      case 'raw':
        if (proto === ETHERTYPE.IP) return this.mcmp(load(0, 1), 0x40, 0xf0);
        if (proto === ETHERTYPE.IPV6) return this.mcmp(load(0, 1), 0x60, 0xf0);
        return FALSE;
      case 'ipv4': return proto === ETHERTYPE.IP ? TRUE : FALSE;
      case 'ipv6': return proto === ETHERTYPE.IPV6 ? TRUE : FALSE;
      case 'null': case 'loop':
        if (proto === ETHERTYPE.IP) return this.loopbackAf(AF_INET);
        if (proto !== ETHERTYPE.IPV6) return FALSE;
        // AF_INET6 differs between systems. Reading a file, libpcap accepts the BSD, FreeBSD and
        // Darwin values (in this order); live, only the platform's own (Linux: 10).
        if (this.opts.capture === 'live') return this.loopbackAf(AF_INET6_LINUX);
        return or(this.loopbackAf(AF_INET6_DARWIN), or(this.loopbackAf(AF_INET6_BSD), this.loopbackAf(AF_INET6_FREEBSD)));
    }
  }

  /**
   * gen_loopback_linktype: DLT_LOOP's AF word is big-endian; DLT_NULL's is in the byte order of
   * the host that wrote it — for a file, the file's byte order (libpcap swaps the constant when
   * the file is swapped), live, this host's.
   */
  private loopbackAf(af: number): Pred {
    if (this.linkMode === 'loop') return this.cmp(load(0, 4), af);
    const little = this.opts.capture === 'live' ? HOST_LITTLE_ENDIAN : this.opts.fileByteOrder !== 'big';
    return this.cmp(load(0, 4), little ? bswap32(af) : af);
  }

  private not8023(): Pred { return not(P(bin('gt', this.lt(0, 2), c(ETHERMTU)))); }
  private llc(rel: number, size: 1 | 2 | 4): Expr { return this.at(this.offLinkpl, rel, size); }
  /** gen_snap: an 8-byte SNAP header at OR_LLC, compared last word first (gen_bcmp). */
  private snap(orgcode: number, ptype: number): Pred {
    const w0 = ((0xaa << 24) | (0xaa << 16) | (0x03 << 8) | ((orgcode >>> 16) & 0xff)) >>> 0;
    const w1 = ((((orgcode >>> 8) & 0xff) << 24) | ((orgcode & 0xff) << 16) | ptype) >>> 0;
    return and(this.cmp(this.llc(4, 4), w1), this.cmp(this.llc(0, 4), w0));
  }

  private etherLinktype(proto: number): Pred {
    switch (proto) {
      case LLCSAP.ISONS: case LLCSAP.IP: case LLCSAP.NETBEUI:
        return and(this.not8023(), this.cmp(this.llc(0, 2), (proto << 8) | proto));
      case LLCSAP.IPX: {
        let b1 = or(this.cmp(this.llc(0, 1), LLCSAP.IPX), this.cmp(this.llc(0, 2), 0xffff));
        b1 = or(this.snap(0, ETHERTYPE.IPX), b1);
        b1 = and(this.not8023(), b1);
        return or(this.cmp(this.lt(0, 2), ETHERTYPE.IPX), b1);
      }
      case ETHERTYPE.ATALK: case ETHERTYPE.AARP: {
        const b1 = and(this.not8023(), proto === ETHERTYPE.ATALK ? this.snap(0x080007, ETHERTYPE.ATALK) : this.snap(0, ETHERTYPE.AARP));
        return or(this.cmp(this.lt(0, 2), proto), b1);
      }
      default:
        if (proto <= ETHERMTU) return and(this.not8023(), this.cmp(this.lt(2, 1), proto));
        return this.cmp(this.lt(0, 2), proto);
    }
  }

  private sllLinktype(proto: number): Pred {
    const P8022 = 4;
    switch (proto) {
      case LLCSAP.ISONS: case LLCSAP.IP: case LLCSAP.NETBEUI:
        return and(this.cmp(this.lt(0, 2), P8022), this.cmp(this.llc(0, 2), (proto << 8) | proto));
      case LLCSAP.IPX: {
        let b1 = or(this.cmp(this.llc(0, 1), LLCSAP.IPX), this.snap(0, ETHERTYPE.IPX));
        b1 = and(this.cmp(this.lt(0, 2), P8022), b1);
        b1 = or(this.cmp(this.lt(0, 2), 1), b1);
        return or(this.cmp(this.lt(0, 2), ETHERTYPE.IPX), b1);
      }
      case ETHERTYPE.ATALK: case ETHERTYPE.AARP: {
        const s = proto === ETHERTYPE.ATALK ? this.snap(0x080007, ETHERTYPE.ATALK) : this.snap(0, ETHERTYPE.AARP);
        return or(this.cmp(this.lt(0, 2), proto), and(this.cmp(this.lt(0, 2), P8022), s));
      }
      default:
        if (proto <= ETHERMTU) return and(this.cmp(this.lt(0, 2), P8022), this.cmp(this.llc(0, 1), proto));
        return this.cmp(this.lt(0, 2), proto);
    }
  }

  private isEthernetLike(): boolean { return this.linkMode === 'ether'; }

  /**
   * gen_prevlinkhdr_check: after `geneve`, a test of the (inner) MAC header first checks that
   * there is one — the link header and the payload do not start at the same offset.
   */
  private afterLinkCheck(b: Pred): Pred {
    if (!this.isGeneve) return b;
    return and(P(bin('ne', local(this.offLinkhdr.v!), local(this.offLinkpl.v!))), b);
  }
  private linkName(): string {
    return ({ ether: 'Ethernet', sll: 'Linux cooked v1', sll2: 'Linux cooked v2', raw: 'Raw IP', null: 'BSD loopback',
      loop: 'OpenBSD loopback', ipv4: 'Raw IPv4', ipv6: 'Raw IPv6', ppp: 'PPP' } as const)[this.linkMode];
  }

  // ---- hosts and nets -------------------------------------------------------------------

  private hostop(addr: number, mask: number, dir: Qual['dir'], proto: number, srcOff: number, dstOff: number, ip4 = false): Pred {
    switch (dir) {
      case 'and': return and(this.hostop(addr, mask, 'src', proto, srcOff, dstOff, ip4), this.hostop(addr, mask, 'dst', proto, srcOff, dstOff, ip4));
      case undefined: case 'or': return or(this.hostop(addr, mask, 'src', proto, srcOff, dstOff, ip4), this.hostop(addr, mask, 'dst', proto, srcOff, dstOff, ip4));
      case 'src': case 'dst': {
        const off = dir === 'src' ? srcOff : dstOff;
        const name = ip4 ? (dir === 'src' ? 'ip4.src' : 'ip4.dst') : undefined;
        return and(this.linktype(proto), this.mcmp(this.pl(off, 4, name), addr >>> 0, mask >>> 0));
      }
      default: this.dirError(dir, 'hosts');
    }
  }

  private dirError(dir: string, what: 'hosts' | 'ports'): never {
    if (dir.startsWith('addr')) {
      const n = dir.slice(4);
      this.fail(what === 'hosts' ? `'addr${n}' and 'address${n}' are only supported on 802.11 with 802.11 headers` : `'addr${n}' and 'address${n}' are not valid qualifiers for ports`);
    }
    this.fail(what === 'hosts' ? `'${dir}' is only supported on 802.11 with 802.11 headers` : `'${dir}' is not a valid qualifier for ports`);
  }

  host(addr: number, mask: number, q: Qual, type: 'host' | 'net'): Pred {
    switch (q.proto) {
      case undefined: {
        let b = this.host(addr, mask, { ...q, proto: 'ip' }, type);
        if (this.labelDepth === 0) {
          b = or(b, this.host(addr, mask, { ...q, proto: 'arp' }, type));
          b = or(b, this.host(addr, mask, { ...q, proto: 'rarp' }, type));
        }
        return b;
      }
      case 'link': this.fail(`link-layer modifier applied to ${type}`);
      case 'ip': return this.hostop(addr, mask, q.dir, ETHERTYPE.IP, 12, 16, true);
      case 'arp': return this.hostop(addr, mask, q.dir, ETHERTYPE.ARP, 14, 24);
      case 'rarp': return this.hostop(addr, mask, q.dir, ETHERTYPE.REVARP, 14, 24);
      case 'decnet': return this.dnhostop(addr, q.dir);
      case 'ip6': this.fail(`'ip6' modifier applied to ip ${type}`);
      default: this.fail(`'${q.proto}' modifier applied to ${type}`);
    }
  }

  /**
   * gen_dnhostop: a DECnet address (16 bits, little-endian in the packet) in the four DECnet
   * routing-header forms (short/long, with/without padding), tested in libpcap's order.
   */
  private dnhostop(addr: number, dir: Qual['dir']): Pred {
    let offSh: number;
    let offLh: number;
    switch (dir) {
      case 'dst': offSh = 1; offLh = 7; break;
      case 'src': offSh = 3; offLh = 15; break;
      case 'and': return and(this.dnhostop(addr, 'src'), this.dnhostop(addr, 'dst'));
      case undefined: case 'or': return or(this.dnhostop(addr, 'src'), this.dnhostop(addr, 'dst'));
      default:
        if (dir.startsWith('addr')) this.fail(`'addr${dir.slice(4)}' and 'address${dir.slice(4)}' are not valid qualifiers for addresses other than 802.11 MAC addresses`);
        this.fail(`'${dir}' is not a valid qualifier for addresses other than 802.11 MAC addresses`);
    }
    // ntohs on a little-endian host: the address and the flag words are byte-swapped.
    const swapped = ((addr & 0xff) << 8) | ((addr >>> 8) & 0xff);
    const b0 = this.linktype(ETHERTYPE.DN);
    const lh1 = and(this.mcmp(this.nl(2, 2), 0x8106, 0xff07), this.cmp(this.nl(2 + 1 + offLh, 2), swapped));
    const lh0 = and(this.mcmp(this.nl(2, 1), 0x06, 0x07), this.cmp(this.nl(2 + offLh, 2), swapped));
    const sh1 = and(this.mcmp(this.nl(2, 2), 0x8102, 0xff07), this.cmp(this.nl(2 + 1 + offSh, 2), swapped));
    const sh0 = and(this.mcmp(this.nl(2, 1), 0x02, 0x07), this.cmp(this.nl(2 + offSh, 2), swapped));
    return and(b0, or(sh0, or(sh1, or(lh0, lh1))));
  }

  private host6(addr: Uint8Array, mask: Uint8Array, q: Qual, type: 'host' | 'net'): Pred {
    if (q.proto !== undefined && q.proto !== 'ip6') {
      this.fail(q.proto === 'link' ? `link-layer modifier applied to ip6 ${type}` : `'${q.proto}' modifier applied to ip6 ${type}`);
    }
    const word = (b: Uint8Array, i: number) => ((b[4 * i] << 24) | (b[4 * i + 1] << 16) | (b[4 * i + 2] << 8) | b[4 * i + 3]) >>> 0;
    const op = (dir: Qual['dir']): Pred => {
      switch (dir) {
        case 'and': return and(op('src'), op('dst'));
        case undefined: case 'or': return or(op('src'), op('dst'));
        case 'src': case 'dst': {
          const off = dir === 'src' ? 8 : 24;
          const w = (i: number) => this.pl(off + 4 * i, 4, `ip6.${dir}${i}` as FieldName);
          let b = this.mcmp(w(3), word(addr, 3), word(mask, 3));
          for (const i of [2, 1, 0]) b = and(this.mcmp(w(i), word(addr, i), word(mask, i)), b);
          return and(this.linktype(ETHERTYPE.IPV6), b);
        }
        default: this.dirError(dir, 'hosts');
      }
    };
    return op(q.dir);
  }

  // ---- protocols ----------------------------------------------------------------------

  proto(v: number, proto: string | undefined, dir: Qual['dir']): Pred {
    if (dir !== undefined) this.fail("direction applied to 'proto'");
    switch (proto) {
      case undefined: return or(this.proto(v, 'ip', dir), this.proto(v, 'ip6', dir));
      case 'link': return this.linktype(v);
      case 'ip': return and(this.linktype(ETHERTYPE.IP), this.cmp(this.pl(9, 1, 'ip4.proto'), v));
      case 'ip6': {
        const frag = and(this.cmp(this.pl(6, 1, 'ip6.nxt'), IPPROTO.FRAGMENT), this.cmp(this.nl(40, 1), v));
        return and(this.linktype(ETHERTYPE.IPV6), or(this.cmp(this.pl(6, 1, 'ip6.nxt'), v), frag));
      }
      case 'iso': return and(this.linktype(LLCSAP.ISONS), this.cmp(this.at(this.offLinkpl, this.offNlNosnap, 1), v));
      case 'isis': return and(this.proto(ISO.ISIS, 'iso', undefined), this.cmp(this.at(this.offLinkpl, this.offNlNosnap + 4, 1), v));
      case 'arp': case 'rarp': this.fail(`${proto} does not encapsulate another protocol`);
      default: this.fail(`'${proto} proto' is bogus`);
    }
  }

  /** gen_proto_abbrev: a protocol name used alone. */
  abbrev(name: string): Pred {
    switch (name) {
      case 'sctp': return this.proto(IPPROTO_SCTP, undefined, undefined);
      case 'tcp': return this.proto(IPPROTO_TCP, undefined, undefined);
      case 'udp': return this.proto(IPPROTO_UDP, undefined, undefined);
      case 'icmp': return this.proto(IPPROTO.ICMP, 'ip', undefined);
      case 'igmp': return this.proto(IPPROTO.IGMP, 'ip', undefined);
      case 'igrp': return this.proto(IPPROTO.IGRP, 'ip', undefined);
      case 'pim': return this.proto(IPPROTO.PIM, undefined, undefined);
      case 'vrrp': case 'carp': return this.proto(IPPROTO.VRRP, 'ip', undefined);
      case 'ip': return this.linktype(ETHERTYPE.IP);
      case 'arp': return this.linktype(ETHERTYPE.ARP);
      case 'rarp': return this.linktype(ETHERTYPE.REVARP);
      case 'link': this.fail('link layer applied in wrong context');
      case 'atalk': return this.linktype(ETHERTYPE.ATALK);
      case 'aarp': return this.linktype(ETHERTYPE.AARP);
      case 'decnet': return this.linktype(ETHERTYPE.DN);
      case 'sca': return this.linktype(ETHERTYPE.SCA);
      case 'lat': return this.linktype(ETHERTYPE.LAT);
      case 'mopdl': return this.linktype(ETHERTYPE.MOPDL);
      case 'moprc': return this.linktype(ETHERTYPE.MOPRC);
      case 'ip6': return this.linktype(ETHERTYPE.IPV6);
      case 'icmp6': return this.proto(IPPROTO.ICMPV6, 'ip6', undefined);
      case 'ah': return this.proto(IPPROTO.AH, undefined, undefined);
      case 'esp': return this.proto(IPPROTO.ESP, undefined, undefined);
      case 'iso': return this.linktype(LLCSAP.ISONS);
      case 'esis': return this.proto(ISO.ESIS, 'iso', undefined);
      case 'isis': return this.proto(ISO.ISIS, 'iso', undefined);
      case 'clnp': return this.proto(ISO.CLNP, 'iso', undefined);
      case 'l1': return this.isisTypes([0x1a, 0x18, 0x12, 0x0f, 0x11]);
      case 'l2': return this.isisTypes([0x1b, 0x19, 0x14, 0x10, 0x11]);
      case 'iih': return this.isisTypes([0x0f, 0x10, 0x11]);
      case 'lsp': return this.isisTypes([0x12, 0x14]);
      case 'snp': return this.isisTypes([0x18, 0x19, 0x1a, 0x1b]);
      case 'csnp': return this.isisTypes([0x18, 0x19]);
      case 'psnp': return this.isisTypes([0x1a, 0x1b]);
      case 'stp': return this.linktype(LLCSAP.STP);
      case 'ipx': return this.linktype(LLCSAP.IPX);
      case 'netbeui': return this.linktype(LLCSAP.NETBEUI);
      case 'radio': this.fail("'radio' is not a valid protocol type");
    }
    this.fail(`unknown protocol ${name}`);
  }

  /** IS-IS PDU types: gencode.c ORs them in this order, each one `isis proto N`. */
  private isisTypes(types: number[]): Pred {
    let b = this.proto(types[0], 'isis', undefined);
    for (const t of types.slice(1)) b = or(b, this.proto(t, 'isis', undefined));
    return b;
  }

  // ---- ports ----------------------------------------------------------------------------

  private ipfrag(): Pred { return P(bin('eq', this.pl(6, 2, 'ip4.fragoff'), c(0))); }

  private portsBy(dir: Qual['dir'], atom: (rel: number) => Pred): Pred {
    switch (dir) {
      case 'src': return atom(0);
      case 'dst': return atom(2);
      case 'and': return and(atom(0), atom(2));
      case undefined: case 'or': return or(atom(0), atom(2));
      default: this.dirError(dir, 'ports');
    }
  }

  private rangeAtom(load2: Expr, lo: number, hi: number): Pred {
    if (lo > hi) [lo, hi] = [hi, lo];
    return and(P(bin('ge', load2, c(lo))), P(bin('le', load2, c(hi))));
  }

  /** gen_port/gen_portrange (IPv4): ethertype, protocol, first fragment, then the ports. */
  private port4(p1: number, p2: number | undefined, ipProto: number, dir: Qual['dir']): Pred {
    const op = (proto: number): Pred => {
      const b0 = and(this.cmp(this.pl(9, 1, 'ip4.proto'), proto), this.ipfrag());
      const b1 = this.portsBy(dir, (rel) => (p2 === undefined ? this.cmp(this.tran4(rel, 2), p1) : this.rangeAtom(this.tran4(rel, 2), p1, p2)));
      return and(b0, b1);
    };
    const b0 = this.linktype(ETHERTYPE.IP);
    const b1 = ipProto === PROTO_UNDEF ? or(op(IPPROTO_SCTP), or(op(IPPROTO_TCP), op(IPPROTO_UDP))) : op(ipProto);
    return and(b0, b1);
  }

  private port6(p1: number, p2: number | undefined, ipProto: number, dir: Qual['dir']): Pred {
    const op = (proto: number): Pred => {
      const b1 = this.portsBy(dir, (rel) => (p2 === undefined ? this.cmp(this.tran6(rel, 2), p1) : this.rangeAtom(this.tran6(rel, 2), p1, p2)));
      return and(this.cmp(this.pl(6, 1, 'ip6.nxt'), proto), b1);
    };
    const b0 = this.linktype(ETHERTYPE.IPV6);
    const b1 = ipProto === PROTO_UNDEF ? or(op(IPPROTO_SCTP), or(op(IPPROTO_TCP), op(IPPROTO_UDP))) : op(ipProto);
    return and(b0, b1);
  }

  /** `port`/`portrange`: IPv6 first, then IPv4 (gen_or(gen_port6(...), gen_port(...))). */
  private ports(p1: number, p2: number | undefined, ipProto: number, dir: Qual['dir']): Pred {
    const v4 = this.port4(p1, p2, ipProto, dir);
    const v6 = this.port6(p1, p2, ipProto, dir);
    return or(v6, v4);
  }

  private portProto(q: Qual, what: 'port' | 'portrange'): number {
    switch (q.proto) {
      case 'udp': return IPPROTO_UDP;
      case 'tcp': return IPPROTO_TCP;
      case 'sctp': return IPPROTO_SCTP;
      case undefined: return PROTO_UNDEF;
      default: this.fail(`illegal qualifier of '${what}'`);
    }
  }

  // ---- ids: numbers, names, addresses ----------------------------------------------------

  private syntax(): never { this.fail('syntax error in filter expression'); }

  /** gen_ncode: a number (s undefined) or a 1–4-part dotted IPv4 address. */
  ncode(s: string | undefined, v: number, q: Qual): Pred {
    if (q.undef) this.syntax();
    let vlen = 32;
    if (s !== undefined && q.proto === 'decnet') {
      const dn = atodn(s);
      if (dn === undefined) this.fail(`malformed decnet address '${s}'`);
      v = dn;
    } else if (s !== undefined) {
      const r = atoin(s);
      if (!r) this.fail(`invalid IPv4 address '${s}'`);
      ({ addr: v, len: vlen } = r);
    }
    switch (q.addr) {
      case undefined: case 'host': case 'net': {
        if (q.proto === 'decnet') return this.host(v, 0, q, q.addr === 'net' ? 'net' : 'host');
        if (q.proto === 'link') this.fail('illegal link layer address');
        let mask = 0xffffffff;
        if (s === undefined && q.addr === 'net') {
          while (v && (v & 0xff000000) === 0) { v = (v << 8) >>> 0; mask = (mask << 8) >>> 0; }
        } else {
          v = vlen === 0 ? 0 : (v << (32 - vlen)) >>> 0;
          mask = vlen === 0 ? 0 : (mask << (32 - vlen)) >>> 0;
          if (vlen === 32) { v >>>= 0; mask = 0xffffffff; }
        }
        return this.host(v, mask, q, q.addr === 'net' ? 'net' : 'host');
      }
      case 'port': case 'portrange': {
        const proto = this.portProto(q, q.addr);
        if (v > 65535) this.fail(`illegal port number ${v} > 65535`);
        return this.ports(v, q.addr === 'portrange' ? v : undefined, proto, q.dir);
      }
      case 'gateway': this.fail("'gateway' requires a name");
      case 'proto': return this.proto(v, q.proto, q.dir);
      case 'protochain': return this.protochain(v, q.proto);
    }
  }

  /** gen_scode: a name. */
  scode(name: string, q: Qual): Pred {
    if (q.undef) this.syntax();
    switch (q.addr) {
      case 'net': {
        // getnetbyname's number, left-justified; its mask covers the bytes it has (`127` → 127/8).
        const v = this.resolver.network(name);
        if (!v) this.fail(`unknown network '${name}' (looked in ${this.resolver.sources.networks})`);
        let addr = v >>> 0;
        let mask = 0xffffffff;
        while (addr && (addr & 0xff000000) === 0) { addr = (addr << 8) >>> 0; mask = (mask << 8) >>> 0; }
        return this.host(addr, mask, q, 'net');
      }
      case undefined: case 'host': return this.hostName(name, q);
      case 'port': {
        if (q.proto !== undefined && q.proto !== 'udp' && q.proto !== 'tcp' && q.proto !== 'sctp') this.fail("illegal qualifier of 'port'");
        const r = nameToPort(name);
        if (!r) this.fail(`unknown port '${name}'`);
        const proto = this.checkNamedPortProto(name, q.proto, r.proto);
        if (r.port > 65535) this.fail(`illegal port number ${r.port} > 65535`);
        return this.ports(r.port, undefined, proto, q.dir);
      }
      case 'portrange': {
        if (q.proto !== undefined && q.proto !== 'udp' && q.proto !== 'tcp' && q.proto !== 'sctp') this.fail("illegal qualifier of 'portrange'");
        const r = nameToPortRange(name);
        if (!r) this.fail(`unknown port in range '${name}'`);
        const proto = this.checkNamedPortProto(name, q.proto, r.proto);
        if (r.p1 > 65535) this.fail(`illegal port number ${r.p1} > 65535`);
        if (r.p2 > 65535) this.fail(`illegal port number ${r.p2} > 65535`);
        return this.ports(r.p1, r.p2, proto, q.dir);
      }
      case 'gateway': this.fail("'gateway' not supported in this configuration");
      case 'proto': return this.proto(this.lookupProto(name, q.proto), q.proto, q.dir);
      case 'protochain': return this.protochain(this.lookupProto(name, q.proto), q.proto);
    }
  }

  /** gen_scode's host names: every address the name has, IPv4 and IPv6, joined with `or`. */
  private hostName(name: string, q: Qual): Pred {
    if (q.proto === 'link') {
      if (!this.isEthernetLike()) this.fail('only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name');
      const mac = this.resolver.ether(name);
      if (!mac) this.fail(`unknown ether host '${name}' (looked in ${this.resolver.sources.ethers})`);
      return this.afterLinkCheck(this.ehostop(mac, q.dir));
    }
    if (q.proto === 'decnet') this.fail(`decnet name support not included, '${name}' cannot be translated`);
    const addrs = this.resolver.host(name);
    if (addrs.length === 0) this.fail(`unknown host '${name}' (looked in ${this.resolver.sources.hosts}; fplc does not ask DNS)`);
    // Links without a link-type field (raw IP) test only IP for names, as libpcap does.
    const noLinktype = this.offLinktype === undefined && q.proto === undefined;
    const tproto = noLinktype ? 'ip' : q.proto;
    const tproto6 = noLinktype ? 'ip6' : q.proto;
    const parts: Pred[] = [];
    for (const a of addrs) {
      if (typeof a === 'number') {
        if (tproto === 'ip6') continue;
        parts.push(this.host(a, 0xffffffff, { ...q, proto: tproto }, 'host'));
      } else {
        if (tproto6 === 'ip') continue;
        parts.push(this.host6(a, ALL_ONES_128, { ...q, proto: tproto6 }, 'host'));
      }
    }
    if (parts.length === 0) this.fail(`unknown host '${name}'${q.proto === undefined ? '' : ' for specified address family'}`);
    return joinBalanced('or', parts);
  }

  private checkNamedPortProto(name: string, qproto: string | undefined, real: number): number {
    const names: Record<number, string> = { [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp', [IPPROTO_SCTP]: 'sctp' };
    if (qproto === undefined) return real;
    const want = qproto === 'udp' ? IPPROTO_UDP : qproto === 'tcp' ? IPPROTO_TCP : IPPROTO_SCTP;
    if (real !== PROTO_UNDEF && real !== want) this.fail(`port '${name}' is ${names[real]}`);
    return want;
  }

  private lookupProto(name: string, proto: string | undefined): number {
    switch (proto) {
      case undefined: case 'ip': case 'ip6': {
        const v = nameToProto(name);
        if (v === undefined) this.fail(`unknown ip proto '${name}'`);
        return v;
      }
      case 'link': {
        const v = ETHER_PROTOS[name] ?? LLC_SAPS[name];
        if (v === undefined) this.fail(`unknown ether proto '${name}'`);
        return v;
      }
      case 'iso': {
        const v = ({ esis: ISO.ESIS, isis: ISO.ISIS, clnp: ISO.CLNP } as Record<string, number>)[name];
        if (v === undefined) this.fail(`unknown osi proto '${name}'`);
        return v;
      }
      default: return PROTO_UNDEF;
    }
  }

  /** gen_mcode: `a.b.c.d/len` or `a.b.c.d mask m.m.m.m`. */
  mcode(s1: string, s2: string | undefined, masklen: number, q: Qual): Pred {
    const a = atoin(s1);
    if (!a) this.fail(`invalid IPv4 address '${s1}'`);
    const n = a.len === 0 ? 0 : (a.addr << (32 - a.len)) >>> 0;
    let m: number;
    if (s2 !== undefined) {
      const b = atoin(s2);
      if (!b) this.fail(`invalid IPv4 address '${s2}'`);
      m = b.len === 0 ? 0 : (b.addr << (32 - b.len)) >>> 0;
      if ((n & ~m) !== 0) this.fail(`non-network bits set in "${s1} mask ${s2}"`);
    } else {
      if (masklen > 32) this.fail('mask length must be <= 32');
      m = masklen === 0 ? 0 : (0xffffffff << (32 - masklen)) >>> 0;
      if ((n & ~m) !== 0) this.fail(`non-network bits set in "${s1}/${masklen}"`);
    }
    if (q.addr !== 'net') this.fail('Mask syntax for networks only');
    return this.host(n, m, q, 'net');
  }

  /** gen_mcode6: an IPv6 address with a prefix length. */
  mcode6(s: string, masklen: number, q: Qual): Pred {
    const addr = parseIPv6(s);
    if (!addr) this.fail(`invalid ip6 address ${s}`);
    if (masklen > 128) this.fail('mask length must be <= 128');
    const mask = new Uint8Array(16);
    mask.fill(0xff, 0, masklen >> 3);
    if (masklen % 8) mask[masklen >> 3] = (0xff << (8 - (masklen % 8))) & 0xff;
    if (addr.some((b, i) => (b & ~mask[i]) !== 0)) this.fail(`non-network bits set in "${s}/${masklen}"`);
    if (q.undef) this.fail('Mask syntax for networks only');
    switch (q.addr) {
      case undefined: case 'host':
        if (masklen !== 128) this.fail('Mask syntax for networks only');
        return this.host6(addr, mask, q, 'host');
      case 'net': return this.host6(addr, mask, q, 'net');
      default: this.fail('invalid qualifier against IPv6 address');
    }
  }

  /** gen_ecode: a MAC address. */
  ecode(s: string, q: Qual): Pred {
    if ((q.addr === 'host' || q.addr === undefined) && q.proto === 'link' && !q.undef) {
      if (!this.isEthernetLike()) this.fail('ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel');
      return this.afterLinkCheck(this.ehostop(etherAton(s), q.dir));
    }
    this.fail('ethernet address used in non-ether expression');
  }

  private ehostop(mac: number[], dir: Qual['dir']): Pred {
    const at = (off: number): Pred => and(
      this.cmp(this.lh(off + 2, 4), ((mac[2] << 24) | (mac[3] << 16) | (mac[4] << 8) | mac[5]) >>> 0),
      this.cmp(this.lh(off, 2), (mac[0] << 8) | mac[1]));
    switch (dir) {
      case 'src': return at(6);
      case 'dst': return at(0);
      case 'and': return and(at(6), at(0));
      case undefined: case 'or': return or(at(6), at(0));
      default: this.dirError(dir, 'hosts');
    }
  }

  // ---- other primitives -------------------------------------------------------------------

  broadcast(pqual: string | undefined): Pred {
    if (pqual === undefined || pqual === 'link') {
      if (!this.isEthernetLike()) this.fail('not a broadcast link');
      return this.afterLinkCheck(this.ehostop([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 'dst'));
    }
    if (pqual === 'ip') {
      const netmask = this.opts.netmask;
      if (netmask === undefined || netmask >>> 0 === 0xffffffff) this.fail("netmask not known, so 'ip broadcast' not supported");
      const hostmask = ~netmask >>> 0;
      const b0 = this.linktype(ETHERTYPE.IP);
      return and(b0, or(this.mcmp(this.pl(16, 4), 0, hostmask), this.mcmp(this.pl(16, 4), hostmask, hostmask)));
    }
    this.fail('only link-layer/IP broadcast filters supported');
  }

  multicast(pqual: string | undefined): Pred {
    if (pqual === undefined || pqual === 'link') {
      if (!this.isEthernetLike()) this.fail('not a broadcast link');
      return this.afterLinkCheck(P(bin('ne', bin('and', this.lh(0, 1), c(1)), c(0))));
    }
    if (pqual === 'ip') return and(this.linktype(ETHERTYPE.IP), P(bin('ge', this.nl(16, 1), c(224))));
    if (pqual === 'ip6') return and(this.linktype(ETHERTYPE.IPV6), this.cmp(this.nl(24, 1), 255));
    this.fail('link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel');
  }

  vlan(num: number | undefined): Pred {
    if (this.labelDepth > 0) this.fail('no VLAN match after MPLS');
    if (this.linkMode !== 'ether') this.fail(`no VLAN support for ${this.linkName()}`);
    let b = or(this.linktype(ETHERTYPE.QINQ), or(this.linktype(ETHERTYPE.VLAN), this.linktype(ETHERTYPE.QINQ_AD)));
    if (num !== undefined) {
      if (num > 0x0fff) this.fail(`VLAN tag ${num} greater than maximum 4095`);
      b = and(b, this.mcmp(this.nl(0, 2), num, 0x0fff));
    }
    this.offLinktype = { ...this.offLinktype!, k: this.offLinktype!.k + 4 };
    this.offLinkpl = { ...this.offLinkpl, k: this.offLinkpl.k + 4 };
    return b;
  }

  mpls(num: number | undefined): Pred {
    let b: Pred;
    if (this.labelDepth > 0) b = this.mcmp(this.nl(-4 + 2, 1), 0, 1);
    else if (this.linkMode === 'ether') b = this.linktype(ETHERTYPE.MPLS);
    else if (this.linkMode === 'ppp') b = this.cmp(this.lt(0, 2), 0x0281);
    else this.fail(`no MPLS support for ${this.linkName()}`);
    if (num !== undefined) {
      if (num > 0xfffff) this.fail(`MPLS label ${num} greater than maximum 1048575`);
      b = and(b, this.mcmp(this.nl(0, 4), (num << 12) >>> 0, 0xfffff000));
    }
    this.offNlNosnap += 4;
    this.offNl += 4;
    this.labelDepth++;
    return b;
  }

  pppoes(num: number | undefined): Pred {
    let b = this.linktype(ETHERTYPE.PPPOES);
    if (num !== undefined) {
      if (num > 0xffff) this.fail(`PPPoE session number ${num} greater than maximum 65535`);
      b = and(b, this.mcmp(this.nl(2, 2), num, 0xffff));
    }
    // The PPP header starts 6 bytes past the PPPoE header; its protocol field is the new link type.
    const linkhdr: Off = { v: this.offLinkpl.v, k: this.offLinkpl.k + this.offNl + 6 };
    this.linkMode = 'ppp';
    this.isGeneve = false;
    this.offLinkhdr = linkhdr;
    this.offLinktype = linkhdr;
    this.offLinkpl = { v: linkhdr.v, k: linkhdr.k + 2 };
    this.offNl = 0;
    this.offNlNosnap = 0;
    return b;
  }

  /**
   * gen_geneve: UDP to port 6081 over IPv4 or IPv6, version 0, optionally a VNI; when it
   * matches, statements compute the inner offsets (gen_geneve_offsets) into locals that every
   * later primitive adds to its loads — including the load of the Geneve protocol type, which
   * ends the filter with 0 on a packet cut inside the Geneve header.
   */
  geneve(vni: number | undefined): Pred {
    if (vni !== undefined && vni > 0xffffff) this.fail(`Geneve VNI ${vni} greater than maximum 16777215`);
    this.registersTaken += 3;
    if (this.registersTaken > BPF_MEMWORDS) this.fail('too many registers needed to evaluate expression');
    const check = (port: Pred, tran: (rel: number, size: 1 | 2 | 4) => Expr): Pred => {
      let b = and(port, this.mcmp(tran(8, 1), 0, 0xc0));
      if (vni !== undefined) b = and(b, this.mcmp(tran(12, 4), (vni << 8) >>> 0, 0xffffff00));
      return b;
    };
    const [hdrLen, start, linktype, linkhdr, linkpl] = [0, 1, 2, 3, 4].map(() => this.localsUsed++);
    // Register A of libpcap's code: the IP header length plus the variable part of off_linkpl.
    const b4 = and(check(this.port4(GENEVE_PORT, undefined, IPPROTO_UDP, 'dst'), (r, z) => this.tran4(r, z)),
      TRUE_WITH(setLocal(hdrLen, this.ihl())));
    const v6len = this.offLinkpl.v === undefined ? c(40) : bin('add', c(40), local(this.offLinkpl.v));
    const b6 = and(check(this.port6(GENEVE_PORT, undefined, IPPROTO_UDP, 'dst'), (r, z) => this.nl(40 + r, z)),
      TRUE_WITH(setLocal(hdrLen, v6len)));
    const g = local(start);
    const end = local(linkhdr);
    const offsets: Stmt = { k: 'seq', body: [
      setLocal(start, bin('add', local(hdrLen), c(this.offLinkpl.k + this.offNl + 8))),
      setLocal(linktype, bin('add', g, c(2))),
      // Options length in 4-byte words (low 6 bits of the first byte) plus the 8-byte base header.
      setLocal(linkhdr, bin('add', bin('add', bin('mul', bin('and', load(g, 1), c(0x3f)), c(4)), c(8)), g)),
      { k: 'if', cond: bin('eq', load(bin('add', g, c(2)), 2), c(ETHERTYPE.TEB)),
        then: { k: 'seq', body: [setLocal(linktype, bin('add', end, c(12))), setLocal(linkpl, bin('add', end, c(14)))] },
        else: setLocal(linkpl, end) },
    ] };
    this.offLinktype = { v: linktype, k: 0 };
    this.offLinkhdr = { v: linkhdr, k: 0 };
    this.offLinkpl = { v: linkpl, k: 0 };
    this.offNl = 0;
    this.linkMode = 'ether';
    this.isGeneve = true;
    return and(or(b4, b6), TRUE_WITH(offsets));
  }

  /** gen_llc: an 802.2 LLC frame (802.3 length field, and not NetWare's raw 802.3 0xffff). */
  private llcFrame(): Pred {
    if (this.linkMode !== 'ether') this.fail(`'llc' not supported for ${this.linkName()}`);
    return and(this.not8023(), not(this.cmp(this.llc(0, 2), 0xffff)));
  }

  /** `llc`, `llc i|s|u`, `llc <S or U frame type>` (names case-insensitive, as libpcap's). */
  llcType(name: string | undefined): Pred {
    if (name === undefined) return this.llcFrame();
    const n = name.toLowerCase();
    const control = (): Expr => this.llc(2, 1);
    if (n === 'i') {
      const b0 = this.llcFrame();
      return and(b0, not(P(bin('ne', bin('and', control(), c(0x01)), c(0)))));
    }
    if (n === 's' || n === 'u') {
      const b0 = this.llcFrame();
      return and(b0, this.mcmp(control(), n === 's' ? 1 : 3, 0x03));
    }
    const sType = LLC_S_SUBTYPES[n];
    const uType = LLC_U_SUBTYPES[n];
    if (sType === undefined && uType === undefined) this.fail(`unknown LLC type name "${name}"`);
    const b0 = this.llcFrame();
    return and(b0, sType !== undefined ? this.mcmp(control(), sType, 0x0f) : this.mcmp(control(), uType, 0xef));
  }

  inbound(outbound: boolean): Pred {
    let b: Pred;
    if (this.linkMode === 'sll') b = this.cmp(load(0, 2), 4);
    else if (this.linkMode === 'sll2') b = this.cmp(load(10, 1), 4);
    else this.fail(`inbound/outbound not supported on ${this.linkName()} when reading savefiles`);
    return outbound ? b : not(b);
  }

  ifindex(n: number): Pred {
    if (this.linkMode !== 'sll2') this.fail(`ifindex not supported on ${this.linkName()} when reading savefiles`);
    return this.cmp(load(4, 4), n);
  }

  less(n: number): Pred { return P(bin('le', { k: 'meta', m: 'wirelen' }, c(n))); }
  greater(n: number): Pred { return P(bin('ge', { k: 'meta', m: 'wirelen' }, c(n))); }

  /**
   * `byte N op V`: the legacy test on the byte at link-header offset N. In libpcap 1.10.3 the
   * `&` and `|` forms never load the byte: they test 0 & V and 0 | V (fixed after 1.10).
   */
  byteop(idx: number, op: string, v: number): Pred {
    const b = this.lh(idx, 1);
    switch (op) {
      case '=': return this.cmp(b, v);
      case '<': return P(bin('lt', b, c(v)));
      case '>': return P(bin('gt', b, c(v)));
      case '|': return P(bin('ne', bin('or', c(0), c(v)), c(0)));
      default: return P(bin('ne', bin('and', c(0), c(v)), c(0)));
    }
  }

  // ---- protochain -------------------------------------------------------------------------

  /**
   * gen_protochain: walks IPv6 extension headers (and AH) in a loop, libpcap's instruction
   * sequence step for step — including its AH step, which sets X to AH's length alone.
   */
  protochain(v: number, proto: string | undefined): Pred {
    if (proto === undefined) return or(this.protochain(v, 'ip'), this.protochain(v, 'ip6'));
    if (proto !== 'ip' && proto !== 'ip6') this.fail("bad protocol applied for 'protochain'");
    if (this.offLinkpl.v !== undefined) this.fail("'protochain' not supported with variable length headers");
    this.usesLoop = true;
    const v6 = proto === 'ip6';
    const b0 = this.linktype(v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IP);
    const A = { k: 'local', n: 0 } as const;
    const X = { k: 'local', n: 1 } as const;
    const M = { k: 'local', n: 2 } as const;
    const setA = (e: Expr): Stmt => ({ k: 'setlocal', n: 0, value: e });
    const setX = (e: Expr): Stmt => ({ k: 'setlocal', n: 1, value: e });
    const setM = (e: Expr): Stmt => ({ k: 'setlocal', n: 2, value: e });
    const head = this.l3;
    const eqA = (k: number) => bin('eq', A, c(k));
    const advance6: Stmt = { k: 'seq', body: [
      setA(this.indexed(X, head, 1)), setM(A),
      setA(this.indexed(X, head + 1, 1)),
      setA(bin('add', bin('mul', bin('add', A, c(1)), c(8)), X)), setX(A), setA(M),
    ] };
    // AH (libpcap 1.10.3: txa; ldb [x+head]; st M; txa; add 1; tax; ldb [x+head]; add 2; mul 4;
    // tax; ld M): A = its next header, X = (payload length + 2) * 4 — AH's length in 4-byte
    // words — not added to the old X, as libpcap does (so a header after AH is read from there).
    const ah: Stmt = { k: 'seq', body: [
      setA(this.indexed(X, head, 1)), setM(A), setX(bin('add', X, c(1))),
      setA(this.indexed(X, head, 1)), setX(bin('mul', bin('add', A, c(2)), c(4))), setA(M),
    ] };
    const ahOrEnd: Stmt = { k: 'if', cond: eqA(IPPROTO.AH), then: ah, else: { k: 'break' } };
    const step: Stmt = v6
      ? { k: 'if', cond: lor(lor(eqA(0), eqA(60)), lor(eqA(43), eqA(44))), then: advance6, else: ahOrEnd }
      : ahOrEnd;
    const loop: Stmt = {
      k: 'for', reg: 0, init: c(0), cmp: 'ne', limit: c(0xffffffff), step: 1,
      body: { k: 'seq', body: [{ k: 'if', cond: lor(eqA(v), eqA(59)), then: { k: 'break' } }, step] },
    };
    const init: Stmt[] = v6
      ? [setA(this.pl(6, 1, 'ip6.nxt')), setX(c(40))]
      : [setA(this.pl(9, 1, 'ip4.proto')), setX(this.ihl())];
    return and(b0, { k: 'stmt', s: { k: 'seq', body: [...init, loop] }, e: eqA(v) });
  }

  // ---- arithmetic ---------------------------------------------------------------------------

  arth(a: Arth): Compiled {
    this.span = a.span;
    switch (a.t) {
      case 'num': return { e: c(a.v), firstImm: a.v };
      case 'len': return { e: { k: 'meta', m: 'wirelen' } };
      case 'neg': {
        const x = this.arth(a.a);
        return { e: { k: 'neg', a: x.e }, guard: x.guard, firstImm: x.firstImm };
      }
      case 'bin': {
        const x = this.arth(a.a);
        const y = this.arth(a.b);
        this.span = a.span;
        if (a.op === '/' && y.firstImm === 0) this.fail('division by zero');
        if (a.op === '%' && y.firstImm === 0) this.fail('modulus by zero');
        if ((a.op === '<<' || a.op === '>>') && y.firstImm !== undefined && y.firstImm > 31) this.fail('shift by more than 31 bits');
        const ops = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '&': 'and', '|': 'or', '^': 'xor', '<<': 'shl', '>>': 'shr' } as const;
        // gen_arth keeps the left operand's protocol guard only (libpcap drops the right one).
        return { e: bin(ops[a.op], x.e, y.e), guard: x.guard, firstImm: x.firstImm };
      }
      case 'load': return this.accessor(a);
    }
  }

  private accessor(a: Extract<Arth, { t: 'load' }>): Compiled {
    if (a.size !== 1 && a.size !== 2 && a.size !== 4) this.fail('data size must be 1, 2, or 4', a.sizeSpan ?? a.span);
    const size = a.size as 1 | 2 | 4;
    const ix = this.arth(a.index);
    this.span = a.span;
    const withGuard = (b: Pred): Pred => (ix.guard ? and(ix.guard, b) : b);
    switch (a.proto) {
      case 'link':
        return { e: this.indexedAt(ix.e, this.offLinkhdr, 0, size), guard: ix.guard, firstImm: ix.firstImm };
      case 'ip': case 'arp': case 'rarp': case 'atalk': case 'decnet': case 'sca': case 'lat': case 'moprc': case 'mopdl': case 'ip6':
        return { e: this.indexedAt(ix.e, this.offLinkpl, this.offNl, size), guard: withGuard(this.abbrev(a.proto)), firstImm: ix.firstImm };
      case 'sctp': case 'tcp': case 'udp': case 'icmp': case 'igmp': case 'igrp': case 'pim': case 'vrrp': case 'carp': {
        // ihl() already includes the variable part of off_linkpl.
        const e = this.indexed(bin('add', ix.e, this.ihl()), this.l3, size);
        const b = and(this.abbrev(a.proto), this.ipfrag());
        return { e, guard: and(this.abbrev('ip'), withGuard(b)), firstImm: ix.firstImm };
      }
      case 'icmp6': {
        const b = and(withGuard(this.abbrev('ip6')), this.cmp(this.pl(6, 1, 'ip6.nxt'), IPPROTO.ICMPV6));
        return { e: this.indexedAt(ix.e, this.offLinkpl, this.offNl + 40, size), guard: b, firstImm: ix.firstImm };
      }
      case 'radio': this.fail("'radio' index operations are not supported on this link type");
      default: this.fail('unsupported index operation');
    }
  }

  relation(op: string, a: Arth, b: Arth, span: Span): Pred {
    // libpcap holds each arithmetic value in a scratch register, next to geneve's offsets.
    if (this.registersTaken + Math.max(registersNeeded(a), 1 + registersNeeded(b)) > BPF_MEMWORDS) {
      this.fail('too many registers needed to evaluate expression', span);
    }
    const x = this.arth(a);
    const y = this.arth(b);
    this.span = span;
    const ops = { '>': 'gt', '>=': 'ge', '=': 'eq', '<=': 'le', '<': 'lt', '!=': 'ne' } as const;
    const test = P(bin(ops[op as keyof typeof ops], x.e, y.e));
    const guard = x.guard && y.guard ? and(x.guard, y.guard) : x.guard ?? y.guard;
    return guard ? and(guard, test) : test;
  }

  // ---- the tree -------------------------------------------------------------------------------

  /** Generates a node in source order; returns its predicate and the qualifiers an `id` after it inherits. */
  node(n: Node | Id, qIn: Qual): { b: Pred; q: Qual } {
    if (isId(n)) return { b: this.id(n, qIn), q: qIn };
    this.span = n.span;
    const qerr: Qual = { undef: true };
    switch (n.t) {
      case 'bool': {
        // A left-deep chain `a op b op c …`, generated left to right without recursing along it;
        // runs of one operator become balanced trees (see joinBalanced).
        const rights: { op: 'and' | 'or'; r: Node | Id }[] = [];
        let left: Node = n;
        while (left.t === 'bool') { rights.push({ op: left.op, r: left.r }); left = left.l; }
        rights.reverse();
        const first = this.node(left, qIn);
        let q = first.q;
        let run: Pred[] = [first.b];
        let runOp = rights[0].op;
        for (const { op, r } of rights) {
          const g = this.node(r, q);
          q = g.q;
          if (op !== runOp) { run = [joinBalanced(runOp, run)]; runOp = op; }
          run.push(g.b);
        }
        return { b: joinBalanced(runOp, run), q };
      }
      case 'not': {
        const r = this.node(n.e, qIn);
        return { b: not(r.b), q: r.q };
      }
      case 'head': return { b: this.id(n.id, n.q), q: n.q };
      case 'paren': return { b: this.node(n.e, qIn).b, q: qIn };
      case 'pname': return { b: this.abbrev(n.name), q: qerr };
      case 'rel': return { b: this.relation(n.op, n.a, n.b, n.span), q: qerr };
      case 'other': return { b: this.other(n), q: qerr };
    }
  }

  private other(n: Extract<Node, { t: 'other' }>): Pred {
    switch (n.kind) {
      case 'broadcast': return this.broadcast(n.pqual);
      case 'multicast': return this.multicast(n.pqual);
      case 'less': return this.less(n.num!);
      case 'greater': return this.greater(n.num!);
      case 'inbound': return this.inbound(false);
      case 'outbound': return this.inbound(true);
      case 'ifindex': return this.ifindex(n.num!);
      case 'vlan': return this.vlan(n.num);
      case 'mpls': return this.mpls(n.num);
      case 'pppoed': return this.linktype(ETHERTYPE.PPPOED);
      case 'pppoes': return this.pppoes(n.num);
      case 'byte': {
        const [op, v] = n.name!.split(' ');
        return this.byteop(n.num!, op, Number(v));
      }
      case 'geneve': return this.geneve(n.num);
      case 'llc': return this.llcType(n.name);
      default: this.fail(`'${n.name}' is not supported on ${this.linkName()} links`);
    }
  }

  private id(n: Id, q: Qual): Pred {
    this.span = n.span;
    switch (n.t) {
      case 'idnum': return this.ncode(undefined, n.v, q);
      case 'idname': return this.scode(n.s, q);
      case 'hid':
        if (n.masklen !== undefined || n.mask !== undefined) {
          if (q.undef) this.fail('Mask syntax for networks only');
          return this.mcode(n.s, n.mask, n.masklen ?? 0, q);
        }
        if (q.addr === 'port' || q.addr === 'portrange' || q.addr === 'proto' || q.addr === 'protochain') {
          this.fail(`'${q.addr}' modifier applied to IP address`);
        }
        return this.ncode(n.s, 0, q);
      case 'hid6': return this.mcode6(n.s, n.masklen ?? 128, q);
      case 'eid': return this.ecode(n.s, q);
      case 'aid': this.fail('ARCnet addresses are supported only on ARCnet links');
      case 'idnot': return not(this.id(n.e, q));
      case 'idbool': {
        // `host a or b or c …`: iterative along the chain, balanced per run of one operator.
        const rights: { op: 'and' | 'or'; r: Id }[] = [];
        let left: Id = n;
        while (left.t === 'idbool') { rights.push({ op: left.op, r: left.r }); left = left.l; }
        rights.reverse();
        let run: Pred[] = [this.id(left, q)];
        let runOp = rights[0].op;
        for (const { op, r } of rights) {
          const b = this.id(r, q);
          if (op !== runOp) { run = [joinBalanced(runOp, run)]; runOp = op; }
          run.push(b);
        }
        return joinBalanced(runOp, run);
      }
      case 'idparen': return this.id(n.e, q);
    }
  }
}

/** A fault: libpcap's interpreter returns 0 when `[X + k]` passes 2^32; division by zero does the same in the IR. */
const FAULT: Expr = bin('div', c(0), c(0));

/**
 * Scratch registers libpcap's gen_arth needs for an arithmetic expression: the left value is
 * held while the right one is computed; a load frees its index register before taking one.
 */
function registersNeeded(a: Arth): number {
  switch (a.t) {
    case 'num': case 'len': return 1;
    case 'neg': return registersNeeded(a.a);
    case 'load': return Math.max(1, registersNeeded(a.index));
    case 'bin': return Math.max(registersNeeded(a.a), 1 + registersNeeded(a.b));
  }
}

const ALL_ONES_128 = new Uint8Array(16).fill(0xff);

/** __pcap_atodn: `area.node` (sscanf "%d.%d") as a 16-bit DECnet address. */
export function atodn(s: string): number | undefined {
  const m = /^(\d+)\.(\d+)/.exec(s);
  if (!m) return undefined;
  const area = Number(m[1]) % 0x100000000;
  const node = Number(m[2]) % 0x100000000;
  return (((area << 10) & 0xfc00) | (node & 0x3ff)) >>> 0;
}

/** __pcap_atoin: 1–4 dotted parts, each up to 255, digit arithmetic as libpcap does it. */
export function atoin(s: string): { addr: number; len: number } | undefined {
  let addr = 0;
  let len = 0;
  for (const part of s.split('.')) {
    let n = 0;
    for (const ch of part) {
      if (n > 25) return undefined;
      n = n * 10 + ch.charCodeAt(0) - 48;
    }
    if (n > 255 || n < 0) return undefined;
    addr = ((addr << 8) | (n & 0xff)) >>> 0;
    len += 8;
  }
  return { addr, len };
}

/** pcap_ether_aton: hex digit pairs with optional ':', '.' or '-' separators. */
export function etherAton(s: string): number[] {
  const out: number[] = [];
  const hex = (ch: string) => parseInt(ch, 16);
  let i = 0;
  while (i < s.length && out.length < 6) {
    if (s[i] === ':' || s[i] === '.' || s[i] === '-') i++;
    let d = hex(s[i++]);
    if (i < s.length && /[0-9A-Fa-f]/.test(s[i])) d = (d << 4) | hex(s[i++]);
    out.push(d);
  }
  while (out.length < 6) out.push(0);
  return out;
}
