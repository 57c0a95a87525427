import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interleaved } from '../../bench/trace.js';
import { toRecords } from '../support/records.js';

/** The records of an ABI buffer, each as a hex string of its bytes. */
function split(records: Uint8Array): string[] {
  const out: string[] = [];
  for (let off = 0; off < records.length;) {
    const end = off + 16 + new DataView(records.buffer, records.byteOffset).getUint32(off + 8, true);
    out.push(Buffer.from(records.subarray(off, end)).toString('hex'));
    off = end;
  }
  return out;
}

describe('the interleaved P1 trace', () => {
  it('holds the same records, whole, in a shuffled order that is the same every time', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 60 }), fc.integer({ min: 1, max: 2 ** 31 }), (frames, seed) => {
      const records = toRecords(frames.map((bytes) => ({ bytes, wirelen: bytes.length })));
      const shuffled = interleaved(records, seed);
      expect(shuffled.length).toBe(records.length);
      expect(split(shuffled).sort()).toEqual(split(records).sort());
      expect(interleaved(records, seed)).toEqual(shuffled);
    }));
  });

  it('moves most records of a long trace', () => {
    const records = toRecords(Array.from({ length: 1000 }, (_, i) => ({ bytes: Uint8Array.of(i & 0xff, i >> 8), wirelen: 2 })));
    const before = split(records), after = split(interleaved(records));
    expect(before.filter((r, i) => after[i] === r).length).toBeLessThan(20);
  });
});
