/**
 * FPL against libpcap on real captures, where both say the same thing: each FPL program is
 * paired with a libpcap expression over raw `link[…]` loads that reads the same bytes in the
 * same order (FPL's transport offset is L3 + 40 for IP version 6, else L3 + 4·IHL; the libpcap
 * side spells that rule out). The FPL program goes through the whole pipeline (front end, IR,
 * WebAssembly, runtime); libpcap compiles without its optimizer and runs bpf_filter. Verdicts
 * (match or not) must agree on every corpus and edge packet of the link type.
 */
import { describe, expect, it } from 'vitest';
import { libpcapVerdicts, oracleReady } from '../libpcap/oracle.js';
import { corpusPackets, DLT, edgePackets, toRecords } from '../libpcap/packets.js';
import { compileFilter } from '../../vm/compile.js';
import { linkTypeName } from '../../lang/ir/linktypes.js';
import { haveCorpus, requires } from '../support/env.js';

const ready = oracleReady();
const withCorpus = requires('the tcpdump capture corpus', haveCorpus);

/** Pairs for a link type whose network header starts at `l3`. */
function pairs(l3: number): [fpl: string, pcap: string][] {
  const ver = `(link[${l3}] >> 4)`;
  const ihl = `4*(link[${l3}] & 0xf)`;
  /** libpcap: FPL's transport field at offset `k` from L4 compared with `rel`. */
  const l4 = (k: number, size: number, rel: string) =>
    `((${ver} = 6 and link[${l3 + 40 + k}:${size}] ${rel}) or (${ver} != 6 and link[${l3 + k} + ${ihl}:${size}] ${rel}))`;
  return [
    [`RETURN PKT.B[${l3 + 9}] == 6;`, `link[${l3 + 9}] = 6`],
    ['IF (PKT.IP_PROTO == PROTO_TCP) THEN RETURN 1; FI', `link[${l3 + 9}] = 6`],
    ['IF ((PKT.IP_PROTO == PROTO_TCP) && (PKT.TCP_PORT == 80)) THEN RETURN 1;',
      `link[${l3 + 9}] = 6 and (${l4(0, 2, '= 80')} or ${l4(2, 2, '= 80')})`],
    ['RETURN PKT.IP_PROTO == PROTO_UDP && PKT.UDP_DPORT == 53;', `link[${l3 + 9}] = 17 and ${l4(2, 2, '= 53')}`],
    ['RETURN (PKT.TCP_FLAGS & (FLAG_SYN | FLAG_ACK)) == FLAG_SYN;', `${l4(13, 1, '& 0x12 = 2')}`],
    [`RETURN PKT.W[${l3 + 2}] > 1000 || PKT.IP_TTL < 64;`, `link[${l3 + 2}:2] > 1000 or link[${l3 + 8}] < 64`],
    ['RETURN PKT.IP_SRC == 10.0.0.1 || PKT.IP_DST >> 24 == 192;', `link[${l3 + 12}:4] = 0x0a000001 or link[${l3 + 16}:4] >> 24 = 192`],
    ['RETURN PKT.WIRELEN - PKT.IP_HL * 4 > 100;', `len - (link[${l3}] & 0xf) * 4 > 100`],
    [`RETURN PKT.DW[${l3 + 12}] % 7 == 3 && PKT.B[${l3 + 1}] / (PKT.B[${l3 + 8}] & 3) == 0;`,
      `link[${l3 + 12}:4] % 7 = 3 and link[${l3 + 1}] / (link[${l3 + 8}] & 3) = 0`],
    [`RETURN PKT.B[${l3}].U4[0] == 4 && PKT.W[${l3 + 6}].U1[2] == 1;`, `link[${l3}] >> 4 = 4 and link[${l3 + 6}:2] & 0x2000 != 0`],
  ];
}

describe.skipIf(!ready)('FPL = libpcap on real captures where both say the same thing', () => {
  for (const [linkType, l3] of [[DLT.EN10MB, 14], [DLT.LINUX_SLL, 16]] as const) {
    it(`on ${linkTypeName(linkType)}`, async () => {
      const packets = [...edgePackets(linkType), ...(withCorpus ? corpusPackets(linkType, 2000) : [])];
      const records = toRecords(packets);
      const problems: string[] = [];
      let matchedSomewhere = 0;
      for (const [fpl, pcap] of pairs(l3)) {
        const oracle = libpcapVerdicts(pcap, linkType, records, false);
        if (!oracle.ok) throw new Error(`libpcap rejects ${pcap}: ${oracle.error}`);
        const filter = await compileFilter(fpl, { linkType });
        const got = filter.runRecords(records);
        let matches = 0;
        packets.forEach((p, i) => {
          const want = oracle.verdicts[i] !== 0;
          if (want) matches++;
          if ((got[i] !== 0) !== want && problems.length < 20) problems.push(`${fpl} ~ ${pcap}: ${p.name}: libpcap ${want}, fpl ${got[i]}`);
        });
        if (matches > 0 && matches < packets.length) matchedSomewhere++;
      }
      expect(problems).toEqual([]);
      // Most pairs must tell packets apart, or the comparison proves little.
      expect(matchedSomewhere).toBeGreaterThanOrEqual(pairs(l3).length - 2);
    }, 60_000);
  }
});
