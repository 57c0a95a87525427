/**
 * Pcap files filtered in place (read straight into the batch area, records walked by the
 * module, partial records carried over between chunks) give exactly what the general reader
 * gives: packets, matches, codes, and the same error at the same record — on files with
 * records cut to the snaplen, truncated tails, and on the corpus.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, c, load, ret, seq, type Program } from '../../lang/ir/ir.js';
import { compileProgram } from '../../vm/compile.js';
import { runFile } from '../../vm/run-file.js';
import { LinkTypeMismatchError } from '../../vm/filter.js';
import { buildPcap, recordSizes } from '../drivers/build.js';
import { corpusDir, haveCorpus, need } from '../support/env.js';

const tmp = mkdtempSync(join(tmpdir(), 'fplc-direct-'));
const BATCH = 262144 + 16 + 1024;   // barely more than one largest record: many chunks, many carries

// Result: (byte 0 ^ caplen) % 5, plus a register counting packets.
const program = (linkType: number): Program => ({
  body: seq({ k: 'setreg', n: 0, value: bin('add', { k: 'reg', n: 0 }, c(1)) },
    ret(bin('mod', bin('xor', load(0, 1), { k: 'meta', m: 'caplen' }), c(5)))),
  linkType, registers: 1, memoryCells: 1, locals: 0, externs: [], fuel: 1,
});

async function both(path: string, linkType: number) {
  const out = [];
  for (const direct of [true, false]) {
    const f = await compileProgram(program(linkType), { batchBytes: BATCH });
    const r = runFile(f, path, { direct });
    out.push({ packets: r.packets, matched: r.matched, codes: [...r.codes].sort(), error: r.error?.message, regs: f.registers[0] });
  }
  return out;
}

describe('direct pcap reading', () => {
  it('agrees with the general reader across chunk boundaries', async () => {
    const packets = recordSizes(400, 7).map((len, i) => ({ sec: i, frac: 0, data: Uint8Array.from({ length: len }, (_, j) => (i * 7 + j) & 0xff) }));
    const path = join(tmp, 'mixed.pcap');
    writeFileSync(path, buildPcap({ linkType: 1, snaplen: 262144 }, packets).bytes);
    const [direct, general] = await both(path, 1);
    expect(direct).toEqual(general);
    expect(direct!.packets).toBe(400);
  });

  it('hands records cut to the snaplen and truncated tails to the general reader', async () => {
    const packets = recordSizes(300, 3).map((len, i) => ({ sec: i, frac: 0, data: Uint8Array.from({ length: len }, (_, j) => (i + j) & 0xff) }));
    const { bytes, offsets } = buildPcap({ linkType: 1, snaplen: 8000 }, packets);
    const path = join(tmp, 'snap.pcap');
    writeFileSync(path, bytes);
    const [d1, g1] = await both(path, 1);
    expect(d1).toEqual(g1);
    const cut = join(tmp, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, offsets[250]! + 10));   // inside record 250's header
    const [d2, g2] = await both(cut, 1);
    expect(d2).toEqual(g2);
    expect(d2!.error).toMatch(/packet 250/);
  });

  it('agrees on every Ethernet capture of the corpus', async (ctx) => {
    need(ctx, 'the tcpdump capture corpus', haveCorpus);
    let compared = 0;
    for (const name of readdirSync(corpusDir).filter((n) => n.endsWith('.pcap')).sort()) {
      const path = join(corpusDir, name);
      const head = readFileSync(path).subarray(0, 24);
      if (head.length < 24 || head.readUInt32LE(20) !== 1) continue;
      let results;
      try { results = await both(path, 1); } catch (e) { if (e instanceof LinkTypeMismatchError) continue; throw e; }
      expect(results[0], name).toEqual(results[1]);
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  }, 120_000);
});
