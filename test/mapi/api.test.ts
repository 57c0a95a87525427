/**
 * The C-shaped API: every error path with its MAPI code, flow states, several flows on one
 * device (connecting and closing flows later keeps the others' counts), and random arguments
 * (never a throw: always a fid or a MAPI error).
 */
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FLOW_ACTIVE, FLOW_FINISHED, FLOW_INIT, MAPI_FUNCTIONS, MFF_PCAP, mapi_apply_function, mapi_close_flow, mapi_connect,
  mapi_create_flow, mapi_create_offline_device, mapi_delete_offline_device, mapi_get_flow_info, mapi_get_next_pkt, mapi_read_error,
  mapi_read_results, mapi_start_offline_device,
} from '../../vm/mapi/index.js';
import { projectRoot } from '../support/env.js';
import { readRecords } from './helpers.js';

const WEB = resolve(projectRoot, 'samples/web.pcap');
const TOTAL = BigInt(readRecords(WEB).records.length);

/** Expects the call to have failed with `code`; the message is non-empty and the error is then cleared. */
function expectError(code: number, mentions?: string): void {
  const e = mapi_read_error();
  expect(e.code).toBe(code);
  expect(e.message.length).toBeGreaterThan(10);
  if (mentions) expect(e.message).toContain(mentions);
  expect(mapi_read_error().code).toBe(0);
}

async function waitFinished(fd: number): Promise<void> {
  while (mapi_get_flow_info(fd)!.status !== FLOW_FINISHED) await new Promise((r) => setTimeout(r, 2));
}

describe('offline devices and flows', () => {
  it('names devices "<path>@<n>", runs them asynchronously to FLOW_FINISHED', async () => {
    const dev = mapi_create_offline_device(WEB, MFF_PCAP)!;
    expect(dev).toMatch(/web\.pcap@\d+$/);
    const dev2 = mapi_create_offline_device(WEB, MFF_PCAP)!;
    expect(Number(dev2.split('@').pop())).toBe(Number(dev.split('@').pop()) + 1);
    const fd = mapi_create_flow(dev);
    expect(fd).toBeGreaterThan(0);
    const fid = mapi_apply_function(fd, 'PKT_COUNTER');
    expect(fid).toBe(1);
    expect(mapi_apply_function(fd, 'BYTE_COUNTER')).toBe(2);
    expect(mapi_get_flow_info(fd)).toMatchObject({ fd, device: dev, num_functions: 2, status: FLOW_INIT });
    expect(await mapi_connect(fd)).toBe(0);
    expect(mapi_get_flow_info(fd)!.status).toBe(FLOW_ACTIVE);
    expect(mapi_start_offline_device(dev)).toBe(0);
    await waitFinished(fd);
    const r = mapi_read_results(fd, fid)!;
    expect(r.res).toBe(TOTAL);
    expect(r.size).toBe(8);
    const last = readRecords(WEB).records.at(-1)!;
    expect(r.ts).toBe(BigInt(last.sec) * 1_000_000n + BigInt(last.frac));
    expect(await mapi_close_flow(fd)).toBe(0);
    expect(mapi_get_flow_info(fd)).toBeNull();
    expectError(6145);
    expect(mapi_delete_offline_device(dev)).toBe(0);
    expect(mapi_delete_offline_device(dev2)).toBe(0);
  });

  it('several flows: flows connected or closed later leave the others\' counts intact', async () => {
    const dev = mapi_create_offline_device(WEB, MFF_PCAP)!;
    const a = mapi_create_flow(dev), b = mapi_create_flow(dev), c = mapi_create_flow(dev);
    const fa = mapi_apply_function(a, 'PKT_COUNTER');
    mapi_apply_function(b, 'BPF_FILTER', 'tcp[100] = 7 or tcp');   // faults on short packets
    const fb = mapi_apply_function(b, 'PKT_COUNTER');
    const fc2 = mapi_apply_function(c, 'PKT_COUNTER');
    await mapi_connect(b);
    await mapi_connect(a);
    mapi_start_offline_device(dev);
    await mapi_close_flow(b);        // recompiles without b while the device runs
    await mapi_connect(c);           // and again with c
    await waitFinished(a);
    expect(mapi_read_results(a, fa)!.res).toBe(TOTAL);
    const cc = mapi_read_results(c, fc2)!.res as bigint;
    expect(cc).toBeLessThanOrEqual(TOTAL);
    expect(mapi_read_results(b, fb)).toBeNull();
    expectError(6145);
    expect(mapi_get_flow_info(c)!.status).toBe(FLOW_FINISHED);
    // Connecting after the end: finished at once, counts nothing.
    const d = mapi_create_flow(dev);
    const fd = mapi_apply_function(d, 'PKT_COUNTER');
    await mapi_connect(d);
    expect(mapi_get_flow_info(d)!.status).toBe(FLOW_FINISHED);
    expect(mapi_read_results(d, fd)!.res).toBe(0n);
    mapi_delete_offline_device(dev);
  });
});

describe('error codes', () => {
  it('devices: 6155 unreadable file, 3200 unknown device or format, 3202 double start, 6157 no name', () => {
    expect(mapi_create_offline_device('/nonexistent/x.pcap', MFF_PCAP)).toBeNull();
    expectError(6155, 'x.pcap');
    expect(mapi_create_offline_device(resolve(projectRoot, 'samples/web.fpl'), MFF_PCAP)).toBeNull();
    expectError(6155, 'not a capture');
    expect(mapi_create_offline_device(WEB, 2)).toBeNull();
    expectError(3200, 'format');
    expect(mapi_create_flow('nodev@99')).toBe(-1);
    expectError(3200, 'nodev@99');
    expect(mapi_create_flow(undefined as unknown as string)).toBe(-1);
    expectError(6157);
    const dev = mapi_create_offline_device(WEB, MFF_PCAP)!;
    expect(mapi_start_offline_device(dev)).toBe(0);
    expect(mapi_start_offline_device(dev)).toBe(-1);
    expectError(3202);
    expect(mapi_delete_offline_device(dev)).toBe(0);
    expect(mapi_create_flow(dev)).toBe(-1);
    expectError(3200);
  });

  it('flows and functions: 6144, 6145, 6147, 6143, 7006, 3081, 1025, argument errors naming the argument', async () => {
    const dev = mapi_create_offline_device(WEB, MFF_PCAP)!;
    const fd = mapi_create_flow(dev);
    expect(mapi_apply_function(fd, 'NO_SUCH_FN')).toBe(-1); expectError(6144, 'NO_SUCH_FN');
    expect(mapi_apply_function(999999, 'PKT_COUNTER')).toBe(-1); expectError(6145, '999999');
    expect(mapi_apply_function(fd, 'BPF_FILTER', 'tcp port')).toBe(-1); expectError(1025, 'argument 1');
    expect(mapi_apply_function(fd, 'BPF_FILTER', '')).toBe(-1); expectError(7001, 'argument 1');
    expect(mapi_apply_function(fd, 'BPF_FILTER')).toBe(-1); expectError(7001);
    expect(mapi_apply_function(fd, 'PKTINFO', 5)).toBe(-1); expectError(7002, 'argument 1');
    expect(mapi_apply_function(fd, 'HASH', 4)).toBe(-1); expectError(7001, 'layer');
    expect(mapi_apply_function(fd, 'TO_BUFFER', 2)).toBe(-1); expectError(7001, 'flag');
    expect(mapi_apply_function(fd, 'SAMPLE', 1, 'x')).toBe(-1); expectError(7002, 'argument 2');
    expect(mapi_apply_function(fd, 'STR_SEARCH', 'ab|41', 0, 0)).toBe(-1); expectError(3503, 'unterminated');
    expect(mapi_apply_function(fd, 'STR_SEARCH', 'abcdef', 0, 3)).toBe(-1); expectError(3504, 'depth');
    expect(mapi_apply_function(fd, 'STR_SEARCH', '||', 0, 0)).toBe(-1); expectError(3505);
    expect(mapi_apply_function(fd, 'STR_SEARCH', '|4g|', 0, 0)).toBe(-1); expectError(3505, 'hex');
    expect(mapi_apply_function(fd, 'STR_SEARCH', 'ab', -1, 0)).toBe(-1); expectError(7002, 'offset');
    expect(mapi_apply_function(fd, 'STR_SEARCH', 'ab', 0, -1)).toBe(-1); expectError(7003, 'depth');
    expect(mapi_apply_function(fd, 'STR_SEARCH', '', 0, 0)).toBe(-1); expectError(7001);
    expect(mapi_apply_function(fd, 'PKT_COUNTER', 1)).toBe(-1); expectError(7000, 'argument');
    expect(mapi_get_flow_info(fd)!.num_functions).toBe(0);   // failed applies leave the flow as it was
    const fid = mapi_apply_function(fd, 'PKT_COUNTER');
    const buf = mapi_apply_function(fd, 'TO_BUFFER', 1);
    expect(mapi_read_results(fd, fid)).toBeNull(); expectError(6143);
    expect(await mapi_get_next_pkt(fd, buf)).toBeNull(); expectError(6143);
    expect(await mapi_connect(fd)).toBe(0);
    expect(await mapi_connect(fd)).toBe(-1); expectError(3081);
    expect(mapi_apply_function(fd, 'PKT_COUNTER')).toBe(-1); expectError(7006);
    expect(mapi_read_results(fd, 0)).toBeNull(); expectError(6145);
    expect(mapi_read_results(fd, 77)).toBeNull(); expectError(6147, '77');
    expect(mapi_read_results(0, fid)).toBeNull(); expectError(6145);
    expect(await mapi_get_next_pkt(fd, fid)).toBeNull(); expectError(6147, 'TO_BUFFER');
    expect(await mapi_get_next_pkt(fd, buf)).toBeNull();            // NOWAIT, empty
    expect(mapi_read_error().code).toBe(0);
    expect(await mapi_connect(424242)).toBe(-1); expectError(6145);
    expect(await mapi_close_flow(fd)).toBe(0);
    expect(await mapi_close_flow(fd)).toBe(-1); expectError(6145);
    mapi_delete_offline_device(dev);
  });

  it('random arguments never throw: the result is a fid or -1 with a MAPI error code', () => {
    const dev = mapi_create_offline_device(WEB, MFF_PCAP)!;
    const fd = mapi_create_flow(dev);
    const arg = fc.oneof(fc.integer({ min: -5, max: 10 }), fc.integer(), fc.double(), fc.string({ maxLength: 12 }), fc.constantFrom('tcp', 'ip and udp', '|41|', 'a||b', ''),
      fc.bigInt(), fc.constant(null), fc.constant(undefined), fc.array(fc.integer(), { maxLength: 2 }));
    const name = fc.oneof(fc.constantFrom(...MAPI_FUNCTIONS.map((f) => f.name)), fc.string({ maxLength: 8 }), fc.constant(42));
    fc.assert(fc.property(name, fc.array(arg, { maxLength: 4 }), (n, args) => {
      const r = mapi_apply_function(fd, n as string, ...args);
      const e = mapi_read_error();
      if (r === -1) {
        expect([1025, 3503, 3504, 3505, 6144, 7000, 7001, 7002, 7003, 7004, 7005, 7006, 7011]).toContain(e.code);
        expect(e.message).toMatch(/argument|function|MAPI/i);
      } else {
        expect(r).toBeGreaterThan(0);
        expect(e.code).toBe(0);
      }
    }), { numRuns: 300 });
    mapi_delete_offline_device(dev);
  });
});
