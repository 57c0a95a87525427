/**
 * How fpl bench measures (vm/bench.ts): settle waits out the process's background threads,
 * sideBySide samples fplc's two loops and libpcap on the same packets, and programs too long
 * for libpcap's optimizer are measured unoptimized, the row saying so. The figures themselves
 * are not judged here (timed tests would be noise); what each returns and when is.
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { pcapCompile } from '../../drivers/libpcap.js';
import { compileFilter } from '../../vm/compile.js';
import { benchExpressions, LIBPCAP_OPTIMIZE_MAX_INSNS, preload, settle, sideBySide } from '../../vm/bench.js';
import { oracleReady } from '../libpcap/oracle.js';

const webPcap = new URL('../../samples/web.pcap', import.meta.url).pathname;

describe('settle', () => {
  it('waits while another thread of the process burns CPU, and gives up at its limit', async () => {
    // The worker spins for 400 ms after it starts; settle must not return while it does.
    const worker = new Worker('const end = Date.now() + 400; while (Date.now() < end) {} ', { eval: true });
    const started = new Promise((resolve) => worker.once('online', resolve));
    await started;
    const t0 = performance.now();
    await settle(3000);
    const waited = performance.now() - t0;
    await worker.terminate();
    expect(waited).toBeGreaterThan(200);
    expect(waited).toBeLessThan(3000 + 200);

    const busy = new Worker('for (;;) {}', { eval: true });
    await new Promise((resolve) => busy.once('online', resolve));
    const t1 = performance.now();
    await settle(300);
    const gaveUp = performance.now() - t1;
    await busy.terminate();
    expect(gaveUp).toBeGreaterThanOrEqual(280);
    expect(gaveUp).toBeLessThan(1500);
  }, 20_000);
});

describe('sideBySide', () => {
  it('gives fplc both loops and no libpcap figure when there is no libpcap program', async () => {
    const { records, packets } = preload(webPcap);
    const filter = await compileFilter('tcp port 80', { language: 'pcap' });
    const m = await sideBySide(filter, records, packets, null, 2);
    expect(m.indexNs).toBeGreaterThan(0);
    expect(m.recordsNs).toBeGreaterThan(0);
    expect(m.libpcapNs).toBeNull();
    // The staged packets are left as they were: the filter still gives libpcap's count on them.
    expect([...filter.runStagedIndex()].filter((v) => v !== 0).length).toBe([...filter.runStaged()].filter((v) => v !== 0).length);
  }, 30_000);
});

describe('libpcap beside fplc in fpl bench', () => {
  const ready = oracleReady();
  (ready ? it : it.skip)('measures a program too long for libpcap\'s optimizer unoptimized, and says so', async () => {
    // Enough host terms that libpcap's unoptimized program passes the threshold.
    let n = 50, expr = '';
    for (;;) {
      expr = Array.from({ length: n }, (_, i) => `host 10.${i >> 8}.${i & 255}.7`).join(' or ');
      const plain = pcapCompile(expr, { linkType: 1, optimize: false });
      if (!plain.ok) throw new Error(plain.error);
      if (plain.insns.length > LIBPCAP_OPTIMIZE_MAX_INSNS) break;
      n *= 2;
    }
    const t0 = performance.now();
    const [long, short] = await benchExpressions(webPcap, [expr, 'tcp port 80'], { rounds: 2 });
    // Optimizing the long program would take libpcap many seconds.
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(long!.libpcap_optimized).toBe(false);
    expect(long!.libpcap_ns_per_pkt).toBeGreaterThan(0);
    expect(short!.libpcap_optimized).toBeUndefined();
    expect(short!.libpcap_ns_per_pkt).toBeGreaterThan(0);
  }, 60_000);
});
