// MAPI functions as FPL EXTERNs (vm/mapi/externs.ts), against plain-JavaScript counts.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompileError } from '../../lang/diagnostics.js';
import { compileFilter, loadFilter, lowerSource } from '../../vm/compile.js';
import { runFile } from '../../vm/run-file.js';
import type { ExternImpl } from '../../abi/index.js';
import { projectRoot } from '../support/env.js';
import { contains, readPcap, tcpDstPort } from './pcap.js';

const web = join(projectRoot, 'samples', 'web.pcap');
const pkts = readPcap(web);
const isTcp = (p: Uint8Array) => p.length > 23 && p[12] === 8 && p[13] === 0 && p[23] === 6;

async function run(src: string, opts: Parameters<typeof compileFilter>[1] = {}) {
  const f = await compileFilter(src, opts);
  return { f, r: runFile(f, web) };
}

async function compileErrorOf(src: string, opts: Parameters<typeof compileFilter>[1] = {}): Promise<string> {
  try { await lowerSource(src, opts); } catch (e) { expect(e).toBeInstanceOf(CompileError); return (e as Error).message; }
  throw new Error('compiled');
}

describe('EXTERN("MAPI_FUNCTION", …)', () => {
  it('STR_SEARCH filters as MAPI does (1 or 0), within offset and depth', async () => {
    const { r } = await run('IF (EXTERN("STR_SEARCH", "GET ", 54, 10)) THEN RETURN 7; FI');
    const want = pkts.filter((p) => contains(p.data.subarray(54, 64), 'GET ')).length;
    expect(want).toBeGreaterThan(0);
    expect(r.matched).toBe(want);
    expect(r.codes.get(7)).toBe(want);
    const { r: value } = await run('RETURN EXTERN("STR_SEARCH", "HTTP/1.1 200", 0, 0) + 1;');
    expect(value.codes.get(2)).toBe(pkts.filter((p) => contains(p.data, 'HTTP/1.1 200')).length);
    expect(value.codes.get(1)).toBe(pkts.filter((p) => !contains(p.data, 'HTTP/1.1 200')).length);
  }, 20000);

  it('keeps short-circuit order: a counter behind && counts only the packets that reach it', async () => {
    const { f, r } = await run('IF (PKT.B[12] == 8 && PKT.B[13] == 0 && PKT.IP_PROTO == PROTO_TCP && EXTERN("SAMPLE", 2, 2)) THEN R[1] = EXTERN("PKT_COUNTER"); RETURN 1; FI R[2] = EXTERN("PKT_COUNTER");');
    const tcp = pkts.filter((p) => isTcp(p.data)).length;
    expect(r.matched).toBe(Math.floor(tcp / 2));
    expect(f.registers[1]).toBe(Math.floor(tcp / 2));
    expect(f.registers[2]).toBe(pkts.length - Math.floor(tcp / 2));
    // || : the right side runs only when the left side is false.
    const { f: g } = await run('IF (PKT.LEN > 100 || EXTERN("PKT_COUNTER") > 0) THEN R[0] = EXTERN("BYTE_COUNTER"); FI');
    const short = pkts.filter((p) => p.data.length <= 100);
    expect(g.registers[0]).toBe(pkts.reduce((n, p) => n + p.wirelen, 0));
    expect(short.length).toBeGreaterThan(0);
  }, 20000);

  it('inlines BPF_FILTER and evaluates value functions (HASH, PKTINFO size) per packet', async () => {
    const { r } = await run('IF (EXTERN("BPF_FILTER", "ip and tcp dst port 80")) THEN RETURN EXTERN("PKTINFO", PKT_SIZE_ALIAS); FI'.replace('PKT_SIZE_ALIAS', '1'));
    const web80 = pkts.filter((p) => tcpDstPort(p.data) === 80);
    expect(r.matched).toBe(web80.length);
    for (const [len, n] of r.codes) expect(n).toBe(web80.filter((p) => p.wirelen === len).length);
    const { r: h } = await run('RETURN EXTERN("HASH", 0) + 1;');
    const hashes = new Map<number, number>();
    for (const p of pkts) {
      const v = (p.data.reduce((s, b) => s + b, p.data.length) % 500009) + 1;
      hashes.set(v, (hashes.get(v) ?? 0) + 1);
    }
    expect(new Map([...h.codes])).toEqual(hashes);
  }, 20000);

  it('reports MAPI argument errors at the call, and refuses what has no per-packet value', async () => {
    expect(await compileErrorOf('IF (\n  EXTERN("STR_SEARCH", "|6x|", 0, 0)) THEN RETURN 1; FI', { file: 'w.fpl' }))
      .toMatch(/^w\.fpl:2:3: error: EXTERN\("STR_SEARCH", …\): STR_SEARCH: argument 1 \(pattern\) has "\|6x\|".*\(MAPI error 3505\)/);
    expect(await compileErrorOf('RETURN EXTERN("SAMPLE", 2);')).toMatch(/1:8: error: .*SAMPLE takes 2 arguments \("ii"\), not 1 \(MAPI error 7002\)/);
    expect(await compileErrorOf('RETURN EXTERN("HASH", 7);')).toMatch(/HASH: argument 1 \(layer\) must be 0, 1, 2 or 3, not 7 \(MAPI error 7001\)/);
    expect(await compileErrorOf('RETURN EXTERN("BPF_FILTER", "tcp port");')).toMatch(/BPF_FILTER: argument 1 \(expression\) does not compile/);
    expect(await compileErrorOf('RETURN EXTERN("GAP");')).toMatch(/GAP's result is not a 32-bit per-packet value/);
    expect(await compileErrorOf('RETURN EXTERN("TO_BUFFER", 0);')).toMatch(/TO_BUFFER hands packets/);
  });

  it('obeys allowExterns, and an application extern of the same name wins', async () => {
    expect(await compileErrorOf('RETURN EXTERN("PKT_COUNTER");', { allowExterns: ['STR_SEARCH'] })).toMatch(/unknown extern "PKT_COUNTER"; the externs available are STR_SEARCH/);
    const mine: ExternImpl = { name: 'STR_SEARCH', summary: 'the application\'s own', call: (ctx) => ctx.caplen };
    const { r } = await run('RETURN EXTERN("STR_SEARCH", "GET ", 0, 0);', { externs: [mine] });
    expect(r.matched).toBe(pkts.length);
  }, 20000);

  it('a module compiled ahead of time runs without the compiler state (STR_SEARCH found again by name)', async () => {
    const src = 'IF (EXTERN("STR_SEARCH", "GET ", 0, 0)) THEN R[0] = EXTERN("PKT_COUNTER"); RETURN 1; FI';
    const { f, r } = await run(src);
    const again = await loadFilter(f.wasm);
    const r2 = runFile(again, web);
    expect(r2.matched).toBe(r.matched);
    expect(r.matched).toBe(pkts.filter((p) => contains(p.data, 'GET ')).length);
    expect(again.registers[0]).toBe(r.matched);
  }, 20000);

  it('SAMPLE probabilistic starts from its seed in the module (init runs in the program)', async () => {
    const { r } = await run('RETURN EXTERN("SAMPLE", 50, PROBABILISTIC);'.replace('PROBABILISTIC', '3'));
    expect(r.matched).toBeGreaterThan(pkts.length * 0.3);
    expect(r.matched).toBeLessThan(pkts.length * 0.7);
  }, 20000);
});
