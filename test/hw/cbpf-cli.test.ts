/**
 * `fpl lower --target cbpf` end to end, through the built CLI (npm test builds it first): the
 * tcpdump -ddd it prints is loaded back by `fpl run --cbpf` and must match what tcpdump
 * counts for the expression on corpus captures of three link types; the other formats, the
 * refusal of a loop, and `fpl targets`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusDir, haveCorpus, haveTcpdump, projectRoot, requires } from '../support/env.js';

const fpl = join(projectRoot, 'bin/fpl.js');
const tmp = mkdtempSync(join(tmpdir(), 'fpl-lower-'));
const ready = requires('tcpdump', haveTcpdump) && requires('the tcpdump capture corpus', haveCorpus);

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [fpl, ...args], { encoding: 'utf8', cwd: projectRoot, env: { ...process.env, FPLC_CACHE_DIR: join(tmp, 'cache') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tcpdumpCount(capture: string, expr: string): number {
  const out = execFileSync('tcpdump', ['-r', capture, '--count', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return Number(/(\d+) packets?/.exec(out)![1]);
}

const CAPTURES = ['pim-packet-assortment.pcap', 'mptcp-v1.pcap', 'ikev2four.pcap'];   // EN10MB, LINUX_SLL, NULL
const EXPRS = ['udp port 500 or udp port 443 or ip6', 'tcp[tcpflags] & tcp-syn != 0', 'ip[2:2] > 100 and not icmp'];

describe.skipIf(!ready)('fpl lower --target cbpf', () => {
  it('prints tcpdump -ddd that fpl run --cbpf loads and that matches what tcpdump counts', () => {
    let nonzero = 0;
    for (const capture of CAPTURES.map((c) => join(corpusDir, c))) {
      for (const expr of EXPRS) {
        // Lowered for the capture's link type (-y); fpl run --cbpf reads the capture's own.
        const lt = linkType(capture);
        const lowered = run('lower', '-e', expr, '--target', 'cbpf', '-y', lt);
        expect(lowered.code, lowered.stderr).toBe(0);
        const lines = lowered.stdout.trim().split('\n');
        expect(Number(lines[0])).toBe(lines.length - 1);
        for (const l of lines.slice(1)) expect(l).toMatch(/^\d+ \d+ \d+ \d+$/);
        const ddd = join(tmp, 'f.ddd');
        writeFileSync(ddd, lowered.stdout);
        const r = run('run', '--cbpf', ddd, '-r', capture, '--json');
        expect(r.code, r.stderr).toBe(0);
        const expected = tcpdumpCount(capture, expr);
        expect(JSON.parse(r.stdout).matched, `${expr} on ${capture} (${lt})`).toBe(expected);
        if (expected > 0) nonzero++;
      }
    }
    expect(nonzero).toBeGreaterThan(4);
  });

  it('prints JSON and a commented listing of the same program', () => {
    const ddd = run('lower', '-e', 'tcp port 80', '--target', 'cbpf').stdout.trim().split('\n').slice(1).map((l) => l.split(' ').map(Number));
    const json = run('lower', '-e', 'tcp port 80', '--target', 'cbpf', '--format', 'json');
    expect(JSON.parse(json.stdout)).toEqual(ddd);
    const text = run('lower', '-e', 'tcp port 80', '--target', 'cbpf', '--format', 'text');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/; l4v4\.dport == 80\n\(\d+\) ldh +\[x \+ 16\]/);
    expect(text.stdout.match(/^\(\d+\)/gm)).toHaveLength(ddd.length);
    const report = JSON.parse(run('lower', '-e', 'tcp port 80', '--target', 'cbpf', '--json').stdout);
    expect(report).toMatchObject({ target: 'cbpf', ok: true, instructions: ddd.length, capacity: 4096, residue: null, program: ddd });
  });

  it('refuses what classic BPF cannot hold, naming it, and lists the target', () => {
    const r = run('lower', '-e', 'ip protochain 6', '--target', 'cbpf');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot lower to cbpf: for: .*loops\n {2}at: for \(/);
    expect(run('lower', '-e', 'tcp', '--target', 'ethtool').code).toBe(2);
    const t = run('targets');
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^cbpf\t.*\n {2}profile linux: 4096 instructions/);
  });
});

/** The capture's link type name, as tcpdump reports it. */
function linkType(capture: string): string {
  const info = spawnSync('tcpdump', ['-r', capture, '-c', '1'], { encoding: 'utf8' }).stderr;
  return /link-type (\w+)/.exec(info)![1]!;
}
