/**
 * Random programs and packets for the tests of string search merging (searchmerge.ts): programs
 * shaped like a device's, many flows filtering on searches over a few shared regions.
 */
import type { Expr, Program, Stmt } from '../../lang/ir/ir.js';

export class Rng {
  constructor(private s: number) {}
  int(n: number): number {
    this.s = (Math.imul(this.s, 1103515245) + 12345) >>> 0;
    return (this.s >>> 8) % n;
  }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  chance(p: number): boolean { return this.int(1000) < p * 1000; }
}

export const ALPHABET = [0x61, 0x62, 0x63, 0x00, 0xff];

/** Patterns over a small alphabet (so they overlap and share prefixes), 1 to 7 bytes. */
export function patternPool(r: Rng, n: number): Uint8Array[] {
  return Array.from({ length: n }, () => Uint8Array.from({ length: 1 + r.int(r.chance(0.2) ? 7 : 3) }, () => r.pick(ALPHABET)));
}

export function packetsOf(r: Rng, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => Uint8Array.from({ length: r.pick([0, 1, 3, 10, 20, 40, 80]) + r.int(5) }, () => r.pick(ALPHABET)));
}

/**
 * A device-like program: flows in fault-catching blocks, each filtering on searches over a few
 * shared regions (also inside expressions, loops and nested blocks), with loads that may fault
 * before or after, counting in registers and state, and a result made of searches.
 */
export function flowProgram(seed: number): Program {
  const r = new Rng(seed);
  const pool = patternPool(r, r.pick([4, 12, 40, 90]));
  const regions: [number, number][] = [[0, 0xffffffff], [r.int(10), 10 + r.int(60)], [r.int(5), 0xffffffff]];
  const search = (): Expr => {
    const [from, to] = r.pick(regions);
    const patterns = Array.from({ length: r.chance(0.7) ? 1 : 1 + r.int(r.chance(0.2) ? 40 : 4) }, () => r.pick(pool));
    return { k: 'search', from: { k: 'const', v: from }, to: { k: 'const', v: to }, patterns };
  };
  const maybeFault = (): Expr => ({ k: 'load', off: { k: 'const', v: r.int(60) }, size: 1 });
  const cond = (): Expr => r.pick<() => Expr>([
    search,
    () => ({ k: 'land', a: search(), b: search() }),
    () => ({ k: 'lor', a: { k: 'bin', op: 'gt', a: maybeFault(), b: { k: 'const', v: r.int(256) } }, b: search() }),
    () => ({ k: 'lnot', a: search() }),
  ])();
  const flows: Stmt[] = [];
  const nFlows = 2 + r.int(30);
  for (let i = 0; i < nFlows; i++) {
    const body: Stmt[] = [];
    if (r.chance(0.3)) body.push({ k: 'if', cond: { k: 'bin', op: 'eq', a: maybeFault(), b: { k: 'const', v: r.pick(ALPHABET) } }, then: { k: 'exit', label: i } });
    body.push({ k: 'if', cond: { k: 'lnot', a: cond() }, then: { k: 'exit', label: i } });
    if (r.chance(0.3)) {
      body.push({ k: 'for', reg: 3, init: { k: 'const', v: 0 }, cmp: 'lt', limit: { k: 'const', v: r.int(4) }, step: 1, body: {
        k: 'if', cond: cond(), then: { k: 'setmem', index: { k: 'const', v: i }, value: { k: 'bin', op: 'add', a: { k: 'mem', index: { k: 'const', v: i } }, b: { k: 'const', v: 1 } } },
      } });
    }
    if (r.chance(0.3)) body.push({ k: 'block', label: 1000 + i, catchFaults: r.chance(0.5), body: { k: 'seq', body: [
      { k: 'eval', e: maybeFault() },
      { k: 'setreg', n: 2, value: { k: 'bin', op: 'add', a: { k: 'reg', n: 2 }, b: cond() } },
    ] } });
    body.push({ k: 'setstate', i, value: { k: 'bin', op: 'add', a: { k: 'state', i }, b: { k: 'const', v: 1 } } });
    if (r.chance(0.05)) body.push({ k: 'return', value: search() });
    flows.push({ k: 'block', label: i, catchFaults: true, body: { k: 'seq', body } });
  }
  flows.push({ k: 'return', value: { k: 'bin', op: 'add', a: { k: 'bin', op: 'shl', a: search(), b: { k: 'const', v: 1 } }, b: search() } });
  return { body: { k: 'seq', body: flows }, linkType: 1, registers: 4, memoryCells: 64, locals: 0, stateWords: nFlows, externs: [], fuel: 10 };
}

