/**
 * Module bytes for tests of loading: the `fplc` section of a module replaced by any JSON (any
 * length), and small hand-assembled modules of fplc's shape whose code does what a test needs
 * (loop forever, trap, run a start function).
 */
import { layout, type ModuleMeta } from '../../abi/index.js';

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const name = (s: string) => { const b = [...new TextEncoder().encode(s)]; return [...leb(b.length), ...b]; };
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];

/** The sections of a module: [id, body] in order. */
export function sections(wasm: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  let p = 8;
  while (p < wasm.length) {
    const id = wasm[p++]!;
    let size = 0, shift = 0, x;
    do { x = wasm[p++]!; size += (x & 0x7f) * 2 ** shift; shift += 7; } while (x & 0x80);
    out.push([id, wasm.subarray(p, p + size)]);
    p += size;
  }
  return out;
}

/** `wasm` with its `fplc` section's text replaced by `text` (a JSON value is stringified). */
export function replaceMeta(wasm: Uint8Array, meta: unknown): Uint8Array {
  const text = typeof meta === 'string' ? meta : JSON.stringify(meta);
  const out: number[] = [...wasm.subarray(0, 8)];
  for (const [id, body] of sections(wasm)) {
    const isMeta = id === 0 && new TextDecoder().decode(body.subarray(1, 1 + body[0]!)) === 'fplc';
    out.push(...section(id, isMeta ? [...name('fplc'), ...new TextEncoder().encode(text)] : [...body]));
  }
  return Uint8Array.from(out);
}

/** The metadata of an fplc module, as JSON. */
export function metaOf(wasm: Uint8Array): Record<string, unknown> {
  const s = WebAssembly.Module.customSections(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), 'fplc')[0]!;
  return JSON.parse(new TextDecoder().decode(s)) as Record<string, unknown>;
}

export const RUN_LOOPS = [0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x41, 0x00, 0x0b];   // loop br 0 end; i32.const 0
export const RUN_TRAPS = [0x00, 0x00, 0x0b];                                       // unreachable
export const RUN_PASSES = [0x00, 0x41, 0x00, 0x0b];                                // i32.const 0 (no packets run)

/**
 * A module of fplc's outline (env.memory of meta.pages, `run` export, `fplc` section) whose run
 * has `runBody`; `startLoops` adds a start function that loops forever.
 */
export function craftModule(runBody: number[], opts: { startLoops?: boolean; meta?: Partial<ModuleMeta>; extraExport?: string } = {}): Uint8Array {
  const meta = { ...layout({ linkType: 1, registers: 0, memoryCells: 4, fuel: 1 }), ...opts.meta };
  const types = section(1, vec([[0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f], [0x60, 0, 0]]));
  const imports = section(2, vec([[...name('env'), ...name('memory'), 2, 1, ...leb(meta.pages), ...leb(meta.pages)]]));
  const funcs = section(3, vec(opts.startLoops ? [[0], [1]] : [[0]]));
  const exps = [[...name('run'), 0, 0]];
  if (opts.extraExport) exps.push([...name(opts.extraExport), 0, 0]);
  const exports = section(7, vec(exps));
  const start = opts.startLoops ? section(8, [1]) : [];
  const bodies = [runBody];
  if (opts.startLoops) bodies.push([0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]);
  const code = section(10, vec(bodies.map((b) => [...leb(b.length), ...b])));
  const custom = section(0, [...name('fplc'), ...new TextEncoder().encode(JSON.stringify(meta))]);
  return Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...types, ...imports, ...funcs, ...exports, ...start, ...code, ...custom]);
}
