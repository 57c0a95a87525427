/**
 * Named header fields: the single table. A field is a load at an offset relative to a base
 * (the link header's protocol field, the network header, or the transport header) with an
 * optional shift and mask. `lowerField` turns a field into plain IR for a given link type;
 * the reference interpreter and the WebAssembly backend both use it, so they cannot disagree.
 *
 * Transport bases:
 * - `l4`:   FPL's rule — L3 + 40 when the IP version nibble is 6, else L3 + 4*IHL.
 * - `l4v4`: L3 + 4*IHL (libpcap's IPv4 rule; IHL used as is, not checked >= 5).
 * - `l4v6`: L3 + 40 (IPv6 base header only).
 */
import type { Expr } from './ir.js';
import { linkTypeInfo, linkTypeName } from './linktypes.js';

type Base = 'ltype' | 'l3' | 'l4' | 'l4v4' | 'l4v6';
interface FieldDef { base: Base; off: number; size: 1 | 2 | 4; shr?: number; mask?: number }

const L4_FIELDS = {
  sport: { off: 0, size: 2 }, dport: { off: 2, size: 2 },
  'tcp.seq': { off: 4, size: 4 }, 'tcp.ack': { off: 8, size: 4 },
  'tcp.hl': { off: 12, size: 1, shr: 4 }, 'tcp.flags': { off: 13, size: 1 },
  'tcp.win': { off: 14, size: 2 }, 'udp.len': { off: 4, size: 2 },
  'icmp.type': { off: 0, size: 1 }, 'icmp.code': { off: 1, size: 1 },
} as const;

type L4Name = keyof typeof L4_FIELDS;

const FIXED = {
  'link.type': { base: 'ltype', off: 0, size: 2 },
  'ip4.ver': { base: 'l3', off: 0, size: 1, shr: 4 },
  'ip4.hl': { base: 'l3', off: 0, size: 1, mask: 0xf },
  'ip4.tos': { base: 'l3', off: 1, size: 1 },
  'ip4.len': { base: 'l3', off: 2, size: 2 },
  'ip4.id': { base: 'l3', off: 4, size: 2 },
  'ip4.flags': { base: 'l3', off: 6, size: 1, shr: 5 },
  'ip4.fragoff': { base: 'l3', off: 6, size: 2, mask: 0x1fff },
  'ip4.ttl': { base: 'l3', off: 8, size: 1 },
  'ip4.proto': { base: 'l3', off: 9, size: 1 },
  'ip4.chksum': { base: 'l3', off: 10, size: 2 },
  'ip4.src': { base: 'l3', off: 12, size: 4 },
  'ip4.dst': { base: 'l3', off: 16, size: 4 },
  'ip6.plen': { base: 'l3', off: 4, size: 2 },
  'ip6.nxt': { base: 'l3', off: 6, size: 1 },
  'ip6.hlim': { base: 'l3', off: 7, size: 1 },
  'ip6.src0': { base: 'l3', off: 8, size: 4 }, 'ip6.src1': { base: 'l3', off: 12, size: 4 },
  'ip6.src2': { base: 'l3', off: 16, size: 4 }, 'ip6.src3': { base: 'l3', off: 20, size: 4 },
  'ip6.dst0': { base: 'l3', off: 24, size: 4 }, 'ip6.dst1': { base: 'l3', off: 28, size: 4 },
  'ip6.dst2': { base: 'l3', off: 32, size: 4 }, 'ip6.dst3': { base: 'l3', off: 36, size: 4 },
} as const satisfies Record<string, FieldDef>;

/** Every field name: the fixed ones, each transport field under each transport base, and `payload_off`. */
export type FieldName =
  | keyof typeof FIXED
  | `${'l4' | 'l4v4' | 'l4v6'}.${L4Name}`
  | 'payload_off';

export const FIELD_NAMES: readonly FieldName[] = [
  ...(Object.keys(FIXED) as FieldName[]),
  ...(['l4', 'l4v4', 'l4v6'] as const).flatMap((b) =>
    (Object.keys(L4_FIELDS) as L4Name[]).map((n) => `${b}.${n}` as FieldName)),
  'payload_off',
];

export function fieldDef(name: FieldName): FieldDef | undefined {
  if (name in FIXED) return FIXED[name as keyof typeof FIXED];
  const dot = name.indexOf('.');
  const base = name.slice(0, dot) as Base;
  const rest = name.slice(dot + 1) as L4Name;
  if ((base === 'l4' || base === 'l4v4' || base === 'l4v6') && rest in L4_FIELDS) {
    return { base, ...L4_FIELDS[rest] };
  }
  return undefined;
}

const k = (v: number): Expr => ({ k: 'const', v: v >>> 0 });
const add = (a: Expr, b: Expr): Expr => ({ k: 'bin', op: 'add', a, b });
const ld = (off: Expr, size: 1 | 2 | 4): Expr => ({ k: 'load', off, size });
const op = (o: 'and' | 'shr' | 'mul' | 'eq', a: Expr, b: Expr): Expr => ({ k: 'bin', op: o, a, b });

/** The transport-header offset for a base, as IR over the link type's L3 offset. */
function l4Offset(base: 'l4' | 'l4v4' | 'l4v6', l3: number): Expr {
  const ihlBytes = op('mul', op('and', ld(k(l3), 1), k(0xf)), k(4));
  if (base === 'l4v6') return k(l3 + 40);
  if (base === 'l4v4') return add(k(l3), ihlBytes);
  const isV6 = op('eq', op('shr', ld(k(l3), 1), k(4)), k(6));
  return { k: 'cond', c: isV6, a: k(l3 + 40), b: add(k(l3), ihlBytes) };
}

export class FieldError extends Error {}

/**
 * Lowers a field to loads for link type `dlt`, `shift` extra bytes further into the frame.
 * Throws FieldError when the link type has no such header (e.g. `link.type` on raw IP).
 */
export function lowerField(name: FieldName, dlt: number, shift = 0): Expr {
  const lt = linkTypeInfo(dlt);
  if (!lt) throw new FieldError(`link type ${linkTypeName(dlt)} is not supported`);
  const l3 = lt.l3 + shift;
  if (name === 'payload_off') {
    const l4 = l4Offset('l4', l3);
    const isV6 = op('eq', op('shr', ld(k(l3), 1), k(4)), k(6));
    const proto = { k: 'cond', c: isV6, a: ld(k(l3 + 6), 1), b: ld(k(l3 + 9), 1) } as Expr;
    // TCP: data offset from the header; UDP, ICMP, ICMPv6: 8-byte headers; otherwise L4 itself.
    const tcpHl = op('mul', op('shr', ld(add(l4, k(12)), 1), k(4)), k(4));
    const eight: Expr = {
      k: 'cond',
      c: { k: 'lor', a: op('eq', proto, k(17)), b: { k: 'lor', a: op('eq', proto, k(1)), b: op('eq', proto, k(58)) } },
      a: k(8), b: k(0),
    };
    return add(l4, { k: 'cond', c: op('eq', proto, k(6)), a: tcpHl, b: eight });
  }
  const def = fieldDef(name);
  if (!def) throw new FieldError(`unknown field ${name}`);
  let baseOff: Expr;
  if (def.base === 'ltype') {
    if (lt.ethertype === undefined) {
      throw new FieldError(`field ${name} needs a link header with a protocol type; link type ${lt.name} has none`);
    }
    baseOff = k(lt.ethertype + shift);
  } else if (def.base === 'l3') {
    baseOff = k(l3);
  } else {
    baseOff = l4Offset(def.base, l3);
  }
  const off = baseOff.k === 'const' ? k(baseOff.v + def.off) : add(baseOff, k(def.off));
  let e = ld(off, def.size);
  if (def.shr) e = op('shr', e, k(def.shr));
  if (def.mask !== undefined) e = op('and', e, k(def.mask));
  return e;
}
