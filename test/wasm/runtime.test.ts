/**
 * The runtime and backend on hand-built IR: batch execution, live R/M views, reset, fuel,
 * AOT load, link-type checks, malformed captures, externs. Semantics are compared with the
 * reference interpreter in test/wasm/differential.test.ts; this file checks the plumbing.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bin, c, field, land, load, lor, ret, seq, type Expr, type Program, type Stmt } from '../../lang/ir/ir.js';
import { compileProgram, loadFilter } from '../../vm/compile.js';
import { LinkTypeMismatchError } from '../../vm/filter.js';
import { CaptureRunError, runCapture } from '../../vm/feed.js';
import { buildPcap } from '../drivers/build.js';

const prog = (body: Stmt, over: Partial<Program> = {}): Program =>
  ({ body, linkType: 1, registers: 4, memoryCells: 16, locals: 2, externs: [], fuel: 100, ...over });
const pcap = (packets: number[][], linkType = 1) =>
  buildPcap({ linkType }, packets.map((d, i) => ({ sec: i, frac: 0, data: Uint8Array.from(d) }))).bytes;
const reg = (n: number): Expr => ({ k: 'reg', n });
const setreg = (n: number, value: Expr): Stmt => ({ k: 'setreg', n, value });

describe('runtime', () => {
  it('counts web packets in the bundled sample like tcpdump (126 of 191)', async () => {
    const web = land(bin('eq', field('ip4.proto'), c(6)), lor(bin('eq', field('l4.sport'), c(80)), bin('eq', field('l4.dport'), c(80))));
    const f = await compileProgram(prog({ k: 'if', cond: web, then: ret(1) }));
    const r = runCapture(f, readFileSync(new URL('../../samples/web.pcap', import.meta.url)));
    expect(r.length).toBe(191);
    expect(r.reduce((s, x) => s + x, 0)).toBe(126);
    expect(f.packetsProcessed).toBe(191);
  });

  it('keeps R and M across packets, exposes them live, and reset() zeroes them', async () => {
    // R[0]++ ; M[R[0]] = first byte ; return R[0]
    const body = seq(setreg(0, bin('add', reg(0), c(1))), { k: 'setmem', index: reg(0), value: load(0, 1) }, ret(reg(0)));
    const f = await compileProgram(prog(body));
    const cap = pcap([[7], [8], [9]]);
    expect([...runCapture(f, cap)]).toEqual([1, 2, 3]);
    expect(f.registers[0]).toBe(3);
    expect([...f.memory.subarray(1, 4)]).toEqual([7, 8, 9]);
    f.registers[0] = 100;                       // the host writes state between batches
    expect([...runCapture(f, cap)]).toEqual([101, 102, 103]);
    expect(f.memory[(102) & 15]).toBe(8);
    f.reset();
    expect(f.registers[0]).toBe(0);
    expect(f.memory.every((v) => v === 0)).toBe(true);
    expect(f.packetsProcessed).toBe(0);
  });

  it('ends a packet with 0 on a short load but keeps the writes made before it', async () => {
    const body = seq(setreg(1, bin('add', reg(1), c(1))), ret(bin('add', load(3, 2), c(1))));
    const f = await compileProgram(prog(body));
    expect([...runCapture(f, pcap([[0, 0, 0, 1, 2], [0, 0, 0, 1], []]))]).toEqual([0x0103, 0, 0]);
    expect(f.registers[1]).toBe(3);
  });

  it('counts packets that run out of fuel and lets the host change the fuel', async () => {
    // for (R[0] = 0; R[0] < first byte; R[0]++) R[1]++ ; return 1
    const loop: Stmt = { k: 'for', reg: 0, init: c(0), cmp: 'lt', limit: load(0, 1), step: 1,
      body: setreg(1, bin('add', reg(1), c(1))) };
    const f = await compileProgram(prog(seq(loop, ret(1)), { fuel: 5 }));
    expect([...runCapture(f, pcap([[5], [6], [0]]))]).toEqual([1, 0, 1]);
    expect(f.fuelExhausted).toBe(1);
    expect(f.registers[1]).toBe(5 + 5);
    f.fuel = 6;
    expect([...runCapture(f, pcap([[6]]))]).toEqual([1]);
  });

  it('runs a module loaded ahead of time with the same results', async () => {
    const body = { k: 'if', cond: bin('eq', field('ip4.proto'), c(17)), then: ret(field('l4.dport')) } as Stmt;
    const f = await compileProgram(prog(body));
    const g = await loadFilter(f.wasm);
    const cap = readFileSync(new URL('../../samples/web.pcap', import.meta.url));
    expect(runCapture(g, cap)).toEqual(runCapture(f, cap));
    expect(g.meta).toEqual(f.meta);
  });

  it('refuses a capture of another link type, naming both', async () => {
    const f = await compileProgram(prog(ret(1)));
    expect(() => runCapture(f, pcap([[1]], 113))).toThrow(LinkTypeMismatchError);
    expect(() => runCapture(f, pcap([[1]], 113))).toThrow(/EN10MB \(1\).*LINUX_SLL \(113\)/);
    const raw = await compileProgram(prog(ret(1), { linkType: 101 }));
    expect([...runCapture(raw, pcap([[1]], 12))]).toEqual([1]);   // RAW under another number
  });

  it('keeps the results before a malformed record', async () => {
    const { bytes, offsets } = buildPcap({ linkType: 1, snaplen: 100 },
      [{ sec: 0, frac: 0, data: Uint8Array.of(1) }, { sec: 0, frac: 0, data: Uint8Array.of(2) }, { sec: 0, frac: 0, data: Uint8Array.of(3, 3, 3, 3) }]);
    const cut = bytes.subarray(0, offsets[2]! + 18);
    const f = await compileProgram(prog(ret(load(0, 1))));
    let err: unknown;
    try { runCapture(f, cut); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CaptureRunError);
    expect([...(err as CaptureRunError).results]).toEqual([1, 2]);
    expect((err as CaptureRunError).recordIndex).toBe(2);
  });

  it('calls the shipped RTSP extern and application externs with the packet', async () => {
    const text = 'SETUP x RTSP/1.0\r\nTransport: RTP/AVP;unicast;client_port=5002-5003\r\n\r\n';
    const pkt = [...new TextEncoder().encode(text)];
    const body = seq({ k: 'setmem', index: c(0), value: { k: 'extern', id: 0, args: [] } },
      ret({ k: 'extern', id: 1, args: [c(40), load(0, 1)] }));
    const f = await compileProgram(prog(body, { externs: [{ name: 'GetDynTCPDPortFromRTSP', config: [] }, { name: 'sum', config: [2] }] }), {
      externs: [{ name: 'sum', summary: 'test', call: (ctx, config, args) => args[0]! + args[1]! + Number(config[0]) + ctx.packet.length }],
    });
    expect([...runCapture(f, pcap([pkt]))]).toEqual([40 + pkt[0]! + 2 + pkt.length]);
    expect(f.memory[0]).toBe(5002);
    await expect(loadFilter(f.wasm)).rejects.toThrow(/extern "sum".*not available/);
  });

  it('rejects bytes that are not an fplc module', async () => {
    await expect(loadFilter(Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0))).rejects.toThrow(/fplc/);
    await expect(loadFilter(Uint8Array.of(1, 2, 3))).rejects.toThrow();
  });
});
