/**
 * DeviceLayout (vm/mapi/layout.ts): instances get disjoint, zeroed places inside the device's
 * areas; a request that does not fit holds nothing; release frees an instance's places and
 * those of the closed instances only it still read.
 */
import { describe, expect, it } from 'vitest';
import { DEVICE_MEMORY_CELLS, DEVICE_STATE_WORDS, DeviceLayout, FUNCTION_COUNTER_WORDS, type Placement, type Releasable } from '../../vm/mapi/layout.js';
import { MAX_REGISTERS } from '../../abi/index.js';

const EN10MB = 1;

function instance(at: Placement, cleaned: string[], name: string): Releasable {
  return { ...at, def: { cleanup: () => cleaned.push(name) } as any, config: undefined, references: [], referencedBy: 0, orphaned: false };
}

describe('DeviceLayout', () => {
  it('places instances apart, zeroed, and reuses released places', () => {
    const l = new DeviceLayout(EN10MB);
    l.state.fill(7); l.regs.fill(7); l.mem.fill(7);
    const a = l.place(10, 2, 8)!, b = l.place(3, 1, 0)!;
    expect(a.countersBase).toBe(a.stateBase + 10);
    // State ranges (own words + counters) and register ranges do not overlap.
    expect(a.stateBase + 10 + FUNCTION_COUNTER_WORDS <= b.stateBase || b.stateBase + 3 + FUNCTION_COUNTER_WORDS <= a.stateBase).toBe(true);
    expect(a.regBase + 2 <= b.regBase || b.regBase + 1 <= a.regBase).toBe(true);
    expect([...l.state.subarray(a.stateBase, a.stateBase + 10 + FUNCTION_COUNTER_WORDS)].every((w) => w === 0)).toBe(true);
    expect([...l.memoryOf(a)]).toEqual(new Array(8).fill(0));
    expect(a.memBase % 8).toBe(0);
    expect(l.stateOf(a).length).toBe(10);
    const cleaned: string[] = [];
    l.release(instance(a, cleaned, 'a'));
    expect(cleaned).toEqual(['a']);
    const c = l.place(10, 2, 8)!;
    expect([c.stateBase, c.regBase, c.memBase]).toEqual([a.stateBase, a.regBase, a.memBase]);
  });

  it('holds nothing when an area has no room', () => {
    const l = new DeviceLayout(EN10MB);
    expect(l.place(1, MAX_REGISTERS + 1, 0)).toBeUndefined();
    expect(l.place(1, 0, DEVICE_MEMORY_CELLS * 2)).toBeUndefined();
    expect(l.place(DEVICE_STATE_WORDS, 0, 0)).toBeUndefined();
    // The state words the failed requests took first were given back: a large one still fits.
    expect(l.place(DEVICE_STATE_WORDS / 2, 0, 0)).toBeDefined();
  });

  it('frees an orphaned instance with its last reader', () => {
    const l = new DeviceLayout(EN10MB);
    const cleaned: string[] = [];
    const read = instance(l.place(4, 0, 0)!, cleaned, 'read');
    const r1 = instance(l.place(4, 0, 0)!, cleaned, 'r1'), r2 = instance(l.place(4, 0, 0)!, cleaned, 'r2');
    for (const r of [r1, r2]) { r.references.push(read); read.referencedBy++; }
    read.orphaned = true;   // its flow closed while r1 and r2 still read it
    l.release(r1);
    expect(cleaned).toEqual(['r1']);
    l.release(r2);
    expect(cleaned).toEqual(['r1', 'r2', 'read']);
    expect(r2.references).toEqual([]);
  });

  it('reads the packet count and last timestamp from its state words', () => {
    const l = new DeviceLayout(EN10MB);
    l.state[0] = 5; l.state[1] = 2_000_000; l.state[2] = 1; l.state[3] = 1;
    expect(l.packets).toBe((1n << 32n) + 1n);
    expect(l.lastPacketMicros(true)).toBe(5_000_000n + 2000n);
    expect(l.lastPacketMicros(false)).toBe(5_000_000n + 2_000_000n);
  });
});
