// The `fpl` command end to end, through the compiled CLI in dist/ (npm test builds it first).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PcapWriter } from '../../drivers/pcap-writer.js';
import { PcapngBuilder } from '../drivers/build.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveTcpdump, projectRoot, requires } from '../support/env.js';
import { FILTER_PIPELINE } from '../../lang/ir/pipeline.js';

const fpl = join(projectRoot, 'bin/fpl.js');
const sample = (f: string) => join(projectRoot, 'samples', f);
const tmp = mkdtempSync(join(tmpdir(), 'fpl-cli-'));

const cacheDir = join(tmp, 'cache');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [fpl, ...args], { encoding: 'utf8', cwd: projectRoot, env: { ...process.env, FPLC_CACHE_DIR: cacheDir } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tcpdumpCount(capture: string, expr: string): number {
  const out = execFileSync('tcpdump', ['-r', capture, '--count', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return Number(/(\d+) packets?/.exec(out)![1]);
}

describe('fpl run', () => {
  it('counts the web program against the equivalent libpcap expression', () => {
    const r = run('run', sample('web.fpl'), '-r', sample('web.pcap'), '--json');
    // The sample closes its IF (the paper's listing has no FI, which compiles with a warning).
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.packets).toBe(191);
    if (!requires('tcpdump', haveTcpdump)) return;
    // PKT.IP_PROTO reads byte L3+9 and the ports sit at L3 + 4*IHL, with no ethertype test.
    const expr = 'ether[23] = 6 and (ether[14 + 4*(ether[14]&0xf):2] = 80 or ether[16 + 4*(ether[14]&0xf):2] = 80)';
    const expected = tcpdumpCount(sample('web.pcap'), expr);
    expect(res.matched).toBe(expected);
    expect(res.codes).toEqual({ 1: expected });
  });

  it('learns RTSP dynamic ports and passes the TCP packets sent to them', () => {
    const r = run('run', sample('rtsp-dynports.fpl'), '-r', sample('rtsp.pcap'), '--json');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    // The trace negotiates client ports 5000, 5002 and 5004 and then sends 40 TCP packets to them.
    expect(res).toEqual({ packets: 97, matched: 40, codes: { 1: 40 } });
    if (!requires('tcpdump', haveTcpdump)) return;
    expect(tcpdumpCount(sample('rtsp.pcap'), 'tcp and (dst port 5000 or dst port 5002 or dst port 5004)')).toBe(40);
  });

  it('prints a human summary and writes matched packets that tcpdump reads', () => {
    const out = join(tmp, 'matched.pcap');
    const r = run('run', sample('rtsp-dynports.fpl'), '-r', sample('rtsp.pcap'), '-w', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('97 packets read, 40 matched');
    if (!requires('tcpdump', haveTcpdump)) return;
    expect(tcpdumpCount(out, 'tcp dst portrange 5000-5005')).toBe(40);
    expect(tcpdumpCount(out, '')).toBe(40);
  });

  it('caches compiled modules and reuses them with identical results', () => {
    rmSync(cacheDir, { recursive: true, force: true });
    const first = run('run', sample('flowcount.fpl'), '-r', sample('web.pcap'), '--json');
    expect(first.code).toBe(0);
    const entries = readdirSync(cacheDir).filter((f) => f.endsWith('.module'));
    expect(entries.length).toBe(1);
    const second = run('run', sample('flowcount.fpl'), '-r', sample('web.pcap'), '--json');
    expect(second.stdout).toBe(first.stdout);
    // A damaged cache entry is compiled again, not an error.
    writeFileSync(join(cacheDir, entries[0]!), 'not wasm');
    expect(run('run', sample('flowcount.fpl'), '-r', sample('web.pcap'), '--json').stdout).toBe(first.stdout);
    expect(run('run', sample('web.fpl'), '-r', sample('web.pcap'), '--no-cache', '--json').code).toBe(0);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.module')).length).toBe(1);
  });

  it('stops after -c matched packets', () => {
    const r = run('run', sample('web.fpl'), '-r', sample('web.pcap'), '-c', '3', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).matched).toBe(3);
  });

  it('takes a libpcap expression as -e or as trailing arguments', () => {
    const a = run('run', '-r', sample('web.pcap'), '-e', 'tcp port 80', '--json');
    const b = run('run', '-r', sample('web.pcap'), '--json', 'tcp', 'port', '80');
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    if (!requires('tcpdump', haveTcpdump)) return;
    expect(JSON.parse(a.stdout).matched).toBe(tcpdumpCount(sample('web.pcap'), 'tcp port 80'));
  });

  it('runs as a program through its shell line, with arguments intact, as a user\'s shell starts it', () => {
    const env = { ...process.env, FPLC_CACHE_DIR: cacheDir, NODE_EXTRA_CA_CERTS: '/nonexistent/certs.pem' };
    const direct = spawnSync(fpl, ['run', '-r', sample('web.pcap'), '--json', 'tcp port 80 or', 'udp'], { encoding: 'utf8', env });
    const viaNode = run('run', '-r', sample('web.pcap'), '--json', 'tcp port 80 or', 'udp');
    expect(direct.status).toBe(0);
    // A missing bundle makes node warn at start-up; the bin drops the variable, so no warning.
    expect(direct.stderr).toBe('');
    expect(direct.stdout).toBe(viaNode.stdout);
  });
});

describe('fpl compile, check, dump', () => {
  it('runs a .wasm compiled ahead of time with identical results', () => {
    const wasm = join(tmp, 'rtsp.wasm');
    expect(run('compile', sample('rtsp-dynports.fpl'), '-o', wasm).code).toBe(0);
    expect(readFileSync(wasm).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    const aot = run('run', wasm, '-r', sample('rtsp.pcap'), '--json');
    const jit = run('run', sample('rtsp-dynports.fpl'), '-r', sample('rtsp.pcap'), '--json');
    expect(aot.code).toBe(0);
    expect(aot.stdout).toBe(jit.stdout);
  });

  it('checks programs and reports errors with file:line:col and a caret (exit 1)', () => {
    expect(run('check', sample('flowcount.fpl'))).toMatchObject({ code: 0, stdout: 'ok\n' });
    const bad = join(tmp, 'bad.fpl');
    writeFileSync(bad, 'IF (PKT.IP_PROTO == PROTO_TCP) THEN\n  R[300] = 1;\nFI\n');
    const r = run('check', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:2:`);
    expect(r.stderr).toMatch(/\n\s+R\[300\] = 1;\n\s+\^/);
  });

  it('dumps the IR and the WebAssembly text', () => {
    const ir = run('dump', '--ir', sample('web.fpl'));
    expect(ir.code).toBe(0);
    expect(ir.stdout).toContain('ip4.proto');
    const wat = run('dump', '--wat', sample('web.fpl'));
    expect(wat.code).toBe(0);
    expect(wat.stdout).toContain('(module');
    expect(wat.stdout).toContain('"run"');
  });

  it('dumps the IR after each pass of the filter pipeline', () => {
    const all = run('dump', '--ir', '--after', 'all', 'tcp dst port 80');
    expect(all.code).toBe(0);
    const heads = all.stdout.split('\n').filter((l) => l.startsWith('; after '));
    expect(heads).toEqual(['; after lower', ...FILTER_PIPELINE.map((n) => `; after ${n}`)]);
    // Only lengthguard adds the length test; the last stage is what the backend compiles.
    expect(all.stdout.split('; after lengthguard')[0]).not.toContain('caplen >= 24');
    expect(all.stdout.split('; after lengthguard')[1]).toContain('caplen >= 24');
    const one = run('dump', '--ir', '--after', 'lengthguard', 'tcp dst port 80');
    expect(one.stdout).toBe(`; after lengthguard${all.stdout.split('; after lengthguard')[1]}`);
    expect(run('dump', '--ir', '--after', 'nope', 'tcp').code).toBe(2);
  });

  it('exits 2 on usage errors (a file that cannot be opened among them) and 3 on a bad capture', () => {
    expect(run('run', sample('web.fpl')).code).toBe(2);
    expect(run('frobnicate').code).toBe(2);
    const notCapture = join(tmp, 'not.pcap');
    writeFileSync(notCapture, 'hello, this is not a capture file');
    const r = run('run', sample('web.fpl'), '-r', notCapture);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('not.pcap');
    for (const args of [['run', '-e', 'tcp', '-r'], ['bench', '-e', 'tcp', '--capture']]) {
      const missing = run(...args, join(tmp, 'missing.pcap'));
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/cannot read .*missing\.pcap: no such file or directory \(ENOENT\)/);
    }
    const noProgram = run('run', join(tmp, 'missing.fpl'), '-r', sample('web.pcap'));
    expect(noProgram.code).toBe(2);
    expect(noProgram.stderr).toMatch(/cannot read .*missing\.fpl: no such file or directory \(ENOENT\)/);
    // tcpdump too refuses -c 0.
    const zero = run('run', '-e', 'tcp', '-r', sample('web.pcap'), '-c', '0');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('-c takes a positive packet count');
    const unwritable = run('run', '-e', 'tcp', '-r', sample('web.pcap'), '-w', join(tmp, 'no-such-dir', 'out.pcap'));
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/cannot write .*out\.pcap: no such file or directory \(ENOENT\)/);
  });

  it('refuses a second -e, dumps the IR by default, names a garbage .wasm', () => {
    const twice = run('run', '-r', sample('web.pcap'), '-e', 'tcp', '-e', 'udp');
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('give -e once');
    const dump = run('dump', '-e', 'tcp');
    expect(dump.code).toBe(0);
    expect(dump.stdout).toMatch(/^; from pcap/);
    const garbage = join(tmp, 'garbage.wasm');
    writeFileSync(garbage, 'not a module at all');
    const g = run('run', garbage, '-r', sample('web.pcap'));
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/garbage\.wasm: not a WebAssembly module/);
    const help = run('help', 'run');
    expect(help.stdout).toMatch(/Exit codes: 0 ok; 1 program error/);
    expect(help.stdout).toMatch(/Link types for -y .*EN10MB \(1\).*LINUX_SLL2 \(276\)/);
  });

  it('says a pcapng whose interfaces change link type must be split (not -y), exit 3', () => {
    const b = new PcapngBuilder();
    b.shb();
    b.idb(1);
    b.idb(101);
    const v4 = Uint8Array.from([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    b.epb(0, 0, 1, Uint8Array.from([...Array(12).fill(2), 8, 0, ...v4]));
    b.epb(1, 0, 2, v4);
    const file = join(tmp, 'two-links.pcapng');
    writeFileSync(file, b.bytes());
    const r = run('run', '-r', file, 'ip');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/interfaces have different link types \(EN10MB first, then RAW\).*split the capture/);
    // The advice, not the file's path (a temporary directory's name may hold "-y").
    expect(r.stderr.split(file).join('')).not.toContain('-y');
  });

  it('refuses a capture of a link type it does not support, naming the file, with exit 3', () => {
    const hdlc = join(tmp, 'c_hdlc.pcap');
    const w = new PcapWriter(hdlc, { linkType: 104 });
    w.writePacket(0, 0, new Uint8Array(40));
    w.close();
    for (const args of [['run', '-e', 'tcp', '-r', hdlc], ['run', sample('web.fpl'), '-r', hdlc], ['bench', '--capture', hdlc, '-e', 'tcp']]) {
      const r = run(...args);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/c_hdlc\.pcap: its link type 104 is not one fplc supports \(EN10MB \(1\), RAW/);
    }
  });

  it('refuses a .wasm compiled for another link type, naming both, before writing anything', () => {
    const wasm = join(tmp, 'web-en10mb.wasm');
    expect(run('compile', sample('web.fpl'), '-o', wasm).code).toBe(0);
    const sll = join(tmp, 'one.sll.pcap');
    const w = new PcapWriter(sll, { linkType: 113 });
    w.writePacket(0, 0, new Uint8Array(40));
    w.close();
    const out = join(tmp, 'never.pcap');
    const r = run('run', wasm, '-r', sll, '-w', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EN10MB \(1\).*LINUX_SLL \(113\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('keeps the packets before a truncated record and exits 3', () => {
    const whole = readFileSync(sample('web.pcap'));
    const cut = join(tmp, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 10));
    const r = run('run', sample('web.fpl'), '-r', cut, '--json');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).packets).toBe(190);
    expect(r.stderr).toMatch(/packet 190, file offset \d+/);
    const b = run('bench', '--capture', cut, '-e', 'tcp', '--json');
    expect(b.code).toBe(3);
    expect(JSON.parse(b.stdout).packets).toBe(190);
    expect(b.stderr).toMatch(/packet 190, file offset \d+\); the figures are for the 190 packets before it/);
  });
});

describe('fpl bench', () => {
  it('prints one JSON line per expression and per flow count (a smoke run: the numbers are not judged here)', () => {
    const r = run('bench', '--capture', sample('web.pcap'), '-e', 'tcp port 80', '-e', 'udp', '--flows', '1,2', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(0, 2).map((l) => l.expr)).toEqual(['tcp port 80', 'udp']);
    for (const l of lines.slice(0, 2)) {
      expect(l.packets).toBe(191);
      expect(l.ns_per_pkt).toBeGreaterThan(0);
      expect(l.compile_ms).toBeGreaterThan(0);
      if (requires('the libpcap addon', l.libpcap_ns_per_pkt !== null)) expect(l.libpcap_ns_per_pkt).toBeGreaterThan(0);
    }
    expect(lines.slice(2).map((l) => l.flows)).toEqual([1, 2]);
    expect(run('bench', '--capture', sample('web.pcap')).code).toBe(2);
  }, 60_000);

  it('says when it measures only the first packets of a capture', () => {
    // A pcapng file whose second interface is of another link type: the first one's packets.
    const b = new PcapngBuilder();
    b.shb();
    b.idb(1);
    b.idb(113);
    const frame = new Uint8Array(60);
    frame.set([0x08, 0x00, 0x45], 12);
    for (let i = 0; i < 5; i++) b.epb(0, 0, i, frame);
    for (let i = 0; i < 5; i++) b.epb(1, 0, i, frame);
    const mixed = join(tmp, 'two-link-types.pcapng');
    writeFileSync(mixed, b.bytes());
    const r = run('bench', '--capture', mixed, '-e', 'ip', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('two-link-types.pcapng: measuring its first 5 packets (the capture changes link type after them)');
    expect(JSON.parse(r.stdout).packets).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it('exits 3, naming the capture, when it has no packets to measure', () => {
    const header = join(tmp, 'header-only.pcap');
    writeFileSync(header, readFileSync(sample('web.pcap')).subarray(0, 24));
    const broken = join(tmp, 'first-record-cut.pcap');
    writeFileSync(broken, readFileSync(sample('web.pcap')).subarray(0, 100));
    for (const [capture, why] of [[header, /header-only\.pcap: has no packets/], [broken, /first-record-cut\.pcap: truncated record data/]] as const) {
      for (const what of [['-e', 'tcp'], ['--flows', '1']]) {
        const r = run('bench', '--capture', capture, ...what);
        expect(r.code).toBe(3);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(why);
      }
    }
  });
});

describe('fpl --version', () => {
  it('prints the package\'s version and exits 0', () => {
    const { version } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = run(flag);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`fplc ${version} (Node ${process.version})`);
    }
  });
});
