import { copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, compileFilterCached, decodeEntry, encodeEntry, hash128, pruneCache } from '../../vm/cache.js';
import { compileFilter, type CompileOptions } from '../../vm/compile.js';
import type { CompiledFilter } from '../../vm/filter.js';
import { toRecords } from '../support/records.js';

/** compileFilter, counting its calls: a cache hit makes none. */
function counting() {
  const calls: string[] = [];
  const compile = async (source: string, opts: CompileOptions): Promise<CompiledFilter> => {
    calls.push(source);
    return compileFilter(source, opts);
  };
  return { calls, compile };
}

const opts: CompileOptions = { language: 'pcap', linkType: 1 };

/** One Ethernet/IPv4/TCP frame to dst port `port`. */
function tcpFrame(port: number): { bytes: Uint8Array; wirelen: number } {
  const f = new Uint8Array(54);
  f.set([0x08, 0x00], 12);
  f[14] = 0x45;
  f[23] = 6;
  f.set([port >> 8, port & 0xff], 36);
  return { bytes: f, wirelen: f.length };
}

describe('the module cache', () => {
  it('hits on the same key and misses on another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-cache-'));
    const { calls, compile } = counting();
    await compileFilterCached('tcp dst port 80', opts, dir, compile);
    const hit = await compileFilterCached('tcp dst port 80', opts, dir, compile);
    expect(calls).toEqual(['tcp dst port 80']);
    expect([...hit.runRecords(toRecords([tcpFrame(80), tcpFrame(81)]))]).toEqual([262144, 0]);
    await compileFilterCached('tcp dst port 80', { ...opts, snaplen: 96 }, dir, compile);
    expect(calls.length).toBe(2);
  });

  it('never loads an entry that holds another key, even under this key\'s name (a hash collision)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-cache-'));
    const { calls, compile } = counting();
    await compileFilterCached('tcp dst port 80', opts, dir, compile);
    const [entry] = readdirSync(dir);
    // Pose port 80's entry as port 22's: the name matches, the key inside does not.
    const name22 = `${hash128(cacheKey('tcp dst port 22', opts))}.module`;
    copyFileSync(join(dir, entry!), join(dir, name22));
    const f = await compileFilterCached('tcp dst port 22', opts, dir, compile);
    expect(calls).toEqual(['tcp dst port 80', 'tcp dst port 22']);
    expect([...f.runRecords(toRecords([tcpFrame(80), tcpFrame(22)]))]).toEqual([0, 262144]);
    // The fresh compile replaced the impostor: the next run is a hit.
    await compileFilterCached('tcp dst port 22', opts, dir, compile);
    expect(calls.length).toBe(2);
    expect(decodeEntry(readFileSync(join(dir, name22)), cacheKey('tcp dst port 22', opts))).toBeDefined();
  });

  it('compiles again over a damaged or truncated entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-cache-'));
    const { calls, compile } = counting();
    await compileFilterCached('udp', opts, dir, compile);
    const file = join(dir, readdirSync(dir)[0]!);
    const good = readFileSync(file);
    for (const bad of [Buffer.from('not a module'), good.subarray(0, 20), good.subarray(0, good.length - 10)]) {
      writeFileSync(file, bad);
      const f = await compileFilterCached('udp', opts, dir, compile);
      expect([...f.runRecords(toRecords([tcpFrame(80)]))]).toEqual([0]);
    }
    expect(calls.length).toBe(4);
  });

  it('decodes what it encodes, for the key it was written for only', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.uint8Array(), (key, other, wasm) => {
      const entry = encodeEntry(key, wasm);
      expect(Buffer.from(decodeEntry(entry, key)!)).toEqual(Buffer.from(wasm));
      if (Buffer.from(other, 'utf8').equals(Buffer.from(key, 'utf8'))) return;
      expect(decodeEntry(entry, other)).toBeUndefined();
      // Any cut of the entry before its module is refused.
      for (const cut of [0, 5, 13, 17]) if (cut < entry.length - wasm.length) expect(decodeEntry(entry.subarray(0, cut), key)).toBeUndefined();
    }));
  });

  it('names entries by a 128-bit hash that separates near keys', () => {
    const names = new Set<string>();
    for (let i = 0; i < 20000; i++) names.add(hash128(`["build:x","tcp dst port ${i}",{}]`));
    expect(names.size).toBe(20000);
    expect(hash128('')).toMatch(/^[0-9a-f]{32}$/);
    expect(hash128('a')).not.toBe(hash128('b'));
  });

  it('keeps at most so many entries and bytes, least recently used out first, and drops leftovers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-cache-'));
    const t0 = Date.now() / 1000 - 10_000;
    const entry = (i: number, size: number) => {
      const name = `${hash128(String(i))}.module`;
      writeFileSync(join(dir, name), Buffer.alloc(size));
      utimesSync(join(dir, name), t0 + i, t0 + i);   // entry i was used at t0 + i
      return name;
    };
    const names = Array.from({ length: 8 }, (_, i) => entry(i, 100));
    const oldFormat = `${'ab'.repeat(32)}.wasm`;
    writeFileSync(join(dir, oldFormat), 'x');
    writeFileSync(join(dir, 'x.module.1.tmp'), 'x');
    utimesSync(join(dir, 'x.module.1.tmp'), t0, t0);           // a write that died long ago
    writeFileSync(join(dir, 'y.module.2.tmp'), 'x');           // a write under way
    writeFileSync(join(dir, 'notes.txt'), 'mine');             // not the cache's
    pruneCache(dir, 5, 1e9);
    const left = () => readdirSync(dir).sort();
    expect(left()).toEqual([...names.slice(3), 'notes.txt', 'y.module.2.tmp'].sort());
    pruneCache(dir, 5, 350);                                   // 350 bytes: the 3 newest
    expect(left()).toEqual([...names.slice(5), 'notes.txt', 'y.module.2.tmp'].sort());
    // The newest entry stays even when it alone is over the bound.
    const big = entry(100, 1000);
    pruneCache(dir, 5, 350);
    expect(left()).toEqual([big, 'notes.txt', 'y.module.2.tmp'].sort());
  });

  it('marks an entry used when it is hit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fplc-cache-'));
    const { compile } = counting();
    await compileFilterCached('icmp', opts, dir, compile);
    const file = join(dir, readdirSync(dir)[0]!);
    const long = Date.now() / 1000 - 100_000;
    utimesSync(file, long, long);
    await compileFilterCached('icmp', opts, dir, compile);
    expect(statSync(file).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
  });
});
