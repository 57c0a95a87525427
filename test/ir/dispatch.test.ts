/**
 * The flow-dispatch pass preserves semantics, faults included: random device-like programs —
 * groups of fault-catching flow blocks whose heads are one random pure program up to a
 * constant K_i, with side-effecting, order-revealing, sometimes faulting or returning rests —
 * give the same results, R, M, S and fuel count through the reference interpreter before and
 * after the pass, on random and truncated packets. Deliberately wrong variants of the output
 * are caught by the same property, and real libpcap heads (`tcp dst port K`) are dispatched.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dispatchFlows, kindOf } from '../../lang/ir/passes/dispatch.js';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { shareLocals } from '../../lang/ir/passes/locals.js';
import { completesWhenTrue, mayComplete } from '../../lang/ir/passes/dispatch/outcome.js';
import { mapStmtExprs, mapSubExprs, mapSubStmts } from '../../lang/ir/walk.js';
import { bin, c, field, type Expr, type Program, type Stmt } from '../../lang/ir/ir.js';
import { validateProgram } from '../../lang/ir/validate.js';
import { compilePcapFilter } from '../../lang/pcapfilter/index.js';
import { inlineProgram } from '../../vm/mapi/inline.js';
import { fakeExtern, genPackets, genProgram } from './arbitrary.js';
import { ipv4Frame } from '../mapi/helpers.js';

/** A small seeded generator (fast-check drives the seed). */
class Rng {
  constructor(private s: number) {}
  int(n: number): number {
    this.s = (Math.imul(this.s ^ (this.s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return ((this.s >>> 8) % n);
  }
  chance(p: number): boolean { return this.int(1000) < p * 1000; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
}

/** Where a head template is instantiated: its K, its locals, its flow label and its own labels. */
interface At { K: number; lb: number; flow: number; lab: number }
type G<T> = (at: At) => T;

const HEAD_LOCALS = 3;

function genAtom(r: Rng): G<Expr> {
  const off = r.int(70), n = r.int(HEAD_LOCALS), v = r.pick([0, 1, 2, 6, 7, 0x800]);
  return r.pick<G<Expr>>([
    () => ({ k: 'load', off: c(off), size: 1 }),
    () => bin('and', { k: 'load', off: c(off), size: 1 }, c(7)),
    () => ({ k: 'load', off: c(off), size: 2 }),
    () => field('l4.dport'),
    () => field('link.type'),
    () => bin('and', field('ip4.proto'), c(7)),
    () => ({ k: 'meta', m: 'caplen' }),
    (at) => ({ k: 'local', n: at.lb + n }),
    () => c(v),
  ]);
}

/** A K-free pure expression. */
function genPlain(r: Rng, depth: number): G<Expr> {
  if (depth <= 0 || r.chance(0.35)) return genAtom(r);
  const a = genPlain(r, depth - 1), b = genPlain(r, depth - 1), x = genPlain(r, depth - 1);
  const op = r.pick(['add', 'sub', 'and', 'div', 'mod', 'eq', 'lt', 'shr'] as const);
  return r.pick<G<Expr>>([
    (at) => bin(op, a(at), b(at)),
    (at) => ({ k: 'land', a: a(at), b: b(at) }),
    (at) => ({ k: 'lor', a: a(at), b: b(at) }),
    (at) => ({ k: 'cond', c: x(at), a: a(at), b: b(at) }),
    (at) => ({ k: 'lnot', a: a(at) }),
    (at) => ({ k: 'load', off: bin('and', a(at), c(63)), size: 1 }),
    (at) => ({ k: 'hash', off: bin('and', a(at), c(31)), len: c(4), range: c(8) }),
  ]);
}

/** An expression that may contain sites `e == K`, in any operand position. */
function genExpr(r: Rng, depth: number): G<Expr> {
  if (depth <= 0 || r.chance(0.3)) {
    if (r.chance(0.6)) {
      const e = genPlain(r, 1), flip = r.chance(0.3);
      return (at) => (flip ? bin('eq', c(at.K), e(at)) : bin('eq', e(at), c(at.K)));
    }
    return genPlain(r, 1);
  }
  const a = genExpr(r, depth - 1), b = genExpr(r, depth - 1), x = genExpr(r, depth - 1);
  const op = r.pick(['add', 'and', 'div', 'eq', 'ne', 'or'] as const);
  return r.pick<G<Expr>>([
    (at) => ({ k: 'land', a: a(at), b: b(at) }),
    (at) => ({ k: 'lor', a: a(at), b: b(at) }),
    (at) => ({ k: 'cond', c: x(at), a: a(at), b: b(at) }),
    (at) => bin(op, a(at), b(at)),
    (at) => ({ k: 'lnot', a: a(at) }),
    (at) => ({ k: 'neg', a: a(at) }),
    (at) => ({ k: 'load', off: bin('and', a(at), c(63)), size: 1 }),
    (at) => ({ k: 'hash', off: bin('and', a(at), c(31)), len: bin('and', b(at), c(3)), range: c(5) }),
  ]);
}

/** A pure head: tests, local writes, inner blocks; it may leave the flow or fall through. */
function genHead(r: Rng, depth: number, inner: number[] = []): G<Stmt> {
  const choice = depth <= 0 ? r.int(3) : r.int(6);
  const e = genExpr(r, 3);
  const n = r.int(HEAD_LOCALS);
  const exitTo = r.int(inner.length + 1);
  const leave = (at: At): Stmt => ({ k: 'exit', label: exitTo === 0 ? at.flow : at.lab + inner[exitTo - 1]! });
  switch (choice) {
    case 0: return (at) => ({ k: 'if', cond: e(at), then: { k: 'seq', body: [] }, else: leave(at) });
    case 1: return (at) => ({ k: 'setlocal', n: at.lb + n, value: e(at) });
    case 2: return (at) => ({ k: 'eval', e: e(at) });
    case 3: {
      const a = genHead(r, depth - 1, inner), b = genHead(r, depth - 1, inner);
      return (at) => ({ k: 'if', cond: e(at), then: a(at), else: b(at) });
    }
    case 4: {
      const parts = [genHead(r, depth - 1, inner), genHead(r, depth - 1, inner), genHead(r, depth - 1, inner)];
      return (at) => ({ k: 'seq', body: parts.map((p) => p(at)) });
    }
    default: {
      const label = inner.length;
      const body = genHead(r, depth - 1, [...inner, label]);
      const catchFaults = r.chance(0.3);
      return (at) => ({ k: 'block', label: at.lab + label, body: body(at), ...(catchFaults ? { catchFaults: true } : {}) });
    }
  }
}

/** The rest of flow i: side effects that reveal which flows ran, in which order, and what the head computed. */
function genRest(r: Rng, i: number): G<Stmt[]> {
  const parts: G<Stmt>[] = [
    () => ({ k: 'setreg', n: 1, value: bin('add', bin('mul', { k: 'reg', n: 1 }, c(31)), c(i + 1)) }),
    () => ({ k: 'setstate', i, value: bin('add', { k: 'state', i }, c(1)) }),
  ];
  if (r.chance(0.5)) parts.push((at) => ({ k: 'setstate', i: 16 + (i % 16), value: { k: 'local', n: at.lb + r.int(HEAD_LOCALS) } }));
  if (r.chance(0.3)) { const off = r.int(80); parts.push(() => ({ k: 'setmem', index: c(i), value: { k: 'load', off: c(off), size: 2 } })); }
  if (r.chance(0.15)) parts.push((at) => ({ k: 'if', cond: bin('lt', { k: 'meta', m: 'caplen' }, c(40)), then: { k: 'exit', label: at.flow } }));
  if (r.chance(0.08)) parts.push(() => ({ k: 'if', cond: bin('eq', { k: 'reg', n: 1 }, c(i)), then: { k: 'return', value: c(i + 2) } }));
  if (r.chance(0.1)) parts.push(() => ({ k: 'for', reg: 2, init: c(0), cmp: 'lt', limit: c(3), step: 1, body: { k: 'setreg', n: 3, value: bin('add', { k: 'reg', n: 3 }, c(1)) } }));
  return (at) => parts.map((p) => p(at));
}

/** A head that ends as a filter on K does: `h; if (g && e == K) {} else leave the flow`. */
function filterHead(r: Rng, h: G<Stmt>): G<Stmt> {
  const e = genPlain(r, 2), g = genPlain(r, 1);
  return (at) => ({ k: 'seq', body: [h(at), { k: 'if', cond: { k: 'land', a: g(at), b: bin('eq', e(at), c(at.K)) }, then: { k: 'seq', body: [] }, else: { k: 'exit', label: at.flow } }] });
}

/** Locals private to one flow's rest (after the heads' locals). */
const REST_LOCALS = 2;

/**
 * Rests that are one program up to constants, as N flows with the same chain have: the parts
 * are chosen once, each flow puts its own constants and state words in them — some stepping
 * evenly from flow to flow, some not. A private local is read before it is written, so a copy
 * that does not start with it zeroed shows.
 */
function genSameRests(r: Rng, flows: number): (i: number, at: At) => Stmt[] {
  const uneven = Array.from({ length: flows }, () => r.int(16));
  const pick = Array.from({ length: 7 }, () => r.chance(0.5));
  const off = r.int(80);
  return (i, at) => {
    const p = flows * HEAD_LOCALS + i * REST_LOCALS;
    const parts: Stmt[] = [{ k: 'setreg', n: 1, value: bin('add', bin('mul', { k: 'reg', n: 1 }, c(31)), c(i + 1)) }];
    if (pick[0]) parts.push({ k: 'setstate', i, value: bin('add', { k: 'state', i }, c(1)) });
    if (pick[1]) parts.push({ k: 'setstate', i: 16 + uneven[i]!, value: bin('add', { k: 'local', n: p }, { k: 'state', i: 16 + uneven[i]! }) });
    if (pick[2]) parts.push({ k: 'setlocal', n: p, value: { k: 'meta', m: 'caplen' } }, { k: 'setmem', index: c(uneven[i]!), value: { k: 'local', n: p } });
    if (pick[3]) parts.push({ k: 'if', cond: bin('lt', { k: 'meta', m: 'caplen' }, c(40 + i)), then: { k: 'exit', label: at.flow } });
    if (pick[4]) parts.push({ k: 'setmem', index: c(i), value: { k: 'load', off: c(off + i), size: 2 } });
    if (pick[5]) parts.push({ k: 'if', cond: bin('eq', { k: 'reg', n: 1 }, c(i)), then: { k: 'return', value: c(i + 2) } });
    if (pick[6]) parts.push({ k: 'for', reg: 2, init: c(0), cmp: 'lt', limit: c(3), step: 1, body: { k: 'setstate', i: 2 * i, value: bin('add', { k: 'state', i: 2 * i }, c(1)) } });
    return parts;
  };
}

/**
 * A device-like program: flows from up to two head templates, some statements between them.
 * With `sameRests`, the rests differ only in constants and the first head is often a filter
 * that cannot complete without its K (the shared form of dispatch).
 */
function genDeviceProgram(seed: number, sameRests: boolean | 'kinds' = false): Program {
  const r = new Rng(seed);
  const heads = [sameRests && r.chance(0.7) ? filterHead(r, genHead(r, 2)) : genHead(r, 3), genHead(r, 3)];
  const flows = 2 + r.int(14);
  // 'kinds': each flow's rest is one of a few shapes (a chain picked per flow, as PKT_COUNTER or BYTE_COUNTER).
  const kinds = sameRests ? Array.from({ length: sameRests === 'kinds' ? 2 + r.int(3) : 1 }, () => genSameRests(r, flows)) : [];
  const kindOf = Array.from({ length: flows }, () => r.int(kinds.length));
  const same = kinds.length ? (i: number, at: At) => kinds[kindOf[i]!]!(i, at) : undefined;
  const body: Stmt[] = [{ k: 'setreg', n: 0, value: { k: 'meta', m: 'caplen' } }];
  const kPool = r.chance(0.5) ? 8 : 64;
  for (let i = 0; i < flows; i++) {
    const at: At = { K: r.int(kPool), lb: i * HEAD_LOCALS, flow: i, lab: 100 + 10 * i };
    const head = heads[r.chance(sameRests ? 0.95 : 0.85) ? 0 : 1]!(at);
    const rest = same ? same(i, at) : genRest(r, i)(at);
    body.push({ k: 'block', label: i, catchFaults: r.chance(0.95), body: { k: 'seq', body: [head, ...rest] } });
    if (r.chance(0.05)) body.push({ k: 'setreg', n: 1, value: bin('xor', { k: 'reg', n: 1 }, c(0x55)) });
  }
  body.push({ k: 'return', value: bin('add', { k: 'reg', n: 1 }, c(1)) });
  return { body: { k: 'seq', body }, linkType: 1, registers: 4, memoryCells: 16, stateWords: 32, locals: flows * (HEAD_LOCALS + REST_LOCALS), externs: [], fuel: 20 };
}

/** Runs both programs over the same packets; the first difference (result, R, M, S, fuel), or undefined. */
function difference(p: Program, q: Program, packetSeed: number): string | undefined {
  const s1 = newState(p), s2 = newState(q);
  for (const pk of genPackets(packetSeed, p.linkType, 40)) {
    const a = runPacket(p, s1, pk.bytes, pk.wirelen, { callExtern: fakeExtern }).result;
    const b = runPacket(q, s2, pk.bytes, pk.wirelen, { callExtern: fakeExtern }).result;
    if (a !== b) return `result ${a} vs ${b}`;
    for (const [what, x, y] of [['R', s1.registers, s2.registers], ['M', s1.memory, s2.memory], ['S', s1.state, s2.state]] as const) {
      const i = x.findIndex((v, j) => v !== y[j]);
      if (i >= 0) return `${what}[${i}] ${x[i]} vs ${y[i]}`;
    }
    if (s1.fuelExhausted !== s2.fuelExhausted) return 'fuel count';
  }
  return undefined;
}

const seeds = fc.tuple(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer());

/** The property, for a transform (the pass, or a broken variant of it). */
const keepsSemantics = (transform: (p: Program) => Program, sameRests: boolean | 'kinds' = false) => fc.property(seeds, ([seed, packetSeed]) => {
  const p = genDeviceProgram(seed, sameRests);
  const q = transform(p);
  expect(validateProgram(q)).toEqual([]);
  const diff = difference(p, q, packetSeed);
  if (diff) throw new Error(diff);
});

/** The probe block of the first dispatched group (flow blocks here never end with a local write; the probe ends setting its outcome). */
function probeBlock(s: Stmt): Extract<Stmt, { k: 'block' }> | undefined {
  if (s.k !== 'seq') return undefined;
  return s.body.find((x): x is Extract<Stmt, { k: 'block' }> => x.k === 'block' && x.catchFaults === true && x.body.k === 'seq'
    && x.body.body[x.body.body.length - 1]?.k === 'setlocal');
}

describe('dispatching flows that differ by a constant', () => {
  it('keeps results, R, M, S and fuel, faults included', () => {
    fc.assert(keepsSemantics((p) => dispatchFlows(p, { minFlows: 2 })), { numRuns: 300 });
  });

  it('dispatches most generated programs (the property is not vacuous)', () => {
    let dispatched = 0;
    for (let seed = 0; seed < 200; seed++) {
      const p = genDeviceProgram(seed);
      if (dispatchFlows(p, { minFlows: 2 }) !== p) dispatched++;
    }
    expect(dispatched).toBeGreaterThan(100);
  });

  it('catches a probe that lets faults end the packet', () => {
    const broken = (p: Program): Program => {
      const q = structuredClone(dispatchFlows(p, { minFlows: 2 }));
      const b = probeBlock(q.body);
      if (b) delete b.catchFaults;
      return q;
    };
    const r = fc.check(keepsSemantics(broken), { numRuns: 400 });
    expect(r.failed).toBe(true);
  });

  it('catches flows dispatched in the wrong order', () => {
    const swap = (s: Stmt): void => {
      if (s.k === 'if' && s.then.k === 'seq' && s.then.body.length === 2 && s.then.body.every((x) => x.k === 'if')) s.then.body.reverse();
      if (s.k === 'if') swap(s.then);
      if (s.k === 'seq') s.body.forEach(swap);
    };
    const broken = (p: Program): Program => {
      const q = structuredClone(dispatchFlows(p, { minFlows: 2 }));
      swap(q.body);
      return q;
    };
    const r = fc.check(keepsSemantics(broken), { numRuns: 400 });
    expect(r.failed).toBe(true);
  });

  it('leaves flows alone whose heads read state or write it', () => {
    const flow = (i: number, head: Stmt): Stmt => ({ k: 'block', label: i, catchFaults: true, body: { k: 'seq', body: [head, { k: 'setstate', i, value: c(1) }] } });
    const readsReg = (i: number): Stmt => ({ k: 'if', cond: bin('eq', { k: 'reg', n: 0 }, c(i)), then: { k: 'seq', body: [] }, else: { k: 'exit', label: i } });
    const writes = (i: number): Stmt => ({ k: 'seq', body: [{ k: 'setreg', n: 0, value: c(i) }, { k: 'if', cond: bin('eq', field('l4.dport'), c(i)), then: { k: 'seq', body: [] }, else: { k: 'exit', label: i } }] });
    for (const head of [readsReg, writes]) {
      const p: Program = { body: { k: 'seq', body: Array.from({ length: 8 }, (_, i) => flow(i, head(i))) }, linkType: 1, registers: 1, memoryCells: 1, stateWords: 8, locals: 0, externs: [], fuel: 1 };
      expect(dispatchFlows(p)).toBe(p);
    }
  });
});

/** Whether the pass ran some group in the shared form (its flows' own blocks are gone). */
const sharedSome = (p: Program, q: Program): boolean => {
  const labels = new Set<number>();
  const visit = (x: Stmt): void => { if (x.k === 'block') labels.add(x.label); mapSubStmts(x, (y) => { visit(y); return y; }, (e) => e); };
  visit(q.body);
  return (p.body as Extract<Stmt, { k: 'seq' }>).body.some((x) => x.k === 'block' && x.label < 100 && !labels.has(x.label));
};

describe('flows with the same chain: one shared copy of their rests', () => {
  it('keeps results, R, M, S and fuel, faults included', () => {
    fc.assert(keepsSemantics((p) => dispatchFlows(p, { minFlows: 2 }), true), { numRuns: 300 });
    fc.assert(keepsSemantics((p) => shareLocals(dispatchFlows(p, { minFlows: 2 })), true), { numRuns: 100 });
  });

  it('takes the shared form for many generated programs (the property is not vacuous)', () => {
    let shared = 0;
    for (let seed = 0; seed < 200; seed++) {
      const p = genDeviceProgram(seed, true);
      if (sharedSome(p, dispatchFlows(p, { minFlows: 2 }))) shared++;
    }
    expect(shared).toBeGreaterThan(60);
  });

  it('runs two found flows in flow order, each copy with its locals zeroed (and catches copies without)', () => {
    // `tcp port K` has a site per port field: a packet from port 6 to port 3 finds two flows.
    const rest = (i: number, tmp: number): Stmt[] => [
      { k: 'setreg', n: 1, value: bin('add', bin('mul', { k: 'reg', n: 1 }, c(31)), c(i + 1)) },
      { k: 'setstate', i, value: bin('add', { k: 'state', i }, bin('add', { k: 'local', n: tmp }, c(1))) },
      { k: 'setlocal', n: tmp, value: c(100) },
    ];
    const p = pcapFlows(Array.from({ length: 8 }, (_, i) => `tcp port ${i + 1}`), rest);
    const q = dispatchFlows(p);
    expect(sharedSome(p, q)).toBe(true);
    const packets = [ipv4Frame(6, new Uint8Array(4), { sport: 6, dport: 3 }), ipv4Frame(6, new Uint8Array(4), { sport: 2, dport: 2 }), ipv4Frame(17, new Uint8Array(4), { sport: 6, dport: 3 })];
    const run = (prog: Program) => {
      const st = newState(prog);
      for (const bytes of packets) runPacket(prog, st, bytes, bytes.length);
      return { R1: st.registers[1], S: [...st.state] };
    };
    const want = run(p);
    expect(want.S.slice(0, 8)).toEqual([0, 1, 1, 0, 0, 1, 0, 0]);
    expect(run(q)).toEqual(want);
    const firstRestLocal = p.locals - 8;
    const strip = (x: Stmt): Stmt => (x.k === 'seq'
      ? { ...x, body: x.body.filter((y) => !(y.k === 'setlocal' && y.n >= firstRestLocal && y.value.k === 'const' && y.value.v === 0)).map(strip) }
      : mapSubStmts(x, strip, (e) => e));
    expect(run({ ...q, body: strip(q.body) })).not.toEqual(want);
  });

  it('shares the rests of flows whose chains are a few kinds, keeping results, R, M, S and fuel', () => {
    fc.assert(keepsSemantics((p) => dispatchFlows(p, { minFlows: 2 }), 'kinds'), { numRuns: 300 });
    fc.assert(keepsSemantics((p) => shareLocals(dispatchFlows(p, { minFlows: 2 })), 'kinds'), { numRuns: 100 });
    let shared = 0;
    for (let seed = 0; seed < 200; seed++) {
      const p = genDeviceProgram(seed, 'kinds');
      if (sharedSome(p, dispatchFlows(p, { minFlows: 2 }))) shared++;
    }
    expect(shared).toBeGreaterThan(60);
  });

  it('gives flows of two alternating chains the same code for 50 flows as for 500', () => {
    const rest = (i: number): Stmt[] => (i % 2
      ? [{ k: 'setstate', i: 4 * i, value: bin('add', { k: 'state', i: 4 * i }, c(1)) }]
      : [{ k: 'setstate', i: 4 * i + 1, value: bin('add', { k: 'state', i: 4 * i + 1 }, { k: 'meta', m: 'wirelen' }) }]);
    const flows = (n: number) => pcapFlows(Array.from({ length: n }, (_, i) => `tcp dst port ${i + 1}`), rest, 4 * n);
    const size = (n: number) => JSON.stringify(dispatchFlows(flows(n)).body, (key, v: unknown) => (key === 'keys' || key === 'values' ? undefined : v)).length;
    expect(sharedSome(flows(50), dispatchFlows(flows(50)))).toBe(true);
    expect(size(500)).toBeLessThan(size(50) * 1.2);
    // Flow by flow against the dispatched program: each packet to port 1…60 counts in its own flow's word.
    const p = flows(60), q = dispatchFlows(p);
    const sp = newState(p), sq = newState(q);
    for (let port = 0; port <= 61; port++) {
      const bytes = ipv4Frame(6, new Uint8Array(port % 7), { sport: 9999, dport: port });
      runPacket(p, sp, bytes, bytes.length);
      runPacket(q, sq, bytes, bytes.length);
    }
    expect([...sq.state]).toEqual([...sp.state]);
    expect(sp.state.filter((v) => v !== 0).length).toBe(60);
  });

  it('picks the kind of rest of each position, by runs, by period or by table', () => {
    const r = new Rng(7);
    const cases = [
      Array.from({ length: 40 }, (_, i) => (i < 10 ? 0 : i < 25 ? 2 : 1)),        // three blocks
      Array.from({ length: 90 }, (_, i) => [0, 1, 1, 2, 0][i % 5]!),               // period 5
      Array.from({ length: 90 }, () => r.int(3)),                                   // no pattern: a table
    ];
    for (const kinds of cases) {
      const e = kindOf({ k: 'local', n: 0 }, kinds);
      kinds.forEach((kind, q) => {
        const p: Program = { body: { k: 'seq', body: [{ k: 'setlocal', n: 0, value: c(q) }, { k: 'return', value: e }] }, linkType: 1, registers: 0, memoryCells: 1, locals: 1, externs: [], fuel: 1 };
        expect(runPacket(p, newState(p), new Uint8Array(14), 14).result).toBe(kind);
      });
    }
  });

  it('gives a shared group the same code for 50 flows as for 500 (only its lookup tables grow)', () => {
    const size = (n: number) => JSON.stringify(dispatchFlows(pcapFlows(Array.from({ length: n }, (_, i) => `tcp dst port ${i + 1}`))).body,
      (key, v: unknown) => (key === 'keys' || key === 'values' ? undefined : v)).length;
    expect(size(500)).toBeLessThan(size(50) * 1.2);
  });
});

/** Outside the generators' constants, so that `== SITE_K` tests are exactly a head's sites. */
const SITE_K = 1000;

/** The `e == SITE_K` tests of a statement, in traversal order. */
function sitesOf(s: Stmt): Expr[] {
  const out: Expr[] = [];
  const ex = (e: Expr): Expr => {
    if (e.k === 'bin' && e.op === 'eq' && ((e.a.k === 'const' && e.a.v === SITE_K) || (e.b.k === 'const' && e.b.v === SITE_K))) out.push(e);
    return mapSubExprs(e, ex);
  };
  mapSubStmts(s, function st(x: Stmt): Stmt { return mapSubStmts(x, st, ex); }, ex);
  return out;
}

/** The head of the flow `expr` (its K written SITE_K), as BPF_FILTER inlines it, and its sites. */
function pcapHead(expr: string): { head: Stmt; sites: Expr[] } {
  const p = pcapFlows([expr.replace('K', String(SITE_K))]);
  const block = (p.body as Extract<Stmt, { k: 'seq' }>).body[0] as Extract<Stmt, { k: 'block' }>;
  const head = (block.body as Extract<Stmt, { k: 'seq' }>).body[0]!;
  return { head, sites: sitesOf(head) };
}

/** A generated head whose K tests are `== SITE_K`: with chance `filter`, a filter of `terms` terms (filterHead). */
function siteHead(seed: number, filter: number, terms: number): Stmt {
  const r = new Rng(seed);
  const at: At = { K: SITE_K, lb: 0, flow: 1, lab: 10 };
  return (r.chance(filter) ? filterHead(r, genHead(r, terms)) : genHead(r, 3))(at);
}

describe('whether a head can complete with its K tests false', () => {

  it('is a proof: a head it says cannot complete never does, on any packet', () => {
    let proofs = 0;
    fc.assert(fc.property(seeds, ([seed, packetSeed]) => {
      const head = siteHead(seed, 0.5, 2);
      const sites = new Set(sitesOf(head));
      if (mayComplete(head, sites)) return;
      proofs++;
      const falsify = (x: Stmt): Stmt => mapStmtExprs(x, function f(e: Expr): Expr { return sites.has(e) ? c(0) : mapSubExprs(e, f); });
      const p: Program = {
        body: { k: 'seq', body: [{ k: 'block', label: 1, catchFaults: true, body: { k: 'seq', body: [falsify(head), { k: 'return', value: c(7) }] } }, { k: 'return', value: c(3) }] },
        linkType: 1, registers: 1, memoryCells: 1, locals: HEAD_LOCALS, externs: [], fuel: 1,
      };
      const state = newState(p);
      for (const pk of genPackets(packetSeed, 1, 30)) expect(runPacket(p, state, pk.bytes, pk.wirelen).result).toBe(3);
    }), { numRuns: 400 });
    expect(proofs).toBeGreaterThan(40);
  });

  it('proves libpcap port and host filters, and not a filter that passes other traffic', () => {
    const head = (expr: string) => { const h = pcapHead(expr); return { head: h.head, sites: new Set(h.sites) }; };
    for (const e of ['tcp dst port K', 'udp port K', 'port K and tcp']) {
      const h = head(e);
      expect(h.sites.size).toBeGreaterThan(0);
      expect(mayComplete(h.head, h.sites), e).toBe(false);
    }
    for (const e of ['tcp dst port K or udp', 'not tcp dst port K']) {
      const h = head(e);
      expect(mayComplete(h.head, h.sites), e).toBe(true);
    }
  });
});

describe('whether a K test, reached and true, decides that the head completes', () => {
  it('is a proof: whenever such a site is evaluated and true, the head falls through its end', () => {
    let proofs = 0;
    fc.assert(fc.property(seeds, ([seed, packetSeed]) => {
      const head = siteHead(seed, 0.6, 1);
      for (const site of sitesOf(head)) {
        if (!completesWhenTrue(head, site)) continue;
        proofs++;
        // The site becomes an extern call that notes it was reached and is true (1); the other sites stay.
        const reached = { at: false };
        const mark = (x: Stmt): Stmt => mapStmtExprs(x, function f(e: Expr): Expr {
          return e === site ? { k: 'extern', id: 0, args: [(site as Extract<Expr, { k: 'bin' }>).a] } : mapSubExprs(e, f);
        });
        const p: Program = {
          body: { k: 'seq', body: [{ k: 'block', label: 1, catchFaults: true, body: { k: 'seq', body: [mark(head), { k: 'return', value: c(7) }] } }, { k: 'return', value: c(3) }] },
          linkType: 1, registers: 1, memoryCells: 1, locals: HEAD_LOCALS, externs: [{ name: 'reached', config: [] }], fuel: 1,
        };
        const state = newState(p);
        for (const pk of genPackets(packetSeed, 1, 30)) {
          reached.at = false;
          const res = runPacket(p, state, pk.bytes, pk.wirelen, { callExtern: () => { reached.at = true; return 1; } }).result;
          if (reached.at) expect(res).toBe(7);
        }
      }
    }), { numRuns: 400 });
    expect(proofs).toBeGreaterThan(40);
  });

  it('holds for libpcap port and host filters, not where more tests follow or the test is negated', () => {
    const sites = pcapHead;
    for (const e of ['tcp dst port K', 'udp port K', 'port K', 'tcp dst port K or udp']) {
      const h = sites(e);
      expect(h.sites.length, e).toBeGreaterThan(0);
      for (const site of h.sites) expect(completesWhenTrue(h.head, site), e).toBe(true);
    }
    for (const e of ['tcp dst port K and len > 100', 'not tcp dst port K']) {
      const h = sites(e);
      expect(h.sites.length, e).toBeGreaterThan(0);
      for (const site of h.sites) expect(completesWhenTrue(h.head, site), e).toBe(false);
    }
  });

  it('spares found flows their second head: `tcp dst port K` flows count like the flows one by one', () => {
    // 8080 is the destination port of the generator's shaped TCP packets: those flows are found.
    const exprs = [8080, 80, 22, 53, 1, 2, 3, 9].map((kv) => `tcp dst port ${kv}`);
    const p = pcapFlows(exprs);
    const q = dispatchFlows(p);
    const blocks = (x: Program) => (JSON.stringify(x.body).match(/"catchFaults":true/g) ?? []).length;
    // Without the second head: the probe and the shared rest (per site, no re-run block).
    const rerun = dispatchFlows(pcapFlows(exprs.map((e) => `${e} and len > 0`)));
    expect(blocks(q)).toBeLessThan(blocks(rerun));
    for (let seed = 0; seed < 20; seed++) expect(difference(p, q, seed)).toBeUndefined();
    // The packets did reach the found path: some flow counted something.
    const state = newState(q);
    for (const pk of genPackets(1, 1, 200)) runPacket(q, state, pk.bytes, pk.wirelen);
    expect(state.state[0]).toBeGreaterThan(0);
  });
});

describe('sharing the locals of blocks that never run together', () => {
  it('keeps results, R, M, S and fuel on device-like programs, dispatched or not', () => {
    fc.assert(keepsSemantics((p) => shareLocals(dispatchFlows(p, { minFlows: 2 }))), { numRuns: 150 });
    fc.assert(keepsSemantics(shareLocals), { numRuns: 100 });
  });

  it('keeps results, R, M, S and fuel on random programs', () => {
    fc.assert(fc.property(seeds, ([seed, packetSeed]) => {
      const p = genProgram(seed, { linkType: 1, externs: true });
      const q = shareLocals(p);
      expect(validateProgram(q)).toEqual([]);
      const diff = difference(p, q, packetSeed);
      if (diff) throw new Error(diff);
    }), { numRuns: 300 });
  });

  it('needs the zeroing: without it the same property fails', () => {
    const unzeroed = (s: Stmt): Stmt => {
      if (s.k === 'block' && s.body.k === 'seq') {
        const body = s.body.body;
        let i = 0;
        while (body[i]?.k === 'setlocal' && (body[i] as { value: Expr }).value.k === 'const') i++;
        return { ...s, body: { k: 'seq', body: body.slice(i).map(unzeroed) } };
      }
      if (s.k === 'seq') return { ...s, body: s.body.map(unzeroed) };
      if (s.k === 'if') return { ...s, then: unzeroed(s.then), ...(s.else ? { else: unzeroed(s.else) } : {}) };
      if (s.k === 'block') return { ...s, body: unzeroed(s.body) };
      return s;
    };
    const r = fc.check(keepsSemantics((p) => { const q = shareLocals(p); return { ...q, body: unzeroed(q.body) }; }), { numRuns: 300 });
    expect(r.failed).toBe(true);
  });

  it('gives N flows a constant number of locals', () => {
    const p = pcapFlows(Array.from({ length: 300 }, (_, i) => `tcp dst port ${i + 1}`));
    const q = shareLocals(p);
    expect(p.locals).toBe(300);
    expect(q.locals).toBeLessThan(20);
  });
});

/** A counter step, as MAPI's PKT_COUNTER has: S[i] += 1 through a temporary. */
const counter = (i: number, tmp: number): Stmt[] => [
  { k: 'setlocal', n: tmp, value: bin('add', { k: 'state', i }, c(1)) }, { k: 'setstate', i, value: { k: 'local', n: tmp } }];

/**
 * A device-like program from libpcap expressions, inlined as MAPI's BPF_FILTER does, each
 * followed by `rest` (flow i, a local of its own; default a counter). The rests' locals come last.
 */
function pcapFlows(exprs: readonly string[], rest: (i: number, tmp: number) => Stmt[] = counter, stateWords = exprs.length): Program {
  let locals = 0, labels = exprs.length;
  const steps = exprs.map((expr, i) => {
    const { program } = compilePcapFilter(expr, { linkType: 1, snaplen: 262144 });
    const r = inlineProgram(program, { regBase: 0, localBase: locals, labelBase: labels, memBase: 0, stateBase: 0, flowLabel: i, externId: () => 0 });
    locals += r.locals;
    labels += r.labels;
    return r.step;
  });
  const body: Stmt[] = steps.map((step, i) => ({ k: 'block', label: i, catchFaults: true, body: { k: 'seq', body: [step, ...rest(i, locals + i)] } }));
  return { body: { k: 'seq', body }, linkType: 1, registers: 4, memoryCells: 1, stateWords, locals: locals + exprs.length, externs: [], fuel: 1 };
}

describe('dispatching libpcap flows', () => {
  it('counts like the flows one by one (tcp/udp ports, hosts)', () => {
    fc.assert(fc.property(fc.constantFrom('tcp dst port', 'udp port', 'dst host 10.0.0.', 'port'), fc.array(fc.nat(100), { minLength: 4, maxLength: 30 }), fc.integer(),
      (shape, ks, packetSeed) => {
        const exprs = ks.map((kv) => (shape.endsWith('.') ? `${shape}${kv % 256}` : `${shape} ${kv === 0 ? 80 : kv}`));
        const p = pcapFlows(exprs);
        const q = dispatchFlows(p);
        expect(validateProgram(q)).toEqual([]);
        if (new Set(exprs).size === exprs.length) expect(q).not.toBe(p);   // distinct constants: one group
        expect(difference(p, q, packetSeed)).toBeUndefined();
      }), { numRuns: 25 });
  });

  it('keeps the program linear in the number of flows', () => {
    const size = (p: Program) => JSON.stringify(p.body).length;
    const ratio = (n: number) => size(dispatchFlows(pcapFlows(Array.from({ length: n }, (_, i) => `tcp dst port ${i + 1}`)))) / n;
    expect(ratio(600) / ratio(60)).toBeLessThan(1.3);
  });
});
