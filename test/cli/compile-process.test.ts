// Compiling in a child process (vm/compile-process.ts), as the CLI does: the compiled modules
// in dist/ (npm test builds them first), since only JavaScript can be the child.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/env.js';

const dist = (f: string) => import(pathToFileURL(join(projectRoot, 'dist', f)).href);
const { askChild, compileInChild } = await dist('vm/compile-process.js');
const { compileFilter } = await dist('vm/compile.js');
const { CompileError } = await dist('lang/diagnostics.js');

describe('compileInChild', () => {
  it('gets its answer from a child process (not from the in-process fallback)', async () => {
    const reply = await askChild({ source: 'udp port 53', opts: { language: 'pcap' } });
    expect(reply?.ok).toBe(true);
    const here = await compileFilter('udp port 53', { language: 'pcap' });
    expect(Buffer.from(reply.wasm, 'base64').equals(Buffer.from(here.wasm))).toBe(true);
    expect(await askChild({ source: 'udp port', opts: { language: 'pcap' } })).toMatchObject({ ok: false, source: 'udp port' });
  });

  it('returns the module and warnings an in-process compile gives', async () => {
    const web = readFileSync(join(projectRoot, 'samples/web.fpl'), 'utf8');
    for (const [source, opts] of [
      ['ip and (tcp dst port 80 or udp port 53) and not net 10.1.0.0/16', { language: 'pcap', snaplen: 1500 }],
      [web, { language: 'fpl', file: 'web.fpl' }],
    ] as const) {
      const here = await compileFilter(source, opts);
      const there = await compileInChild(source, opts);
      expect(Buffer.from(there.wasm).equals(Buffer.from(here.wasm))).toBe(true);
      expect(there.warnings).toEqual(here.warnings);
    }
    // Without its FI the program compiles with a warning: the warning crossed the process boundary.
    const noFi = web.replace(/\s*FI\s*$/, '\n');
    expect(noFi).not.toMatch(/FI/);
    expect((await compileInChild(noFi, { language: 'fpl' })).warnings.length).toBeGreaterThan(0);
  });

  it('throws the compile error, with its diagnostics, an in-process compile throws', async () => {
    const source = 'tcp dst port 80 and';
    const here = await compileFilter(source, { language: 'pcap' }).catch((e: unknown) => e);
    const there = await compileInChild(source, { language: 'pcap' }).catch((e: unknown) => e);
    expect(there).toBeInstanceOf(CompileError);
    expect(there.diagnostics).toEqual(here.diagnostics);
    expect(there.message).toBe(here.message);
  });

  it('throws option errors as the same class and message', async () => {
    const opts = { language: 'fpl', memoryCells: 3 };
    const here = await compileFilter('RETURN 1;', opts).catch((e: unknown) => e);
    const there = await compileInChild('RETURN 1;', opts).catch((e: unknown) => e);
    expect(here).toBeInstanceOf(RangeError);
    expect(there).toBeInstanceOf(RangeError);
    expect(there.message).toBe(here.message);
  });
});
