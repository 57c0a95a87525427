/**
 * Issue 19's REGEXP reproduction: `(a+)+$` on one TCP packet whose payload is 40 × "a" then
 * "!" hung a backtracking engine. Through FPL's EXTERN, the MAPI Device and `fpl flow`, it must
 * now end at once with the right verdict (and a matching pattern must still pass the packet).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Device } from '../../vm/mapi/index.js';
import { compileFilter } from '../../vm/compile.js';
import { runFile } from '../../vm/run-file.js';
import { projectRoot } from '../support/env.js';
import { writePcap } from '../mapi/helpers.js';

/** Ethernet + IPv4 + TCP (dport 80) carrying `payload`. */
function tcpPacket(payload: string): Uint8Array {
  const data = Buffer.from(payload, 'latin1');
  const b = new Uint8Array(54 + data.length);
  b.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0], 0);
  b.set([0x45, 0, (40 + data.length) >> 8, (40 + data.length) & 255, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  b.set([0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0], 34);
  b.set(data, 54);
  return b;
}

const dir = mkdtempSync(join(tmpdir(), 'fplc-regexp-'));
const evil = writePcap(join(dir, 'evil.pcap'), [{ sec: 1, usec: 0, bytes: tcpPacket('a'.repeat(40) + '!') }]);
const both = writePcap(join(dir, 'both.pcap'), [
  { sec: 1, usec: 0, bytes: tcpPacket('a'.repeat(40) + '!') },
  { sec: 2, usec: 0, bytes: tcpPacket('a'.repeat(4000)) },
]);
const BAD = '(a+)+$';

describe('REGEXP on the issue 19 packet', () => {
  it('FPL EXTERN("REGEXP", "(a+)+$") ends at once', async () => {
    const f = await compileFilter(`IF (EXTERN("REGEXP", "${BAD}")) THEN RETURN 1; FI`);
    const t0 = performance.now();
    expect(runFile(f, evil).matched).toBe(0);
    expect(runFile(f, both).matched).toBe(1);
    expect(performance.now() - t0).toBeLessThan(1_000);
  }, 30_000);

  it('the MAPI Device ends at once', async () => {
    const dev = await Device.offline(both);
    const flow = dev.flow();
    flow.apply('REGEXP', BAD);
    const count = flow.apply('PKT_COUNTER');
    await flow.connect();
    const t0 = performance.now();
    await dev.start();
    await dev.finished();
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(flow.read(count)).toBe(1n);
    dev.delete();
    await expect(Device.offline(both).then((d) => d.flow().apply('REGEXP', '(a)\\1'))).rejects.toMatchObject({ code: 7001, message: expect.stringMatching(/backreferences/) });
  }, 30_000);

  it('fpl flow ends at once', () => {
    const r = spawnSync(process.execPath, [join(projectRoot, 'bin/fpl.js'), 'flow', `(device,x) > (REGEXP, "${BAD}") > (PKT_COUNTER)`, '-r', both],
      { encoding: 'utf8', timeout: 20_000, env: { ...process.env, FPLC_CACHE_DIR: join(dir, 'cache') } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/PKT_COUNTER[^\n]*: 1\b/);
  }, 30_000);
});
