/**
 * Link types (DLT numbers) fplc compiles for, their names, and where the network header
 * starts. The single table: front ends, codegen, drivers (through abi/) and the CLI use it.
 */

export interface LinkTypeInfo {
  dlt: number;
  name: string;
  /** Offset of the network-layer header in the frame. */
  l3: number;
  /** Offset of a 16-bit ethertype-like protocol field, if the link header has one. */
  ethertype?: number;
  aliases?: string[];
}

export const LINK_TYPES: readonly LinkTypeInfo[] = [
  { dlt: 1, name: 'EN10MB', l3: 14, ethertype: 12, aliases: ['ETHERNET', 'ETHER'] },
  { dlt: 101, name: 'RAW', l3: 0 },
  { dlt: 12, name: 'RAW', l3: 0 },   // DLT_RAW on OpenBSD-derived captures
  { dlt: 14, name: 'RAW', l3: 0 },   // DLT_RAW on BSD/OS
  { dlt: 113, name: 'LINUX_SLL', l3: 16, ethertype: 14, aliases: ['SLL'] },
  { dlt: 276, name: 'LINUX_SLL2', l3: 20, ethertype: 0, aliases: ['SLL2'] },
  { dlt: 0, name: 'NULL', l3: 4 },
  { dlt: 108, name: 'LOOP', l3: 4 },
  { dlt: 228, name: 'IPV4', l3: 0 },
  { dlt: 229, name: 'IPV6', l3: 0 },
];

export const DLT_EN10MB = 1;

/** Names of link types seen in captures that fplc cannot compile for (for messages). */
const OTHER_NAMES: Record<number, string> = {
  6: 'IEEE802', 9: 'PPP', 10: 'FDDI', 50: 'PPP_SERIAL', 51: 'PPP_ETHER', 104: 'C_HDLC',
  105: 'IEEE802_11', 107: 'FRELAY', 119: 'PRISM_HEADER', 127: 'IEEE802_11_RADIO',
  8: 'SLIP', 117: 'PFLOG', 192: 'PPI', 195: 'IEEE802_15_4', 215: 'IEEE802_15_4_NOFCS',
};

export function linkTypeInfo(dlt: number): LinkTypeInfo | undefined {
  return LINK_TYPES.find((l) => l.dlt === dlt);
}

/** Name of any DLT number, supported or not ("DLT 147" when unknown). */
export function linkTypeName(dlt: number): string {
  return linkTypeInfo(dlt)?.name ?? OTHER_NAMES[dlt] ?? `DLT ${dlt}`;
}

/**
 * Resolves a DLT number or name (case-insensitive, with or without a `DLT_`/`LINKTYPE_`
 * prefix) to a supported DLT number; throws a RangeError that lists the supported ones.
 */
export function resolveLinkType(spec: number | string | undefined): number {
  if (spec === undefined) return DLT_EN10MB;
  let dlt: number | undefined;
  if (typeof spec === 'number') dlt = spec;
  else if (/^\d+$/.test(spec.trim())) dlt = Number(spec.trim());
  else {
    const n = spec.trim().toUpperCase().replace(/^(DLT_|LINKTYPE_)/, '');
    dlt = LINK_TYPES.find((l) => l.name === n || l.aliases?.includes(n))?.dlt;
  }
  if (dlt === undefined || !linkTypeInfo(dlt)) {
    throw new RangeError(`unsupported link type ${JSON.stringify(spec)}; supported: ${supportedLinkTypes()}`);
  }
  return dlt;
}

/** The link types fplc compiles for, as `NAME (DLT)`, for error messages. */
export function supportedLinkTypes(): string {
  return [...new Set(LINK_TYPES.map((l) => `${l.name} (${l.dlt})`))].join(', ');
}
