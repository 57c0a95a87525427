// One length test up front for filters (lang/ir/passes/lengthguard.ts): where it goes and where not.
// (That the guarded filters keep their results is conditions.test.ts's and the differential suites' job.)
import { describe, expect, it } from 'vitest';
import { lengthGuard } from '../../lang/ir/passes/lengthguard.js';
import { c, ret, seq, type Program } from '../../lang/ir/ir.js';
import { lowerSource } from '../../vm/compile.js';

async function guardOf(expr: string): Promise<number | undefined> {
  const { program } = await lowerSource(expr, { language: 'pcap', linkType: 1 });
  const body = lengthGuard(program).body;
  const first = body.k === 'seq' ? body.body[0]! : body;
  if (first.k !== 'return' || first.value.k !== 'cond' || first.value.c.k !== 'land') return undefined;
  const g = first.value.c.a;
  return g.k === 'bin' && g.op === 'ge' && g.a.k === 'meta' && g.b.k === 'const' ? g.b.v : undefined;
}

describe('length guard', () => {
  it('is the fewest bytes with which the filter can match', async () => {
    expect(await guardOf('tcp dst port 80')).toBe(24);        // IPv4's protocol byte; IPv6 needs 58
    expect(await guardOf('ip6 and udp')).toBe(21);            // the next-header byte
    expect(await guardOf('ip')).toBe(14);
    expect(await guardOf('ether[20] = 2 or ether[100] = 1')).toBe(21);
    expect(await guardOf('ether[100] = 1 or ether[20] = 2')).toBe(101);   // byte 100 is read first: shorter packets fault
    expect(await guardOf('not ip')).toBe(14);                             // the ethertype is read either way
  });

  it('is left out where a filter needs no packet bytes to match or does not start with its verdict', async () => {
    expect(await guardOf('len > 100')).toBeUndefined();       // reads no packet bytes
    expect(await guardOf('ether[0xffffffff] = 1')).toBeUndefined();   // a byte no packet has: N would not be a u32
    const p: Program = { body: seq({ k: 'setreg', n: 0, value: c(1) }, ret(c(1))), linkType: 1, registers: 1, memoryCells: 1, locals: 0, externs: [], fuel: 0 };
    expect(lengthGuard(p)).toBe(p);
  });
});
