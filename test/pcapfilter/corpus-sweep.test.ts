/**
 * fplc = tcpdump over the capture corpus: for every capture of a link type fplc supports and
 * every expression of a list (primitives alone, and after vlan/mpls/pppoes/geneve), the number
 * of packets `tcpdump -r FILE --count EXPR` counts must be the number fplc matches, compiled
 * as `fpl run` compiles for that file (link type, byte order, netmask 0); a refusal by one must
 * be a refusal by the other.
 *
 * By default a sample: up to 2 captures of each (link type, byte order), with the short
 * expression list (a tcpdump run per pair is the cost). FPLC_LONG_FUZZ=1 runs every capture
 * with the long list and prints the number of differing pairs; there the reference for link
 * types other than NULL and LOOP is libpcap in process (the addon, optimizer on and netmask 0,
 * as tcpdump compiles — its file rules differ from pcap_open_dead's only on NULL and LOOP),
 * counting over the file's records, and tcpdump itself for NULL and LOOP.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { openCapture, openCaptureFile } from '../../drivers/capture.js';
import { libpcapVerdicts, oracleReady } from '../libpcap/oracle.js';
import { linkTypeInfo } from '../../lang/ir/linktypes.js';
import { compileFilter, type CompileOptions } from '../../vm/compile.js';
import type { CompiledFilter } from '../../vm/filter.js';
import { runFile } from '../../vm/run-file.js';
import { corpusDir, haveCorpus, haveTcpdump, requires } from '../support/env.js';

const LONG = process.env.FPLC_LONG_FUZZ === '1';
const ready = requires('tcpdump', haveTcpdump) && requires('the tcpdump capture corpus', haveCorpus) && (!LONG || oracleReady());

const SHORT = ['ip', 'ip6', 'tcp', 'udp', 'tcp port 80', 'udp port 53', 'icmp or icmp6', 'not (tcp or udp)', 'ip broadcast',
  'ip6 protochain 17', 'vlan and tcp', 'pppoes and ip', 'mpls and udp', 'geneve and tcp port 22', 'tcp[13] & 2 != 0',
  'net 10.0.0.0/8 or net 2001:db8::/32', 'portrange 1-1024', 'ip proto 47', 'arp or rarp', 'ether broadcast'];
const PRIMITIVES = ['tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'tcp port 80', 'port 53', 'tcp dst portrange 1-1023', 'udp src port 123',
  'tcp[tcpflags] & tcp-syn != 0', 'udp[4:2] > 100', 'icmp[icmptype] = icmp-echoreply', 'ip proto 17', 'ip6 proto 58', 'proto 6',
  'ip host 10.0.0.1', 'net 192.168.0.0/16', 'ip multicast', 'ip6 multicast', 'ip broadcast', 'ip[8] < 64', 'ip6[6] = 6',
  'ip protochain 6', 'ip6 protochain 17', 'ip and not ip[6:2] & 0x1fff = 0', 'len > 200', 'greater 1000', 'ether multicast'];
const ENCAPS = ['', 'vlan and ', 'vlan and vlan and ', 'mpls and ', 'pppoes and ', 'geneve and '];
/** The long list: the short one, then every primitive after each encapsulation. */
const EXPRESSIONS = LONG ? [...new Set([...SHORT, ...ENCAPS.flatMap((e) => PRIMITIVES.map((p) => e + p)),
  'llc', 'stp', 'pppoed', 'ip6 and udp port 443', 'not ip and not ip6', 'ether proto 0x88cc', 'iso', 'decnet', 'atalk', 'ipx'])]
  : SHORT.filter((_, i) => i % 2 === 0 || i >= SHORT.length - 6);

interface Capture { path: string; linkType: number; bigEndian: boolean }

function corpusCaptures(): Capture[] {
  const out: Capture[] = [];
  const perGroup = new Map<string, number>();
  for (const name of readdirSync(corpusDir).sort()) {
    const path = join(corpusDir, name);
    let info;
    try {
      const src = openCaptureFile(path, { chunkBytes: 64 * 1024 });
      info = src.info;
      src.close();
    } catch {
      continue;
    }
    if (!linkTypeInfo(info.linkType)) continue;
    const group = `${info.linkType}/${info.bigEndian}`;
    const n = perGroup.get(group) ?? 0;
    perGroup.set(group, n + 1);
    // The sample: the first two of each group, and the capture that showed NULL's IPv6 rule.
    if (!LONG && n >= 2 && name !== 'quic_handshake.pcap') continue;
    out.push({ path, linkType: info.linkType, bigEndian: info.bigEndian });
  }
  return out;
}

/** A capture's records (ABI layout), or undefined when its link type changes or it is damaged. */
function recordsOf(path: string, linkType: number): Uint8Array | undefined {
  const src = openCapture(readFileSync(path));
  const dst = new Uint8Array(1 << 20);
  const parts: Uint8Array[] = [];
  try {
    for (let b = src.nextBatch(dst, 0, dst.length); b.records > 0; b = src.nextBatch(dst, 0, dst.length)) {
      if (b.linkType !== linkType) return undefined;
      parts.push(dst.slice(0, b.bytes));
    }
  } catch {
    return undefined;
  } finally {
    src.close();
  }
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** libpcap's count as tcpdump would give it: its optimizer on, netmask 0; 'rejects all' is 0. */
function addonCount(records: Uint8Array, linkType: number, expr: string): number | 'refused' {
  const r = libpcapVerdicts(expr, linkType, records, true, { netmask: 0 });
  if (!r.ok) return /expression rejects all packets/.test(r.error) ? 0 : 'refused';
  return r.verdicts.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
}

function tcpdumpCount(path: string, expr: string): Promise<number | 'refused'> {
  return new Promise((done) => {
    execFile('tcpdump', ['-r', path, '--count', expr], { maxBuffer: 1 << 20 }, (_err, stdout, stderr) => {
      const m = /^(\d+) packets?/m.exec(stdout);
      // libpcap's optimizer calls a filter that can never match an error; fplc warns and matches 0.
      if (/expression rejects all packets/.test(stderr)) return done(0);
      done(m ? Number(m[1]) : /syntax error|not supported|unknown|can't|not known|invalid|illegal|greater than|too many/i.test(stderr) ? 'refused' : -1);
    });
  });
}

describe.skipIf(!ready)('fplc = tcpdump --count over the corpus', () => {
  it(`${LONG ? 'every capture, long' : 'a sample of the captures, short'} expression list`, async () => {
    const captures = corpusCaptures();
    const compiled = new Map<string, Promise<CompiledFilter | 'refused'>>();
    const filterFor = (expr: string, c: Capture) => {
      const opts: CompileOptions = { language: 'pcap', linkType: c.linkType, optimize: false, ...(c.bigEndian ? { fileByteOrder: 'big' } : {}) };
      const key = `${expr}\0${c.linkType}\0${c.bigEndian}`;
      if (!compiled.has(key)) compiled.set(key, compileFilter(expr, opts).catch(() => 'refused' as const));
      return compiled.get(key)!;
    };
    const problems: string[] = [];
    const recordCache = new Map<string, Uint8Array | undefined>();
    let pairs = 0, matchedSomewhere = 0;
    const jobs = captures.flatMap((c) => EXPRESSIONS.map((expr) => ({ c, expr })));
    let next = 0;
    await Promise.all(Array.from({ length: LONG ? 4 : 2 }, async () => {
      while (next < jobs.length) {
        const { c, expr } = jobs[next++]!;
        const inProcess = LONG && c.linkType !== 0 && c.linkType !== 108;
        let records: Uint8Array | undefined;
        if (inProcess) {
          if (!recordCache.has(c.path)) recordCache.set(c.path, recordsOf(c.path, c.linkType));
          records = recordCache.get(c.path);
          if (!records) continue;   // damaged, or several link types
        }
        const want = records ? addonCount(records, c.linkType, expr) : await tcpdumpCount(c.path, expr);
        if (want === -1) continue;   // tcpdump could not read the file
        const filter = await filterFor(expr, c);
        let got: number | 'refused' | 'mixed link types';
        if (filter === 'refused') got = 'refused';
        else if (records) got = filter.runRecords(records).reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
        else {
          try {
            got = runFile(filter, c.path).matched;
          } catch (e) {
            if ((e as Error).name !== 'LinkTypeMismatchError') throw e;
            got = 'mixed link types';   // a pcapng of several link types: fplc refuses it
          }
        }
        if (got === 'mixed link types') continue;
        pairs++;
        if (typeof want === 'number' && want > 0) matchedSomewhere++;
        if (got !== want) problems.push(`${expr} on ${c.path.slice(corpusDir.length + 1)}: tcpdump ${want}, fplc ${got}`);
      }
    }));
    if (LONG) console.log(`corpus sweep: ${captures.length} captures × ${EXPRESSIONS.length} expressions: ${pairs} pairs, ${problems.length} differ`);
    expect(problems.slice(0, 30)).toEqual([]);
    // Some captures are damaged past what tcpdump reads, and pcapngs of several link types fplc refuses.
    expect(pairs).toBeGreaterThan(captures.length * EXPRESSIONS.length * 0.7);
    // Most encapsulated expressions match nothing on most captures: the long list needs a lower bar.
    expect(matchedSomewhere).toBeGreaterThan(pairs / (LONG ? 50 : 10));
  }, LONG ? 3_600_000 : 240_000);
});
