/**
 * fplc = tcpdump on capture files built here, for the rules libpcap applies only when it reads
 * a savefile (pcap_open_offline), which the libpcap addon (pcap_open_dead) cannot show:
 * - NULL and LOOP links: `ip6` is AF_INET6 = 24, 28 or 30, NULL's AF word in the file's byte
 *   order — files of both byte orders, AF words of both orders in each;
 * - `ip broadcast` with tcpdump's netmask 0;
 * and, on Ethernet, the classes that once differed: L4 tests after geneve/vlan/mpls/pppoes on
 * inner IPv4 with DF set, and protochain through AH.
 * Each (file, expression) pair is compared on the packets written: fplc's -w output must be
 * byte for byte tcpdump's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPcap } from '../drivers/build.js';
import { icmp, ipv4, ipv6, tcp, udp } from '../libpcap/packets.js';
import { compileFilter } from '../../vm/compile.js';
import { runFile } from '../../vm/run-file.js';
import { Device } from '../../vm/mapi/index.js';
import { haveTcpdump, projectRoot, requires } from '../support/env.js';

const ready = requires('tcpdump', haveTcpdump);
/** FPLC_LONG_FUZZ=1: every pair, binaryen's optimizer on; otherwise a third of the encapsulation pairs, unoptimized (faster to compile). */
const LONG = process.env.FPLC_LONG_FUZZ === '1';
const tmp = mkdtempSync(join(tmpdir(), 'fplc-tcpdump-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const u32be = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const u32le = (v: number) => u32be(v).reverse();
const MAC = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const AH = (next: number) => [next, 4, 0, 0, ...u32be(0x1000), ...u32be(1), ...Array(12).fill(0xa5)];

/** IPv4 and IPv6 packets every link type here carries (network layer). */
function l3(): { v6: boolean; body: number[] }[] {
  return [
    { v6: false, body: ipv4({ proto: 6, payload: tcp(1234, 80), df: true }) },
    { v6: false, body: ipv4({ proto: 17, payload: udp(5353, 53), dst: '255.255.255.255' }) },
    { v6: false, body: ipv4({ proto: 17, payload: udp(68, 67), dst: '0.0.0.0' }) },
    { v6: false, body: ipv4({ proto: 1, payload: icmp(8), dst: '10.0.0.255' }) },
    { v6: false, body: ipv4({ proto: 51, payload: [...AH(17), ...udp(5353, 53)] }) },
    { v6: true, body: ipv6({ proto: 6, payload: tcp(1234, 80) }) },
    { v6: true, body: ipv6({ proto: 17, payload: udp(5353, 443) }) },
    { v6: true, body: ipv6({ proto: 58, payload: icmp(128) }) },
    { v6: true, body: ipv6({ proto: 17, payload: udp(5353, 53), ext: [51] }) },
    { v6: true, body: ipv6({ proto: 6, payload: tcp(1234, 80), ext: [0, 51] }) },
    { v6: true, body: ipv6({ proto: 17, payload: udp(1, 53), ext: [51, 60] }) },
  ];
}

/** Loopback frames: each packet under every AF value, the AF word in both byte orders (or one). */
function loopbackFrames(orders = [u32le, u32be]): number[][] {
  const out: number[][] = [];
  for (const p of l3()) {
    for (const af of p.v6 ? [10, 24, 28, 30] : [2]) for (const word of orders) out.push([...word(af), ...p.body]);
  }
  return out;
}

/** Ethernet frames: plain, then under vlan, QinQ, mpls, pppoes and geneve (Ethernet and bare IPv4 inside). */
function ethernetFrames(): number[][] {
  const out: number[][] = [];
  for (const p of l3()) {
    const type = u16(p.v6 ? 0x86dd : 0x800);
    const inner = [...MAC, ...type, ...p.body];
    out.push(inner);
    out.push([...MAC, ...u16(0x8100), ...u16(100), ...type, ...p.body]);
    out.push([...MAC, ...u16(0x88a8), ...u16(200), ...u16(0x8100), ...u16(100), ...type, ...p.body]);
    out.push([...MAC, ...u16(0x8847), ...u32be((16 << 12) | 0x100 | 64), ...p.body]);
    out.push([...MAC, ...u16(0x8847), ...u32be(17 << 12), ...u32be((18 << 12) | 0x100 | 64), ...p.body]);
    out.push([...MAC, ...u16(0x8864), 0x11, 0, 0, 0x3b, ...u16(p.body.length + 2), ...u16(p.v6 ? 0x57 : 0x21), ...p.body]);
    for (const opts of [0, 2]) {
      const geneve = (proto: number, payload: number[]) => [opts, 0, ...u16(proto), 0, 0, 11, 0, ...Array(opts * 4).fill(0x77), ...payload];
      out.push([...MAC, ...u16(0x800), ...ipv4({ proto: 17, payload: udp(40000, 6081, geneve(0x6558, inner)), df: true })]);
      out.push([...MAC, ...u16(0x86dd), ...ipv6({ proto: 17, payload: udp(40000, 6081, geneve(p.v6 ? 0x86dd : 0x800, p.body)) })]);
    }
  }
  return out;
}

function writeCapture(name: string, linkType: number, bigEndian: boolean, frames: number[][]): string {
  const path = join(tmp, name);
  const packets = frames.map((f, i) => ({ sec: i + 1, frac: 0, data: Uint8Array.from(f) }));
  writeFileSync(path, buildPcap({ linkType, bigEndian, snaplen: 65535 }, packets).bytes);
  return path;
}

const LOOPBACK_EXPRESSIONS = ['ip', 'ip6', 'tcp', 'udp', 'icmp6', 'port 53', 'udp port 443', 'proto 17', 'ip6 proto 58',
  'net 2001:db8::/32', 'ip6 host 2001:db8::2', 'not (tcp or udp)', 'ip6 protochain 17', 'ip6 protochain 6', 'protochain 17',
  'ip protochain 17', 'ip broadcast', 'ip and not ip broadcast', 'ip6 multicast', 'tcp[13] & 2 != 0', 'ip6[6] = 17',
  'icmp6[icmp6type] = icmp6-echo', 'portrange 50-60', 'src net 10.0.0.0/8'];

const ENCAPS = ['', 'vlan and ', 'vlan 100 and ', 'vlan and vlan and ', 'mpls and ', 'mpls and mpls and ', 'pppoes and ',
  'pppoes 0x3b and ', 'geneve and ', 'geneve 11 and '];
const INNER = ['tcp port 80', 'tcp dst port 80', 'udp port 53', 'port 53 or port 80', 'portrange 50-90', 'tcp[13] & 2 != 0',
  'udp[2:2] = 53', 'icmp[icmptype] = icmp-echo', 'ip proto 17', 'ip6 and udp', 'tcp', 'ip broadcast', 'not udp', 'ip host 10.0.0.1',
  'ip6 protochain 17'];

/** The packets tcpdump writes for `expr` and the ones fplc writes (the library, as fpl run compiles for this file). */
async function bothWrite(capture: string, linkType: number, bigEndian: boolean, expr: string, tag: string) {
  const want = join(tmp, `${tag}.tcpdump.pcap`);
  const got = join(tmp, `${tag}.fplc.pcap`);
  const t = spawnSync('tcpdump', ['-r', capture, '-w', want, expr], { encoding: 'utf8' });
  let fplcError = '';
  try {
    const filter = await compileFilter(expr, { language: 'pcap', linkType, snaplen: 65535, optimize: LONG,
      ...(bigEndian ? { fileByteOrder: 'big' as const } : {}) });
    runFile(filter, capture, { writeTo: got });
  } catch (e) {
    fplcError = (e as Error).message.split('\n')[0]!;
  }
  if (t.status !== 0 || fplcError) {
    return t.status !== 0 && fplcError ? undefined : `${expr}: tcpdump ${t.status === 0 ? 'compiles it' : 'refuses it'}, fplc ${fplcError || 'compiles it'}`;
  }
  const a = readFileSync(want);
  const b = readFileSync(got);
  return a.equals(b) ? undefined : `${expr} on ${tag}: tcpdump wrote ${(a.length - 24)} record bytes, fplc ${(b.length - 24)}`;
}

describe.skipIf(!ready)('fplc = tcpdump reading built capture files', () => {
  for (const [linkType, name] of [[0, 'NULL'], [108, 'LOOP']] as const) {
    for (const bigEndian of [false, true]) {
      it(`${name}, ${bigEndian ? 'big' : 'little'}-endian file: AF values of every system, in both byte orders`, async () => {
        const file = writeCapture(`${name}-${bigEndian ? 'be' : 'le'}.pcap`, linkType, bigEndian, loopbackFrames());
        const problems: string[] = [];
        for (const [i, expr] of LOOPBACK_EXPRESSIONS.entries()) {
          const p = await bothWrite(file, linkType, bigEndian, expr, `${name}-${bigEndian}-${i}`);
          if (p) problems.push(p);
        }
        expect(problems).toEqual([]);
      }, 120_000);
    }
  }

  it('EN10MB: L4 tests, ip broadcast and protochain after every encapsulation', async () => {
    const file = writeCapture('encap.pcap', 1, false, ethernetFrames());
    // Without FPLC_LONG_FUZZ every third pair, offset so that each encapsulation meets different L4 tests.
    const all = ENCAPS.flatMap((e, ei) => INNER.filter((_, ii) => LONG || (ii + ei) % 3 === 0).map((i) => `${e}${i}`));
    const exprs = [...all, 'ip6 protochain 17', 'protochain 6', 'ip broadcast'];
    const problems: string[] = [];
    for (const [i, expr] of exprs.entries()) {
      const p = await bothWrite(file, 1, false, expr, `encap-${i}`);
      if (p) problems.push(p);
    }
    expect(problems).toEqual([]);
  }, 300_000);

  it('MAPI BPF_FILTER on an offline NULL device compiles for the trace (big-endian)', async () => {
    // AF words in the file's (big-endian) order only, so that the other order's rule counts 0.
    const file = writeCapture('mapi-null-be.pcap', 0, true, loopbackFrames([u32be]));
    for (const expr of ['ip6', 'udp port 53']) {
      const dev = await Device.offline(file);
      const flow = dev.flow();
      flow.apply('BPF_FILTER', expr);
      const n = flow.apply('PKT_COUNTER');
      await flow.connect(); await dev.start(); await dev.finished();
      const want = Number(/(\d+) packets?/.exec(spawnSync('tcpdump', ['-r', file, '--count', expr], { encoding: 'utf8' }).stdout)?.[1]);
      expect(want, expr).toBeGreaterThan(0);
      expect(Number(flow.read(n)), expr).toBe(want);
      dev.delete();
    }
  });

  it('fpl run compiles for the file it reads (byte order, netmask 0) and takes --netmask', () => {
    const file = writeCapture('cli-null-be.pcap', 0, true, loopbackFrames([u32be]));
    const fpl = (...args: string[]) => spawnSync(process.execPath, [join(projectRoot, 'bin/fpl.js'), 'run', '--no-cache', '--json', ...args], { encoding: 'utf8' });
    const count = (expr: string) => Number(/(\d+) packets?/.exec(spawnSync('tcpdump', ['-r', file, '--count', expr], { encoding: 'utf8' }).stdout)?.[1]);
    // `udp` is ip6 (AF 24/28/30 big-endian here) or ip (AF 2).
    for (const expr of ['udp']) {
      const r = fpl('-r', file, expr);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).matched, expr).toBe(count(expr));
    }
    const eth = writeCapture('cli-eth.pcap', 1, false, ethernetFrames());
    // 10.0.0.255 is a broadcast address under /24 only.
    const r24 = fpl('-r', eth, '--netmask', '255.255.255.0', 'ip broadcast');
    const r0 = fpl('-r', eth, 'ip broadcast');
    expect(JSON.parse(r24.stdout).matched).toBeGreaterThan(JSON.parse(r0.stdout).matched);
    const unknown = fpl('-r', eth, '--netmask', '0xffffffff', 'ip broadcast');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("netmask not known, so 'ip broadcast' not supported");
  }, 60_000);
});
