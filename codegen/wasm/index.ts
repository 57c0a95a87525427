/**
 * IR → WebAssembly module (binaryen), following the ABI of vm/abi.ts:
 *
 *   (import "env" "memory" (memory pages pages))
 *   (import "env" "extern_<id>" (func (param recordOff args…) (result i32)))   one per extern
 *   (func $filter (param pkt caplen) (result i32))                            see emit.ts
 *   (func (export "run") (param start end out) (result i32))                  the batch loop
 *   custom section "fplc": the ModuleMeta as JSON
 *
 * One call of `run` walks the pcap records of a batch and stores one u32 result per record;
 * the per-packet function is normally inlined into that loop by the optimizer.
 */
import binaryen from 'binaryen';
import type { Program } from '../../lang/ir/ir.js';
import { CTRL_BATCH_STOP, CTRL_PACKETS, CTRL_RECORD_LIMIT, CUSTOM_SECTION, MAX_CAPLEN, RECORD_HEADER_BYTES, externImportName, layout, type ModuleMeta } from '../../vm/abi.js';
import { FilterEmitter } from './emit.js';

export interface WasmOptions {
  /** binaryen optimization (default true). */
  optimize?: boolean;
  /** Batch area size in bytes (default DEFAULT_BATCH_BYTES). */
  batchBytes?: number;
  /** Recorded in the metadata: the value an accepting pcap expression returns. */
  snaplen?: number;
}

export interface WasmModule { wasm: Uint8Array; meta: ModuleMeta; wat(): string }

const I32 = binaryen.i32;

/** Programs above this many IR nodes get the light pass list instead of -O3. */
export const LARGE_PROGRAM_NODES = 6000;
const LIGHT_PASSES = ['precompute', 'simplify-locals', 'vacuum', 'remove-unused-brs', 'remove-unused-names',
  'merge-blocks', 'coalesce-locals', 'reorder-locals'];

/** IR nodes in a tree (iterative: trees from long filters are wide and may be deep). */
function irSize(root: unknown): number {
  let n = 0;
  const stack: unknown[] = [root];
  while (stack.length) {
    const x = stack.pop();
    if (Array.isArray(x)) { for (const y of x) stack.push(y); continue; }
    if (!x || typeof x !== 'object') continue;
    n++;
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
  const m = new binaryen.Module();
  try {
    m.setMemory(meta.pages, meta.pages, null, [], false, false, 'mem');
    m.addMemoryImport('mem', 'env', 'memory');
    program.externs.forEach((x, id) => {
      const params = binaryen.createType(new Array(1 + externArity(program, id)).fill(I32));
      m.addFunctionImport(externImportName(id), 'env', externImportName(id), params, I32);
    });
    const filter = new FilterEmitter(m, program, meta.stateOff);
    filter.emitFunction('filter');
    // SIMD only where a search needs it, so other modules load on engines without it.
    if (filter.searches.used) m.setFeatures(m.getFeatures() | binaryen.Features.SIMD128);
    addRun(m);
    m.addFunctionExport('run', 'run');
    if (!m.validate()) throw new Error('internal compiler error: binaryen rejected the generated module');
    if (opts.optimize !== false) {
      if (irSize(program.body) > LARGE_PROGRAM_NODES) {
        // binaryen's full pipeline grows faster than linearly with one huge function (a
        // 1,000-host filter: ~1.8 s at -O3); these local passes take ~70 ms and keep most of the gain.
        m.runPasses(LIGHT_PASSES);
      } else {
        binaryen.setOptimizeLevel(3);
        binaryen.setShrinkLevel(0);
        m.optimize();
      }
    }
    m.addCustomSection(CUSTOM_SECTION, new TextEncoder().encode(JSON.stringify(meta)));
    const wasm = m.emitBinary();
    const text = m.emitText();
    return { wasm, meta, wat: () => text };
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
 * run(start, end, out) -> count: one `filter` call per record, results stored at out[i]. Stops
 * before a record that is not whole inside [start, end) or whose caplen exceeds the limit in
 * CTRL_RECORD_LIMIT, and stores the offset where it stopped in CTRL_BATCH_STOP.
 */
function addRun(m: binaryen.Module): void {
  const START = 0, END = 1, OUT = 2, P = 3, N = 4, CAPLEN = 5, NEXT = 6, LIMIT = 7;
  const get = (i: number) => m.local.get(i, I32);
  const body = m.block(null, [
    m.local.set(P, get(START)),
    m.local.set(LIMIT, m.i32.load(CTRL_RECORD_LIMIT, 4, m.i32.const(0))),
    m.block('done', [m.loop('next', m.block(null, [
      // The header must be inside the batch (end - p >= 16, without wrapping), then the data.
      m.br('done', m.i32.lt_u(m.i32.sub(get(END), get(P)), m.i32.const(RECORD_HEADER_BYTES))),
      m.br('done', m.i32.gt_u(get(P), get(END))),
      m.local.set(CAPLEN, m.i32.load(8, 1, get(P))),
      m.br('done', m.i32.gt_u(get(CAPLEN), get(LIMIT))),
      m.local.set(NEXT, m.i32.add(m.i32.add(get(P), m.i32.const(RECORD_HEADER_BYTES)), get(CAPLEN))),
      m.br('done', m.i32.gt_u(get(NEXT), get(END))),
      m.i32.store(0, 4, m.i32.add(get(OUT), m.i32.shl(get(N), m.i32.const(2))),
        m.call('filter', [m.i32.add(get(P), m.i32.const(RECORD_HEADER_BYTES)), get(CAPLEN)], I32)),
      m.local.set(N, m.i32.add(get(N), m.i32.const(1))),
      m.local.set(P, get(NEXT)),
      m.br('next'),
    ]))]),
    m.i32.store(CTRL_BATCH_STOP, 4, m.i32.const(0), get(P)),
    m.i32.store(CTRL_PACKETS, 4, m.i32.const(0), m.i32.add(m.i32.load(CTRL_PACKETS, 4, m.i32.const(0)), get(N))),
    get(N),
  ], I32);
  m.addFunction('run', binaryen.createType([I32, I32, I32]), I32, [I32, I32, I32, I32, I32], body);
}
