/**
 * Shared pieces of the pcap-expression suites: packets for every link type in scope (the
 * edge packets of test/libpcap/packets.ts, re-framed for the link types it does not build,
 * plus corpus packets), and a comparison of fplc's verdicts with libpcap's.
 */
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { libpcapVerdicts } from '../libpcap/oracle.js';
import { corpusPackets, edgePackets, toRecords, type Packet } from '../libpcap/packets.js';
import { haveCorpus } from '../support/env.js';
import { newState, runPacket } from '../cbpf/ir-interp.js';

export const LINK_TYPES = { EN10MB: 1, RAW: 101, LINUX_SLL: 113, LINUX_SLL2: 276, NULL: 0, LOOP: 108, IPV4: 228, IPV6: 229 } as const;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Re-frames SLL edge packets as SLL2 (protocol at 0, ifindex at 4, packet type at 10). */
function sll2Packets(): Packet[] {
  return edgePackets(LINK_TYPES.LINUX_SLL).map((p, i) => {
    const full = p.bytes;
    const out = new Uint8Array(Math.max(0, full.length + 4));
    if (full.length >= 16) {
      out.set([full[14], full[15], 0, 0, 0, 0, 0, (i % 3) + 1, 0, 1, i % 5, 6], 0);
      out.set(full.subarray(6, 14), 12);
      out.set(full.subarray(16), 20);
      return { bytes: out, wirelen: p.wirelen + 4, name: `sll2 ${p.name}` };
    }
    return { bytes: full.slice(), wirelen: p.wirelen + 4, name: `sll2 ${p.name}` };
  });
}

/** Raw-IP packets of one IP version (for the IPV4/IPV6 link types). */
function rawVersion(version: 4 | 6): Packet[] {
  return edgePackets(LINK_TYPES.RAW).filter((p) => p.bytes.length === 0 || p.bytes[0] >> 4 === version || /cut at 0$/.test(p.name));
}

/** NULL packets with the AF word in network order (as LOOP carries it). */
function loopPackets(): Packet[] {
  return edgePackets(LINK_TYPES.NULL).map((p) => {
    const b = p.bytes.slice();
    if (b.length >= 4) b.set([b[3], b[2], b[1], b[0]], 0);
    return { bytes: b, wirelen: p.wirelen, name: `loop ${p.name}` };
  });
}

export function packetsFor(dlt: number, corpusMax = 300): Packet[] {
  let edge: Packet[];
  switch (dlt) {
    case LINK_TYPES.LINUX_SLL2: edge = sll2Packets(); break;
    case LINK_TYPES.LOOP: edge = loopPackets(); break;
    case LINK_TYPES.IPV4: edge = rawVersion(4); break;
    case LINK_TYPES.IPV6: edge = rawVersion(6); break;
    default: edge = edgePackets(dlt);
  }
  const corpus = haveCorpus ? corpusPackets(dlt, corpusMax) : [];
  return [...edge, ...corpus];
}

export interface Comparison {
  compiledByLibpcap: boolean;
  mismatches: string[];
  distinct: number;
  fplcError?: string;
  /** With optimize=true: packets where libpcap's optimized program disagrees with its own unoptimized one. */
  optimizerChanges?: number;
}

/** fplc vs libpcap (unoptimized) on every packet: the return values must be equal. */
export function compare(expr: string, dlt: number, packets: readonly Packet[], records: Uint8Array,
  opts: { optimize?: boolean; netmask?: number; snaplen?: number } = {}): Comparison {
  const oracle = libpcapVerdicts(expr, dlt, records, opts.optimize ?? false, { netmask: opts.netmask, snaplen: opts.snaplen });
  let program;
  try {
    // The addon compiles with pcap_open_dead, libpcap's live rules (AF_INET6 = 10 on NULL links).
    program = compilePcapFilter(expr, { linkType: dlt, netmask: opts.netmask ?? 0xffffffff, snaplen: opts.snaplen, capture: 'live' }).program;
  } catch (e) {
    const msg = (e as Error).message;
    if (!oracle.ok) return { compiledByLibpcap: false, mismatches: [], distinct: 0, fplcError: msg };
    return { compiledByLibpcap: true, mismatches: [`${JSON.stringify(expr)} dlt ${dlt}: libpcap compiles it, fplc: ${msg.split('\n')[0]}`], distinct: 0, fplcError: msg };
  }
  if (!oracle.ok) {
    return { compiledByLibpcap: false, mismatches: [`${JSON.stringify(expr)} dlt ${dlt}: libpcap rejects it (${oracle.error}), fplc compiles it`], distinct: 0 };
  }
  let reference = oracle.verdicts;
  let optimizerChanges: number | undefined;
  if (opts.optimize) {
    // The unoptimized program is the reference; the optimizer drops loads (e.g. `& 0` tests) and
    // so changes verdicts on truncated packets. Compare where the optimizer keeps them.
    const unopt = libpcapVerdicts(expr, dlt, records, false, { netmask: opts.netmask, snaplen: opts.snaplen });
    if (unopt.ok) {
      optimizerChanges = oracle.verdicts.reduce((n, v, i) => n + (v !== unopt.verdicts[i] ? 1 : 0), 0);
      if (optimizerChanges > 0) reference = unopt.verdicts;
    }
  }
  const state = newState(program);
  const mismatches: string[] = [];
  packets.forEach((p, i) => {
    const got = runPacket(program, state, p.bytes, p.wirelen);
    if (got !== reference[i] && mismatches.length < 3) {
      mismatches.push(`${JSON.stringify(expr)} dlt ${dlt} opt=${opts.optimize ?? false}: ${p.name} (caplen ${p.bytes.length}, wirelen ${p.wirelen}): libpcap ${reference[i]}, fplc ${got}; ${hex(p.bytes.subarray(0, 80))}`);
    }
  });
  return { compiledByLibpcap: true, mismatches, distinct: new Set(oracle.verdicts).size, optimizerChanges };
}

export { toRecords };
