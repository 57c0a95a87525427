/**
 * The reference interpreter against hand-computed expectations, one rule of ir.ts at a time,
 * and its u32 operators against BigInt arithmetic (an independent oracle).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bin, c, field, land, load, lor, ret, seq, type BinOp, type Expr, type Program, type Stmt } from '../../lang/ir/ir.js';
import { binop, fnv1a, newState, runPacket, runPackets, type InterpOptions } from '../../lang/ir/interp.js';

function program(body: Stmt, extra: Partial<Program> = {}): Program {
  return { body, linkType: 1, registers: 16, memoryCells: 16, locals: 2, externs: [], fuel: 100, ...extra };
}

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const reg = (n: number): Expr => ({ k: 'reg', n });
const setreg = (n: number, value: Expr): Stmt => ({ k: 'setreg', n, value });
const setmem = (index: Expr, value: Expr): Stmt => ({ k: 'setmem', index, value });
const mem = (index: Expr): Expr => ({ k: 'mem', index });
const local = (n: number): Expr => ({ k: 'local', n });
const caplen: Expr = { k: 'meta', m: 'caplen' };

/** Result of `return e` on one packet with a fresh state. */
function value(e: Expr, packet = bytes(), extra: Partial<Program> = {}, opts?: InterpOptions): number {
  const p = program(ret(e), extra);
  return runPacket(p, newState(p), packet, packet.length, opts).result;
}

/** An extern that logs the ids it is called with, so tests can see evaluation order. */
function recorder(): { log: number[]; opts: InterpOptions; call: (id: number, ...args: Expr[]) => Expr } {
  const log: number[] = [];
  return {
    log,
    opts: { callExtern: (id, args) => { log.push(id); return args[0] ?? id; } },
    call: (id, ...args) => ({ k: 'extern', id, args }),
  };
}
const externs = Array.from({ length: 8 }, (_, i) => ({ name: `x${i}`, config: [] }));

describe('u32 arithmetic', () => {
  it.each<[BinOp, number, number, number]>([
    ['add', 0xffffffff, 1, 0], ['sub', 0, 1, 0xffffffff], ['mul', 0x10000, 0x10000, 0],
    ['mul', 0xffffffff, 0xffffffff, 1], ['mul', 0x12345678, 0x9abcdef0, 0x242d2080],
    ['div', 7, 2, 3], ['div', 0xffffffff, 2, 0x7fffffff], ['mod', 0xffffffff, 10, 5],
    ['and', 0xf0f0f0f0, 0xff00ff00, 0xf000f000], ['or', 0x80000000, 1, 0x80000001], ['xor', 0xffffffff, 0x0f, 0xfffffff0],
    ['shl', 1, 31, 0x80000000], ['shl', 1, 32, 0], ['shl', 1, 33, 0], ['shl', 3, 0xffffffff, 0],
    ['shr', 0x80000000, 31, 1], ['shr', 0x80000000, 32, 0], ['shr', 0xffffffff, 0x20000001, 0],
    ['lt', 1, 0xffffffff, 1], ['gt', 0xffffffff, 1, 1], ['le', 5, 5, 1], ['ge', 4, 5, 0], ['eq', 3, 3, 1], ['ne', 3, 3, 0],
  ])('%s(%d, %d) = %d', (op, a, b, want) => {
    expect(value(bin(op, c(a), c(b)))).toBe(want);
  });

  it('negation, bitwise and logical not', () => {
    expect(value({ k: 'neg', a: c(1) })).toBe(0xffffffff);
    expect(value({ k: 'neg', a: c(0) })).toBe(0);
    expect(value({ k: 'bnot', a: c(0) })).toBe(0xffffffff);
    expect(value({ k: 'bnot', a: c(0xffff0000) })).toBe(0xffff);
    expect(value({ k: 'lnot', a: c(5) })).toBe(0);
    expect(value({ k: 'lnot', a: c(0) })).toBe(1);
    expect(value(land(c(2), c(3)))).toBe(1);
    expect(value(lor(c(0), c(0x80000000)))).toBe(1);
  });

  it('binop agrees with BigInt arithmetic on every operator', () => {
    const M = 1n << 32n;
    const ref = (op: BinOp, a: bigint, b: bigint): bigint | undefined => {
      switch (op) {
        case 'add': return (a + b) % M;
        case 'sub': return (a - b + M) % M;
        case 'mul': return (a * b) % M;
        case 'div': return b === 0n ? undefined : a / b;
        case 'mod': return b === 0n ? undefined : a % b;
        case 'and': return a & b;
        case 'or': return a | b;
        case 'xor': return a ^ b;
        case 'shl': return b >= 32n ? 0n : (a << b) % M;
        case 'shr': return b >= 32n ? 0n : a >> b;
        case 'eq': return a === b ? 1n : 0n;
        case 'ne': return a !== b ? 1n : 0n;
        case 'lt': return a < b ? 1n : 0n;
        case 'le': return a <= b ? 1n : 0n;
        case 'gt': return a > b ? 1n : 0n;
        case 'ge': return a >= b ? 1n : 0n;
      }
    };
    const u32 = fc.oneof(fc.nat({ max: 40 }), fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));
    const ops: BinOp[] = ['add', 'sub', 'mul', 'div', 'mod', 'and', 'or', 'xor', 'shl', 'shr', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];
    fc.assert(fc.property(fc.constantFrom(...ops), u32, u32, (op, a, b) => {
      const want = ref(op, BigInt(a), BigInt(b));
      expect(binop(op, a, b)).toBe(want === undefined ? undefined : Number(want));
    }), { numRuns: 3000 });
  });
});

describe('faults', () => {
  it('division and modulo by zero end the packet with 0, keeping earlier writes', () => {
    for (const op of ['div', 'mod'] as const) {
      const p = program(seq(setreg(0, c(5)), setmem(c(3), c(9)), ret(bin(op, c(1), c(0))), setreg(1, c(1))));
      const s = newState(p);
      expect(runPacket(p, s, bytes(), 0)).toEqual({ result: 0, fuelExhausted: false });
      expect(s.registers[0]).toBe(5);
      expect(s.memory[3]).toBe(9);
      expect(s.registers[1]).toBe(0);
    }
  });

  it('loads read big-endian and fault past the captured length, without u32 wrap-around', () => {
    const pkt = bytes(0x12, 0x34, 0x56, 0x78);
    expect(value(load(0, 4), pkt)).toBe(0x12345678);
    expect(value(load(2, 2), pkt)).toBe(0x5678);
    expect(value(load(3, 1), pkt)).toBe(0x78);
    expect(value(bin('add', load(1, 4), c(1)), pkt)).toBe(0);
    expect(value(bin('add', load(3, 2), c(1)), pkt)).toBe(0);
    expect(value(bin('add', load(4, 1), c(1)), pkt)).toBe(0);
    // 0xffffffff + 1 wraps to 0 in u32, but the check is done on plain numbers.
    expect(value(bin('add', load(0xffffffff, 1), c(1)), pkt)).toBe(0);
    expect(value(bin('add', load(0xfffffffe, 2), c(1)), pkt)).toBe(0);
    expect(value(bin('add', load(0, 1), c(1)), bytes())).toBe(0);
  });

  it('a fault in a later packet keeps state from earlier packets', () => {
    const p = program(seq(setreg(0, bin('add', reg(0), c(1))), ret(load(0, 1))));
    const s = newState(p);
    const results = runPackets(p, s, [{ bytes: bytes(7), wirelen: 1 }, { bytes: bytes(), wirelen: 60 }, { bytes: bytes(9), wirelen: 1 }]);
    expect([...results]).toEqual([7, 0, 9]);
    expect(s.registers[0]).toBe(3);
  });
});

describe('evaluation order', () => {
  it('land and lor short-circuit: a faulting right side is never reached', () => {
    const far = bin('eq', load(1000, 1), c(0));
    expect(value(land(c(0), far))).toBe(0);
    expect(value(lor(c(7), far))).toBe(1);
    // ... but a faulting left side faults, and a reached right side faults too.
    expect(value(lor(far, c(1)))).toBe(0);
    expect(value(lor(c(0), far))).toBe(0);
  });

  it('operands run left to right, only the taken cond arm runs', () => {
    const r = recorder();
    const p = program(ret(bin('add', r.call(1), { k: 'cond', c: r.call(2), a: r.call(3), b: r.call(4) })), { externs });
    expect(runPacket(p, newState(p), bytes(), 0, r.opts).result).toBe(1 + 3);
    expect(r.log).toEqual([1, 2, 3]);
    const q = program(ret({ k: 'cond', c: c(0), a: load(99, 1), b: c(5) }));
    expect(runPacket(q, newState(q), bytes(), 0).result).toBe(5);
  });

  it('land/lor evaluate the right side only when needed, in order', () => {
    const r = recorder();
    const e = lor(land(r.call(0), r.call(1)), land(r.call(2), r.call(3)));
    const p = program(ret(e), { externs });
    expect(runPacket(p, newState(p), bytes(), 0, r.opts).result).toBe(1);
    expect(r.log).toEqual([0, 2, 3]);   // extern 0 returns 0, so 1 is skipped
  });

  it('setmem evaluates the index before the value; hash evaluates off, len, range', () => {
    const r = recorder();
    const p = program(seq(setmem(r.call(5), r.call(6)), { k: 'eval', e: { k: 'hash', off: r.call(0), len: r.call(0), range: r.call(7) } }), { externs });
    runPacket(p, newState(p), bytes(), 0, r.opts);
    expect(r.log).toEqual([5, 6, 0, 0, 7]);
  });
});

describe('loops and fuel', () => {
  const count10 = (fuel: number) => program(seq(
    { k: 'for', reg: 1, init: c(0), cmp: 'lt', limit: c(10), step: 1, body: setreg(0, bin('add', reg(0), c(1))) },
    ret(c(7))), { fuel });

  it('each iteration uses one unit of fuel; running out ends the packet with 0 and is counted', () => {
    const p = count10(3);
    const s = newState(p);
    expect(runPacket(p, s, bytes(), 0)).toEqual({ result: 0, fuelExhausted: true });
    expect(s.registers[0]).toBe(3);
    expect(s.fuelExhausted).toBe(1);
    expect(runPacket(p, s, bytes(), 0)).toEqual({ result: 0, fuelExhausted: true });
    expect(s.registers[0]).toBe(6);
    expect(s.fuelExhausted).toBe(2);
  });

  it('exactly enough fuel suffices (the final failed test costs nothing); opts.fuel overrides', () => {
    const p = count10(10);
    const s = newState(p);
    expect(runPacket(p, s, bytes(), 0)).toEqual({ result: 7, fuelExhausted: false });
    expect(s.registers[0]).toBe(10);
    expect(s.registers[1]).toBe(10);
    expect(runPacket(p, s, bytes(), 0, { fuel: 9 }).fuelExhausted).toBe(true);
    expect(runPacket(count10(0), newState(p), bytes(), 0, { fuel: 10 }).result).toBe(7);
  });

  it('fuel is shared by all loops of a packet and renewed per packet', () => {
    const loop = (reg: number): Stmt => ({ k: 'for', reg, init: c(0), cmp: 'ne', limit: c(5), step: 1, body: seq() });
    const p = program(seq(loop(1), loop(2), ret(c(1))), { fuel: 10 });
    const s = newState(p);
    expect([...runPackets(p, s, [{ bytes: bytes(), wirelen: 0 }, { bytes: bytes(), wirelen: 0 }])]).toEqual([1, 1]);
    expect(runPacket(p, s, bytes(), 0, { fuel: 9 }).result).toBe(0);
    expect(s.fuelExhausted).toBe(1);
  });

  it('the limit is evaluated once, after init; step wraps modulo 2^32', () => {
    // R[2] grows in the body: a re-evaluated limit would never be reached.
    const p = program(seq(setreg(2, c(3)),
      { k: 'for', reg: 1, init: c(0), cmp: 'lt', limit: reg(2), step: 1, body: setreg(2, bin('add', reg(2), c(1))) },
      ret(reg(2))));
    expect(runPacket(p, newState(p), bytes(), 0).result).toBe(6);
    // The limit sees the loop register already initialised: 5 < 5 + 2 runs twice.
    const q = program(seq({ k: 'for', reg: 1, init: c(5), cmp: 'lt', limit: bin('add', reg(1), c(2)), step: 1,
      body: setreg(0, bin('add', reg(0), c(1))) }, ret(reg(0))));
    expect(runPacket(q, newState(q), bytes(), 0).result).toBe(2);
    // Counting down with step 0xffffffff: 3, 2, 1, then 0 stops (ne 0).
    const d = program(seq({ k: 'for', reg: 1, init: c(3), cmp: 'ne', limit: c(0), step: 0xffffffff,
      body: setreg(0, bin('add', bin('mul', reg(0), c(10)), reg(1))) }, ret(reg(0))));
    expect(runPacket(d, newState(d), bytes(), 0).result).toBe(321);
  });

  it('init runs once, then the limit, which sees the initialised loop register', () => {
    const r = recorder();
    const p = program(seq({ k: 'for', reg: 1, init: r.call(4, c(2)), cmp: 'le', limit: r.call(5, reg(1)), step: 1,
      body: setreg(0, bin('add', reg(0), c(1))) }, ret(reg(0))), { externs });
    expect(runPacket(p, newState(p), bytes(), 0, r.opts).result).toBe(1);   // 2 <= 2 once
    expect(r.log).toEqual([4, 5]);
  });

  it('break leaves the innermost loop only; the loop register keeps its value', () => {
    const inner: Stmt = { k: 'for', reg: 2, init: c(0), cmp: 'lt', limit: c(100), step: 1,
      body: seq({ k: 'if', cond: bin('eq', reg(2), c(2)), then: { k: 'break' } }, setreg(0, bin('add', reg(0), c(1)))) };
    const p = program(seq({ k: 'for', reg: 1, init: c(0), cmp: 'lt', limit: c(3), step: 1, body: inner }, ret(reg(0))));
    const s = newState(p);
    expect(runPacket(p, s, bytes(), 0).result).toBe(6);   // 3 outer × 2 inner
    expect(s.registers[1]).toBe(3);
    expect(s.registers[2]).toBe(2);
  });

  it('return inside a loop ends the packet', () => {
    const p = program(seq({ k: 'for', reg: 1, init: c(0), cmp: 'lt', limit: c(9), step: 1,
      body: { k: 'if', cond: bin('eq', reg(1), c(4)), then: ret(bin('add', reg(1), c(100))) } }, ret(c(1))));
    expect(runPacket(p, newState(p), bytes(), 0).result).toBe(104);
  });
});

describe('blocks, return, fall-through', () => {
  it('exit jumps to just after the block with its label, through inner blocks and loops', () => {
    const p = program(seq(
      { k: 'block', label: 1, body: seq(
        { k: 'block', label: 2, body: seq({ k: 'exit', label: 2 }, setreg(0, c(99))) },
        setreg(1, c(1)),
        { k: 'for', reg: 5, init: c(0), cmp: 'lt', limit: c(10), step: 1, body: { k: 'exit', label: 1 } },
        setreg(2, c(1))) },
      setreg(3, bin('add', reg(5), c(1))),
      ret(bin('add', bin('add', reg(0), reg(1)), bin('add', reg(2), reg(3))))));
    const s = newState(p);
    expect(runPacket(p, s, bytes(), 0).result).toBe(0 + 1 + 0 + 1);
  });

  it('exit skips the rest of every inner block, not only the innermost', () => {
    const p = program(seq(
      { k: 'block', label: 7, body: seq(
        { k: 'block', label: 8, body: seq({ k: 'exit', label: 7 }, setreg(0, c(1))) },
        setreg(1, c(1))) },
      ret(bin('add', c(10), bin('add', reg(0), reg(1))))));
    expect(runPacket(p, newState(p), bytes(), 0).result).toBe(10);
  });

  it('falling off the end returns 0; return gives its value', () => {
    const p = program(setreg(0, c(3)));
    expect(runPacket(p, newState(p), bytes(), 0)).toEqual({ result: 0, fuelExhausted: false });
    expect(value(c(0xdeadbeef))).toBe(0xdeadbeef);
  });
});

describe('state: registers, memory, locals, meta', () => {
  it('sizes: 256 registers whatever the program declares, memoryCells cells', () => {
    const s = newState(program(seq(), { registers: 1, memoryCells: 8 }));
    expect(s.registers.length).toBe(256);
    expect(s.memory.length).toBe(8);
    expect(s.fuelExhausted).toBe(0);
  });

  it('memory indices are masked with memoryCells - 1', () => {
    const p = program(seq(setmem(c(6), c(11)), setmem(c(0xffffffff), c(12)), ret(bin('add', mem(c(0xfffffffe)), mem(c(7))))),
      { memoryCells: 4 });
    const s = newState(p);
    expect(runPacket(p, s, bytes(), 0).result).toBe(11 + 12);
    expect([...s.memory]).toEqual([0, 0, 11, 12]);
    const one = program(seq(setmem(c(12345), c(4)), ret(mem(c(3)))), { memoryCells: 1 });
    expect(runPacket(one, newState(one), bytes(), 0).result).toBe(4);
  });

  it('registers and memory persist across packets, locals are zeroed for each', () => {
    const p = program(seq(
      { k: 'setlocal', n: 1, value: bin('add', local(1), c(1)) },
      setreg(0, bin('add', reg(0), local(1))),
      setmem(c(0), bin('add', mem(c(0)), c(2))),
      ret(bin('add', bin('mul', local(1), c(100)), reg(0)))));
    const s = newState(p);
    const pk = { bytes: bytes(), wirelen: 0 };
    expect([...runPackets(p, s, [pk, pk, pk])]).toEqual([101, 102, 103]);
    expect(s.memory[0]).toBe(6);
  });

  it('meta gives the captured and the wire length', () => {
    const p = program(ret(bin('sub', { k: 'meta', m: 'wirelen' }, caplen)));
    expect(runPacket(p, newState(p), bytes(1, 2, 3), 1500).result).toBe(1497);
  });
});

describe('hash', () => {
  it('is FNV-1a 32 (known vectors)', () => {
    expect(fnv1a(ascii(''))).toBe(0x811c9dc5);
    expect(fnv1a(ascii('a'))).toBe(0xe40c292c);
    expect(fnv1a(ascii('foobar'))).toBe(0xbf9cf968);
  });

  it('hashes frame bytes [off, off+len) modulo range; range 0 gives 0', () => {
    const pkt = ascii('xxfoobar');
    const h = (off: number, len: number, range: number) => value({ k: 'hash', off: c(off), len: c(len), range: c(range) }, pkt);
    expect(h(2, 6, 0xffffffff)).toBe(0xbf9cf968);
    expect(h(2, 6, 1000)).toBe(0xbf9cf968 % 1000);
    expect(h(2, 6, 0)).toBe(0);
    expect(h(4, 1, 0xffffffff)).toBe(fnv1a(ascii('o')));
    expect(h(8, 0, 0xffffffff)).toBe(0x811c9dc5);   // len 0 at the very end hashes nothing
  });

  it('faults when off + len passes the captured length (no u32 wrap)', () => {
    const pkt = ascii('foobar');
    const h = (off: number, len: number) => value(bin('add', { k: 'hash', off: c(off), len: c(len), range: c(0xffffffff) }, c(1)), pkt);
    expect(h(0, 6)).toBe((0xbf9cf968 + 1) >>> 0);
    expect(h(1, 6)).toBe(0);
    expect(h(7, 0)).toBe(0);
    expect(h(0xffffffff, 1)).toBe(0);
    expect(h(1, 0xffffffff)).toBe(0);
  });
});

describe('fields', () => {
  // IPv4 (IHL 5), protocol 6, TCP ports 0x1234 -> 0x0050.
  const ip = [0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
  const tcp = [0x12, 0x34, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0];
  const ether = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00];
  const sll = [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
  const frames: [string, number, number[]][] = [['EN10MB', 1, ether], ['RAW', 101, []], ['LINUX_SLL', 113, sll]];

  it.each(frames)('lower per link type: %s', (_name, linkType, link) => {
    const pkt = bytes(...link, ...ip, ...tcp);
    const f = (e: Expr) => value(e, pkt, { linkType });
    expect(f(field('ip4.proto'))).toBe(6);
    expect(f(field('ip4.ver'))).toBe(4);
    expect(f(field('ip4.hl'))).toBe(5);
    expect(f(field('ip4.src'))).toBe(0x0a000001);
    expect(f(field('l4.sport'))).toBe(0x1234);
    expect(f(field('l4.dport'))).toBe(80);
    expect(f(field('l4.tcp.flags'))).toBe(0x12);
    expect(f(field('l4.tcp.hl'))).toBe(5);
    // Truncated just before the protocol byte: a fault.
    const l3 = link.length;
    const cut = pkt.subarray(0, l3 + 9);
    expect(value(bin('add', field('ip4.proto'), c(1)), cut, { linkType })).toBe(0);
    expect(value(bin('add', field('ip4.ttl'), c(1)), cut, { linkType })).toBe(65);
  });

  it('reads bytes at the link type\'s own offsets', () => {
    const pkt = Uint8Array.from({ length: 64 }, (_, i) => i);
    expect(value(field('ip4.proto'), pkt, { linkType: 1 })).toBe(23);
    expect(value(field('ip4.proto'), pkt, { linkType: 101 })).toBe(9);
    expect(value(field('ip4.proto'), pkt, { linkType: 113 })).toBe(25);
    expect(value(field('ip4.proto', 4), pkt, { linkType: 1 })).toBe(27);
    expect(value(field('link.type'), pkt, { linkType: 1 })).toBe(0x0c0d);
    expect(value(field('link.type'), pkt, { linkType: 113 })).toBe(0x0e0f);
  });

  it('transport fields follow IHL for IPv4 and 40 bytes for IPv6 (l4)', () => {
    const v4opts = bytes(0x46, ...Array<number>(23).fill(0), 0xab, 0xcd, 0x00, 0x35);   // IHL 6: L4 at 24
    expect(value(field('l4.dport'), v4opts, { linkType: 101 })).toBe(0x35);
    const v6 = bytes(0x60, ...Array<number>(39).fill(0), 0x00, 0x16, 0x01, 0xbb);
    expect(value(field('l4.dport'), v6, { linkType: 101 })).toBe(443);
    expect(value(field('l4v4.dport'), v6, { linkType: 101 })).toBe(0);   // IHL 0: L4 at 0, bytes 2..3
  });

  it('a field the link type has no header for is an error, not a result', () => {
    expect(() => value(field('link.type'), bytes(1, 2, 3), { linkType: 101 })).toThrow(/link type RAW has none/);
  });
});

describe('externs', () => {
  it('get their evaluated arguments and the packet; the result is taken as u32', () => {
    const seen: unknown[] = [];
    const p = program(ret({ k: 'extern', id: 1, args: [c(4), bin('add', c(1), c(2))] }), { externs });
    const pkt = bytes(9, 9);
    const r = runPacket(p, newState(p), pkt, 77, {
      callExtern: (id, args, packet, wirelen) => { seen.push(id, args, packet, wirelen); return -1; },
    });
    expect(r.result).toBe(0xffffffff);
    expect(seen).toEqual([1, [4, 3], pkt, 77]);
  });

  it('without an implementation, say which extern is missing', () => {
    const p = program(ret({ k: 'extern', id: 2, args: [] }), { externs });
    expect(() => runPacket(p, newState(p), bytes(), 0)).toThrow('extern x2 has no implementation');
  });
});

describe('set membership (inset)', () => {
  it('is 1 exactly for the values in the set, like Array.includes', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.nat({ max: 0xffffffff }), { maxLength: 40 }), fc.nat({ max: 0xffffffff }), (values, probe) => {
      const set = [...values].sort((a, b) => a - b);
      for (const v of [probe, ...values.slice(0, 3)]) {
        expect(value({ k: 'inset', e: c(v), set })).toBe(set.includes(v) ? 1 : 0);
      }
    }));
  });

  it('faults as its operand does, and only then', () => {
    const set = [1, 0x0a000001];
    expect(value({ k: 'inset', e: load(0, 4), set }, bytes(10, 0, 0, 1))).toBe(1);
    expect(value(lor({ k: 'inset', e: load(0, 4), set }, c(1)), bytes(10, 0, 0))).toBe(0);   // short load: the packet ends
    expect(value({ k: 'inset', e: c(5), set: [] })).toBe(0);
  });
});
