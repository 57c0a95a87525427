/**
 * IR → WebAssembly module (binaryen), following the ABI of abi/index.ts:
 *
 *   (import "env" "memory" (memory pages pages))
 *   (import "env" "extern_<id>" (func (param recordOff args…) (result i32)))   one per extern
 *   (func $filter (param pkt caplen) (result i32))                            see emit.ts
 *   (func (export "run") (param start end out) (result i32))                  the batch loop
 *   (func (export "run_index") (param start end index count out) (result i32)) the loop over an index
 *   (func (export "tally") (param out n) (result i32))                         counts a batch's verdicts
 *   custom section "fplc": the ModuleMeta as JSON
 *
 * One call of `run` walks the pcap records of a batch and stores one u32 result per record;
 * `run_index` does the same for records named by an index of offsets. Each loop has the
 * per-packet function inlined (small programs: a copy each) or calls it (large ones).
 */
import binaryen from './binaryen.js';
import type { Program } from '../../lang/ir/ir.js';
import { CTRL_BATCH_STOP, CTRL_PACKETS, CTRL_RECORD_LIMIT, CTRL_TALLY_CODE, CTRL_TALLY_MIXED, CUSTOM_SECTION, MAX_CAPLEN, PAGE_BYTES, RECORD_HEADER_BYTES, externImportName, layout, type ModuleMeta } from '../../abi/index.js';
import { FilterEmitter } from './emit.js';
import { largestFunctionBody } from './function-size.js';
import { WASM_COALESCE_MAX_LOCALS, WASM_MAX_FUNCTION_BYTES } from '../../lang/ir/limits.js';

export interface WasmOptions {
  /** binaryen optimization (default true). */
  optimize?: boolean;
  /** Batch area size in bytes (default DEFAULT_BATCH_BYTES). */
  batchBytes?: number;
  /** Recorded in the metadata: the value an accepting pcap expression returns. */
  snaplen?: number;
  /** Also print the module as text, with binaryen's names (`wat`); costly for large modules. */
  text?: boolean;
  /**
   * Large sets as hash tables in the module's memory, after its other areas (default true).
   * False keeps them in code (the second module on a MAPI device's memory, whose tables area
   * the first one's tables fill; see tablesReserve).
   */
  memoryTables?: boolean;
  /**
   * Bytes (whole pages) the memory has after the layout for hash tables: a MAPI device's memory,
   * laid out before its modules are compiled, keeps such an area. Tables go there when they fit
   * (in code otherwise, or with memoryTables false), and the module's memory counts the area
   * either way, so that every module of the device imports the same memory.
   */
  tablesReserve?: number;
}

export interface WasmModule { wasm: Uint8Array; meta: ModuleMeta; wat?: string }

const I32 = binaryen.i32;

/** Programs above this many IR nodes get the light pass list instead of -O3. */
export const LARGE_PROGRAM_NODES = 6000;
// Without merge-blocks: it is quadratic in the depth of nested blocks, which a MAPI flow's chain
// of functions makes as deep as the chain (4,000 PKT_COUNTERs on one flow: 25 s of 35 s's connect).
const LIGHT_PASSES = ['precompute', 'simplify-locals', 'vacuum', 'remove-unused-brs', 'remove-unused-names',
  'coalesce-locals', 'reorder-locals'];

/**
 * IR nodes in a tree (iterative: trees from long filters are wide and may be deep), plus, with
 * `keys`, the keys of its sets and lookups (a hash table in code grows with them: inset.ts).
 */
function irSize(root: unknown, keys: boolean): number {
  let n = 0;
  const stack: unknown[] = [root];
  while (stack.length) {
    const x = stack.pop();
    if (Array.isArray(x)) { for (const y of x) stack.push(y); continue; }
    if (!x || typeof x !== 'object') continue;
    n++;
    const ks = keys ? (x as { keys?: unknown }).keys ?? (x as { set?: unknown }).set : undefined;
    if (Array.isArray(ks)) n += ks.length;
    for (const v of Object.values(x)) if (v && typeof v === 'object') stack.push(v);
  }
  return n;
}

/** Compiles a program; throws if binaryen finds the module invalid (a compiler bug). */
export function compileWasm(program: Program, opts: WasmOptions = {}): WasmModule {
  const bb = opts.batchBytes;
  if (bb !== undefined && (!Number.isInteger(bb) || bb % 4 !== 0 || bb < MAX_CAPLEN + RECORD_HEADER_BYTES || bb > 1 << 30)) {
    throw new RangeError(`batchBytes must be a multiple of 4 from ${MAX_CAPLEN + RECORD_HEADER_BYTES} (one largest record) to 2^30, not ${bb}`);
  }
  const meta = layout({
    linkType: program.linkType, registers: program.registers, memoryCells: program.memoryCells,
    fuel: program.fuel, stateBytes: 4 * (program.stateWords ?? 0), externs: program.externs.map((x) => ({ ...x, config: [...x.config] })),
    ...(opts.batchBytes !== undefined ? { batchBytes: opts.batchBytes } : {}),
    ...(program.source ? { language: program.source.language } : {}),
    ...(opts.snaplen !== undefined ? { snaplen: opts.snaplen } : {}),
  });
  const reserve = opts.tablesReserve;
  if (reserve !== undefined && (!Number.isSafeInteger(reserve) || reserve < 0 || reserve % PAGE_BYTES !== 0)) {
    throw new RangeError(`tablesReserve must be a whole number of ${PAGE_BYTES}-byte pages, not ${reserve}`);
  }
  const m = new binaryen.Module();
  try {
    m.setMemory(meta.pages, meta.pages, null, [], false, false, 'mem');
    m.addMemoryImport('mem', 'env', 'memory');
    program.externs.forEach((x, id) => {
      const params = binaryen.createType(new Array(1 + externArity(program, id)).fill(I32));
      m.addFunctionImport(externImportName(id), 'env', externImportName(id), params, I32);
    });
    const tablesInCode = opts.memoryTables === false;
    const filter = new FilterEmitter(m, program, meta.stateOff, tablesInCode ? undefined : meta.pages * PAGE_BYTES);
    filter.emitFunction('filter');
    // SIMD only where a search needs it, so other modules load on engines without it.
    if (filter.searches.used) m.setFeatures(m.getFeatures() | binaryen.Features.SIMD128);
    const large = irSize(program.body, tablesInCode) > LARGE_PROGRAM_NODES;
    // Each loop gets its own copy of a small filter, which the optimizer then inlines into it
    // (a function with one caller is always inlined); a large one is optimized once and called.
    const walkFilter = large ? 'filter' : copyFunction(m, 'filter', 'filter_walk');
    // The loops' bound on entries and result slots is the memory before the tables.
    addBatchLoop(m, Math.min(meta.pages * PAGE_BYTES, 0xffffffff), false, walkFilter);
    addBatchLoop(m, Math.min(meta.pages * PAGE_BYTES, 0xffffffff), true, 'filter');
    addTally(m);
    const tables = filter.tables;
    // Tables too large for a device's reserved area: the module again, with them in code.
    if (reserve !== undefined && tables.bytes > reserve) return compileWasm(program, { ...opts, memoryTables: false });
    // The tables area follows the layout (the reserved one, or as large as the tables); the
    // data segments fill it at instantiation.
    if (tables.bytes > 0) {
      meta.tablesOff = meta.pages * PAGE_BYTES;
      meta.tablesBytes = tables.bytes;
    }
    const areaPages = reserve !== undefined ? reserve / PAGE_BYTES : Math.ceil(tables.bytes / PAGE_BYTES);
    if (areaPages > 0) {
      meta.pages += areaPages;
      m.setMemory(meta.pages, meta.pages, null, tables.segments.map((t) => ({ offset: m.i32.const(t.offset), data: t.data, passive: false })), false, false, 'mem');
      m.addMemoryImport('mem', 'env', 'memory');
    }
    if (!m.validate()) throw new Error('internal compiler error: binaryen rejected the generated module');
    // Far past the engine's limit before optimizing: refuse now rather than after minutes of passes.
    if (large) checkFunctionSize(m.emitBinary(), 2);
    if (opts.optimize !== false) {
      if (large) {
        // binaryen's full pipeline grows faster than linearly with one huge function (a
        // 1,000-host filter: ~1.8 s at -O3); these local passes take ~70 ms and keep most of the gain.
        const locals = binaryen.getFunctionInfo(m.getFunction('filter')).vars.length;
        m.runPasses(locals > WASM_COALESCE_MAX_LOCALS ? LIGHT_PASSES.filter((p) => p !== 'coalesce-locals') : LIGHT_PASSES);
      } else {
        binaryen.setOptimizeLevel(3);
        binaryen.setShrinkLevel(0);
        // Inline each loop's filter copy first: the -O3 pipeline merges identical functions
        // before it inlines, and a filter with two callers would stay a call per packet.
        m.runPasses(['inlining']);
        m.optimize();
      }
    }
    m.addCustomSection(CUSTOM_SECTION, new TextEncoder().encode(JSON.stringify(meta)));
    const wasm = m.emitBinary();
    checkFunctionSize(wasm, 1);
    // The text only when asked: printing a 10,000-flow device module takes seconds.
    return { wasm, meta, ...(opts.text ? { wat: m.emitText() } : {}) };
  } finally {
    m.dispose();
  }
}

/** Arguments each extern is called with (all call sites of one id pass the same count). */
function externArity(program: Program, id: number): number {
  let arity = 0;
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { k?: string; id?: number; args?: unknown[] };
    if (n.k === 'extern' && n.id === id) arity = Math.max(arity, n.args?.length ?? 0);
    for (const v of Object.values(node)) {
      if (Array.isArray(v)) v.forEach(visit); else if (v && typeof v === 'object') visit(v);
    }
  };
  visit(program.body);
  return arity;
}

/**
 * The batch loop, emitted twice from this one template, one specialized copy per entry point:
 *
 *   run(start, end, out) -> n                      indexed = false: the walk. The first record is
 *                                                  at start, each next one right after it.
 *   run_index(start, end, index, count, out) -> n  indexed = true: record i is at the offset in
 *                                                  index entry i.
 *
 * Two copies rather than one loop that branches on the mode: with the branch in the loop, V8's
 * code for the index loop ran at 4.6 ns per packet where the specialized one runs at 2.9 (`tcp
 * dst port 80`, a cache-resident corpus trace). In indexed mode nothing carries from one packet
 * to the next, so the CPU overlaps them; the walk must load each caplen before it knows where
 * the next record is.
 *
 * The walk reads records straight from a file, so it checks each one: it stops before a record
 * that does not lie whole in [start, end) or whose caplen exceeds CTRL_RECORD_LIMIT. The index
 * is the runtime's own, validated where it is built (abi/index.ts), so run_index trusts its
 * entries as libpcap's loop trusts its packet descriptors: the three compares per packet cost
 * 0.3-0.5 ns of 1.8-3 (the P1 filters). Both loops stop before an index entry or result slot
 * that lies outside the memory (`memBytes`, fixed: the memory is imported with initial =
 * maximum pages), a bound computed once per call. CTRL_BATCH_STOP gets the record offset (walk)
 * or entry address (index) it stopped at.
 *
 * `filter` is the per-packet function the loop calls; the optimizer inlines it when it is that
 * function's only caller (compileWasm gives each loop its own copy of small filters).
 */
function addBatchLoop(m: binaryen.Module, memBytes: number, indexed: boolean, filter: string): void {
  // Parameters: run (start, end, out), run_index (start, end, index, count, out).
  const START = 0, END = 1, INDEX = indexed ? 2 : -1, COUNT = indexed ? 3 : -1, OUT = indexed ? 4 : 2;
  const params = indexed ? 5 : 3;
  // Locals: the entry (index mode) or record (walk) pointer, the result slot, where they end.
  const P = params, Q = P + 1, QEND = P + 2, REL = P + 3, CAPLEN = P + 4, ROOM = P + 5, LIMIT = P + 6, TMP = P + 7;
  const REC = indexed ? P + 8 : P;
  const get = (i: number) => m.local.get(i, I32);
  const k = (v: number) => m.i32.const(v | 0);
  // Local `a` = min_u(a, b), through TMP (a node may not appear twice in a tree).
  const minInto = (a: number, b: binaryen.ExpressionRef) => m.block(null, [
    m.local.set(TMP, b),
    m.local.set(a, m.select(m.i32.lt_u(get(a), get(TMP)), get(a), get(TMP))),
  ]);
  // u32 slots from `base` on that lie inside the memory: (memBytes - base) / 4, or 0.
  const slotsFrom = (base: number) =>
    m.select(m.i32.gt_u(get(base), k(memBytes)), k(0), m.i32.shr_u(m.i32.sub(k(memBytes), get(base)), k(2)));
  const body = m.block(null, [
    ...(indexed ? [] : [m.local.set(LIMIT, m.i32.load(CTRL_RECORD_LIMIT, 4, k(0))), minInto(END, k(memBytes))]),
    // n = how many records at most: every slot of the results (walk), also no more than count
    // entries that lie in the memory (index). QEND = out + 4n ends the result slots; P walks the
    // entries (index) or records (walk) alongside Q.
    m.local.set(QEND, slotsFrom(OUT)),
    ...(indexed ? [minInto(QEND, get(COUNT)), minInto(QEND, slotsFrom(INDEX))] : []),
    m.local.set(QEND, m.i32.add(get(OUT), m.i32.shl(get(QEND), k(2)))),
    m.local.set(P, get(indexed ? INDEX : START)),
    m.local.set(Q, get(OUT)),
    m.block('done', [
      // Walk: a header fits only if end - start >= 16 (without wrapping); ROOM is then the
      // largest offset from start at which a header may begin.
      ...(indexed ? [] : [
        m.br('done', m.i32.gt_u(get(START), get(END))),
        m.br('done', m.i32.lt_u(m.i32.sub(get(END), get(START)), k(RECORD_HEADER_BYTES))),
        m.local.set(ROOM, m.i32.sub(m.i32.sub(get(END), get(START)), k(RECORD_HEADER_BYTES))),
      ]),
      m.loop('next', m.block(null, [
        m.br('done', m.i32.ge_u(get(Q), get(QEND))),
        // The record's address in REC (index: the entry; walk: P itself, so that the chain from
        // one caplen to the next record's is as short as it can be).
        ...(indexed ? [
          m.local.set(REC, m.i32.load(0, 4, get(P))),
          m.local.set(CAPLEN, m.i32.load(8, 1, get(REC))),
        ] : [
          // rec - start wraps to a huge value when rec < start, so one unsigned compare checks both ends.
          m.local.set(REL, m.i32.sub(get(REC), get(START))),
          m.br('done', m.i32.gt_u(get(REL), get(ROOM))),
          m.local.set(CAPLEN, m.i32.load(8, 1, get(REC))),
          m.br('done', m.i32.gt_u(get(CAPLEN), get(LIMIT))),
          m.br('done', m.i32.gt_u(get(CAPLEN), m.i32.sub(get(ROOM), get(REL)))),
        ]),
        m.i32.store(0, 4, get(Q),
          m.call(filter, [m.i32.add(get(REC), k(RECORD_HEADER_BYTES)), get(CAPLEN)], I32)),
        m.local.set(Q, m.i32.add(get(Q), k(4))),
        m.local.set(P, indexed ? m.i32.add(get(P), k(4)) : m.i32.add(m.i32.add(get(P), k(RECORD_HEADER_BYTES)), get(CAPLEN))),
        m.br('next'),
      ])),
    ]),
    m.i32.store(CTRL_BATCH_STOP, 4, k(0), get(P)),
    m.i32.store(CTRL_PACKETS, 4, k(0), m.i32.add(m.i32.load(CTRL_PACKETS, 4, k(0)), m.i32.shr_u(m.i32.sub(get(Q), get(OUT)), k(2)))),
    m.i32.shr_u(m.i32.sub(get(Q), get(OUT)), k(2)),
  ], I32);
  const name = indexed ? 'run_index' : 'run';
  m.addFunction(name, binaryen.createType(new Array(params).fill(I32)), I32, new Array(9).fill(I32), body);
  m.addFunctionExport(name, name);
}

/**
 * tally(out, n) -> matched: counts the non-zero u32 results at out[0..n), stores the first in
 * CTRL_TALLY_CODE and 1 in CTRL_TALLY_MIXED if another differs from it (abi/index.ts). Results
 * are mostly zero, so the branches are predictable.
 */
function addTally(m: binaryen.Module): void {
  const OUT = 0, N = 1, P = 2, END = 3, R = 4, MATCHED = 5, FIRST = 6, MIXED = 7;
  const get = (i: number) => m.local.get(i, I32);
  const body = m.block(null, [
    m.local.set(P, get(OUT)),
    m.local.set(END, m.i32.add(get(OUT), m.i32.shl(get(N), m.i32.const(2)))),
    m.block('done', [
      m.br('done', m.i32.lt_u(get(END), get(P))),   // out + 4n wrapped: nothing sensible to count
      m.loop('next', m.block(null, [
        m.br('done', m.i32.ge_u(get(P), get(END))),
        m.local.set(R, m.i32.load(0, 4, get(P))),
        m.if(get(R), m.block(null, [
          m.local.set(MATCHED, m.i32.add(get(MATCHED), m.i32.const(1))),
          m.if(get(FIRST),
            m.local.set(MIXED, m.i32.or(get(MIXED), m.i32.ne(get(R), get(FIRST)))),
            m.local.set(FIRST, get(R))),
        ])),
        m.local.set(P, m.i32.add(get(P), m.i32.const(4))),
        m.br('next'),
      ])),
    ]),
    m.i32.store(CTRL_TALLY_CODE, 4, m.i32.const(0), get(FIRST)),
    m.i32.store(CTRL_TALLY_MIXED, 4, m.i32.const(0), get(MIXED)),
    get(MATCHED),
  ], I32);
  m.addFunction('tally', binaryen.createType([I32, I32]), I32, new Array(6).fill(I32), body);
  m.addFunctionExport('tally', 'tally');
}

/** Adds a copy of function `from` under the name `to` (same signature, locals and body). */
function copyFunction(m: binaryen.Module, from: string, to: string): string {
  const info = binaryen.getFunctionInfo(m.getFunction(from));
  m.addFunction(to, info.params, info.results, info.vars, m.copyExpression(info.body));
  return to;
}

/** Refuses a module whose largest function is over `slack` × WASM_MAX_FUNCTION_BYTES. */
function checkFunctionSize(wasm: Uint8Array, slack: number): void {
  const largest = largestFunctionBody(wasm);
  if (largest > WASM_MAX_FUNCTION_BYTES * slack) {
    throw new RangeError(`the program compiles to a WebAssembly function of ${largest} bytes${slack > 1 ? ' before optimization' : ''}, more than engines accept (WASM_MAX_FUNCTION_BYTES, ${WASM_MAX_FUNCTION_BYTES}): split it or make it shorter`);
  }
}
