#!/usr/bin/env node
// Regenerates corpus-oracle.json: what libpcap (through tcpdump --count) reads from every file
// of the capture corpus. Run from the project root: node test/drivers/gen-corpus-oracle.mjs
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const corpus = resolve(here, '../../../shared/corpus/tcpdump-tests');
const files = readdirSync(corpus).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort();

function oracle(file) {
  return new Promise((done) => {
    execFile('tcpdump', ['-nr', join(corpus, file), '--count'], (err, stdout, stderr) => {
      const m = /^(\d+) packets?$/m.exec(stdout);
      const problem = stderr.split('\n').filter((l) => l && !l.startsWith('reading from file')).join(' ');
      done({ file, packets: m ? Number(m[1]) : null, ok: !err, ...(problem ? { message: problem } : {}) });
    });
  });
}

const results = {};
for (let i = 0; i < files.length; i += 16) {
  for (const r of await Promise.all(files.slice(i, i + 16).map(oracle))) {
    const { file, ...rest } = r;
    results[file] = rest;
  }
}
const out = join(here, 'corpus-oracle.json');
writeFileSync(out, JSON.stringify({ tool: 'tcpdump --count (libpcap)', files: results }, null, 0).replace(/},"/g, '},\n"') + '\n');
console.log(`${files.length} files -> ${out}`);
