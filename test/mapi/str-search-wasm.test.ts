/**
 * STR_SEARCH runs inside WebAssembly (the IR's `search` node): on the packets of the capture
 * corpus, the compiled decision equals the function's plain JavaScript reference
 * (strSearchMatches, a naive scan) for Snort patterns of one and of many alternatives, taken
 * from the corpus' own bytes so that they match somewhere, at several offsets and depths.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Device } from '../../vm/mapi/index.js';
import { describe, expect, it } from 'vitest';
import { STR_SEARCH, strSearchExpr, strSearchMatches, type StrSearchConfig } from '../../hostfns/mapi-str-search.js';
import type { Program } from '../../lang/ir/ir.js';
import { compileProgram } from '../../vm/compile.js';
import { corpusDir, haveCorpus, requires } from '../support/env.js';
import { toRecords } from '../support/records.js';
import { ipv4Frame, readRecords, tempDir, writePcap, type Rec } from './helpers.js';

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

function corpusPackets(): Rec[] {
  const out: Rec[] = [];
  for (const name of readdirSync(corpusDir).filter((n) => /\.(pcap|pcapng|cap)$/.test(n)).sort()) {
    try { out.push(...readRecords(join(corpusDir, name)).records); } catch { /* unreadable on purpose */ }
  }
  return out;
}

/** A Snort pattern of `count` alternatives cut from corpus packets, written in |hex| form. */
function patternFrom(packets: Rec[], count: number, len: number, seed: number): string {
  const alts: string[] = [];
  let s = seed;
  while (alts.length < count) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const p = packets[s % packets.length]!;
    if (p.bytes.length < len) continue;
    const at = (s >>> 7) % (p.bytes.length - len + 1);
    alts.push(`|${hex(p.bytes.subarray(at, at + len))}|`);
  }
  return alts.join('||');
}

const program = (config: StrSearchConfig): Program => ({
  body: { k: 'return', value: strSearchExpr(config) }, linkType: 1, registers: 0, memoryCells: 1, locals: 0, externs: [], fuel: 0,
});

describe('STR_SEARCH in WebAssembly = the JavaScript reference, on the corpus', () => {
  const run = requires('the capture corpus', haveCorpus) ? it : it.skip;
  run('for single and multiple alternatives at several offsets and depths', async () => {
    const packets = corpusPackets();
    expect(packets.length).toBeGreaterThan(1000);
    const records = toRecords(packets.map((p) => ({ bytes: p.bytes, wirelen: p.wlen })));
    const patterns = ['GET ', 'HTTP/1.1', '|00 00|', 'a', patternFrom(packets, 1, 4, 1), patternFrom(packets, 1, 12, 2),
      patternFrom(packets, 8, 4, 3), patternFrom(packets, 100, 6, 4), patternFrom(packets, 100, 3, 5)];
    let matched = 0, total = 0;
    for (const [i, pattern] of patterns.entries()) {
      for (const [offset, depth] of [[i % 3 ? 14 : 0, 0], [i, 40], [54 + i, i % 2 ? 1500 : 12]] as const) {
        const r = STR_SEARCH.instance([pattern, offset, depth], {} as never);
        if (!r.ok) continue;   // depth shorter than the pattern
        const f = await compileProgram(program(r.config));
        const got = f.runRecords(records);
        const expected = packets.map((p) => (strSearchMatches(r.config, p.bytes) ? 1 : 0));
        const diff = expected.findIndex((v, k) => v !== got[k]);
        expect(diff, `pattern ${pattern.slice(0, 60)} offset ${offset} depth ${depth}: packet ${diff}`).toBe(-1);
        matched += expected.reduce<number>((n, v) => n + v, 0);
        total += packets.length;
      }
    }
    // Both outcomes occur often (the comparison is not vacuous).
    expect(matched).toBeGreaterThan(total / 20);
    expect(matched).toBeLessThan(total - total / 20);
  }, 60_000);
});

describe('STR_SEARCH on a device', () => {
  // Flows that differ by a port are dispatched together; each still applies its own search.
  it('after BPF_FILTER on several ports, with one and with 100 alternatives, against a naive count', async () => {
    const words = Array.from({ length: 100 }, (_, i) => `word${i * 37}x`);
    const frames = Array.from({ length: 400 }, (_, i) => {
      const text = `${'.'.repeat(i % 61)}${i % 3 === 0 ? 'GET ' : 'GEX '}${i % 5 === 0 ? words[i % 100] : 'none'}${'-'.repeat(i % 17)}`;
      return ipv4Frame(6, new TextEncoder().encode(text), { dport: 80 + (i % 4) });
    });
    const path = writePcap(join(tempDir(), 'search.pcap'), frames.map((bytes, i) => ({ sec: i, usec: 0, bytes })));
    const dev = await Device.offline(path);
    const specs = [80, 81, 82, 83].flatMap((port) => [[port, 'GET '], [port, words.join('||')]] as const);
    const flows = specs.map(([port, pattern]) => {
      const flow = dev.flow();
      flow.apply('BPF_FILTER', `tcp dst port ${port}`);
      flow.apply('STR_SEARCH', pattern, 54, 0);
      return { flow, counter: flow.apply('PKT_COUNTER') };
    });
    for (const f of flows) await f.flow.connect();
    await dev.start();
    await dev.finished();
    const got = flows.map((f) => Number(f.flow.read(f.counter)));
    const expected = specs.map(([port, pattern]) => {
      const alts = pattern.split('||').map((w) => Buffer.from(w));
      return frames.filter((f, i) => 80 + (i % 4) === port && alts.some((a) => Buffer.from(f.subarray(54)).indexOf(a) >= 0)).length;
    });
    expect(got).toEqual(expected);
    expect(expected.every((n) => n > 0 && n < 100)).toBe(true);
  });
});
