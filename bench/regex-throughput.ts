/**
 * REGEXP's automaton (hostfns/lib/regex.ts) against JavaScript's RegExp on the same bytes:
 * MB/s (10^6 payload bytes per second, one core) of random text searched for benign patterns,
 * and the time of the pattern that makes backtracking explode. RegExp is given the Latin-1
 * string it needs (made once, outside the timing); the automaton reads the bytes as they are.
 *
 *   npm run build && node dist/bench/regex-throughput.js
 */
import { performance } from 'node:perf_hooks';
import { compileRegex } from '../hostfns/lib/regex.js';

const PACKETS = 4000, SIZE = 1460;
const TEXT = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      .,:;-_/=?&\r\n';
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
const packets = Array.from({ length: PACKETS }, () => {
  const b = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i++) b[i] = TEXT.charCodeAt(Math.floor(rnd() * TEXT.length));
  if (rnd() < 1 / 64) b.write('HTTP/1.1 200 OK', Math.floor(rnd() * (SIZE - 20)), 'latin1');
  return b;
});
const strings = packets.map((b) => b.toString('latin1'));

function measure(pattern: string): void {
  const c = compileRegex(pattern);
  if (!c.ok) throw new Error(c.message);
  const js = new RegExp(pattern);
  let ours = 0, theirs = 0;
  const t0 = performance.now();
  for (const b of packets) if (c.matcher.test(b, 0, b.length)) ours++;
  const t1 = performance.now();
  for (const s of strings) if (js.test(s)) theirs++;
  const t2 = performance.now();
  if (ours !== theirs) throw new Error(`${pattern}: ${ours} matches, RegExp ${theirs}`);
  const mb = (PACKETS * SIZE) / 1e6;
  console.log(`${pattern.padEnd(34)} automaton ${(mb / ((t1 - t0) / 1000)).toFixed(1).padStart(7)} MB/s   RegExp ${(mb / ((t2 - t1) / 1000)).toFixed(1).padStart(7)} MB/s   (${ours} matches)`);
}

for (const p of ['HTTP/1\\.[01] [23]\\d\\d', 'GET|POST|HEAD', '[A-Z]{3,}[0-9]{2}x', 'a.{0,8}b.{0,8}c', '(?:ab|cd)+ef']) measure(p);

for (const n of [20, 26, 30, 100_000]) {
  const s = 'a'.repeat(n) + '!';
  const c = compileRegex('(a+)+$');
  if (!c.ok) throw new Error(c.message);
  const b = Buffer.from(s, 'latin1');
  let t0 = performance.now();
  c.matcher.test(b, 0, b.length);
  const ours = performance.now() - t0;
  let theirs = 'not run (exponential)';
  if (n <= 26) { t0 = performance.now(); /(a+)+$/.test(s); theirs = `${(performance.now() - t0).toFixed(1)} ms`; }
  console.log(`(a+)+$ on ${n} × a + "!": automaton ${ours.toFixed(2)} ms, RegExp ${theirs}`);
}
