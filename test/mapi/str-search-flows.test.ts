/**
 * Many flows, each with its own STR_SEARCH, on one device: the device program's searches over a
 * shared region are merged into one scan per packet (lang/ir/passes/searchmerge.ts), and every flow
 * still counts exactly the packets that hold its pattern in its region — checked against a
 * Buffer.indexOf count over the trace, per flow.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Device } from '../../vm/mapi/index.js';
import { ipv4Frame, tempDir, writePcap } from './helpers.js';

const HEADERS = 54;

class Rng {
  constructor(private s: number) {}
  int(n: number): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return Math.floor((this.s / 2 ** 32) * n);
  }
}

interface Spec { pattern: string; offset: number; depth: number; port?: number }

/** Whether any `||` alternative of `pattern` lies whole in frame[offset, offset + depth) (depth 0: to the end). */
function holds(frame: Uint8Array, spec: Spec): boolean {
  const end = spec.depth > 0 ? Math.min(frame.length, spec.offset + spec.depth) : frame.length;
  if (spec.offset >= end) return false;
  const region = Buffer.from(frame.buffer, frame.byteOffset + spec.offset, end - spec.offset);
  return spec.pattern.split('||').some((alt) => region.indexOf(Buffer.from(alt, 'latin1')) >= 0);
}

async function countOnDevice(path: string, specs: Spec[]): Promise<number[]> {
  const dev = await Device.offline(path);
  try {
    const flows = specs.map((s) => {
      const flow = dev.flow();
      if (s.port !== undefined) flow.apply('BPF_FILTER', `tcp dst port ${s.port}`);
      flow.apply('STR_SEARCH', s.pattern, s.offset, s.depth);
      return { flow, counter: flow.apply('PKT_COUNTER') };
    });
    await Promise.all(flows.map((f) => f.flow.connect()));
    await dev.start();
    await dev.finished();
    return flows.map((f) => Number(f.flow.read(f.counter)));
  } finally {
    dev.delete();
  }
}

describe('STR_SEARCH on many flows of one device', () => {
  it('100 flows of one word each (shared prefixes, repeats, two regions, some filtered): each count = a JS count', async () => {
    const r = new Rng(5);
    const letters = 'abcde';
    const word = (n: number) => Array.from({ length: n }, () => letters[r.int(letters.length)]).join('');
    // Words share prefixes (few letters); a few flows repeat another flow's word.
    const words = Array.from({ length: 100 }, (_, i) => (i % 17 === 16 ? `w${(i * 7) % 16}` : `w${word(2 + r.int(5))}`));
    const specs: Spec[] = words.map((w, i) => ({
      pattern: i % 10 === 9 ? `${w}||z${w}q` : w,
      offset: HEADERS,
      depth: i % 4 === 3 ? 24 : 0,          // a second region: the payload's first 24 bytes
      ...(i % 13 === 0 ? { port: 80 + (i % 3) } : {}),
    }));
    const frames = Array.from({ length: 600 }, (_, i) => {
      const payload = new TextEncoder().encode(Array.from({ length: 3 + r.int(12) }, () => `${r.int(2) ? 'w' : ''}${word(1 + r.int(6))}`).join(' '));
      return ipv4Frame(6, payload, { dport: 80 + (i % 4) });
    });
    const path = writePcap(join(tempDir(), 'flows.pcap'), frames.map((bytes, i) => ({ sec: i, usec: 0, bytes })));
    const got = await countOnDevice(path, specs);
    const expected = specs.map((s) => frames.filter((f) => (s.port === undefined || f[36]! * 256 + f[37]! === s.port) && holds(f, s)).length);
    expect(got).toEqual(expected);
    // Not vacuous: most flows match some packets, and none matches them all.
    expect(expected.filter((n) => n > 0).length).toBeGreaterThan(50);
    expect(expected.every((n) => n < frames.length)).toBe(true);
  }, 60_000);
});
