/**
 * The entry points of a module, wrapped once per module (a closure call per batch, nothing per
 * packet): a trap becomes a ModuleTrapError naming the entry point and the packet, and, for a
 * module loaded from outside this process, every call runs under a time limit.
 *
 * The limit is node:vm's: a script run with `timeout` is stopped by V8 from a watchdog thread,
 * which interrupts WebAssembly loops too (V8 checks for interrupts at every loop back edge).
 * The watchdog is a thread per call, ~0.1-0.5 ms: paid per batch of up to 4 MiB of packets,
 * and only by foreign modules. Modules compiled in this process are fuel-bounded and run
 * unguarded; a foreign module has no start function (vm/module-check.ts), so nothing of it
 * runs before these entry points.
 */
import type { Context, Script } from 'node:vm';
import { CTRL_BATCH_STOP, CTRL_PACKETS, RECORD_HEADER_BYTES, recordCaplenAt } from '../abi/index.js';
import { ModuleAbiError, ModuleTimeoutError, ModuleTrapError } from './module-errors.js';

/** Per call of an entry point of a foreign module, unless the caller sets another. */
export const DEFAULT_TIME_LIMIT_MS = 10_000;

type Fn = (a?: number, b?: number, c?: number, d?: number, e?: number) => number;
/** Calls fn with up to five arguments (the entry points take 2 to 5): fixed arity, no array per call. */
type Caller = (fn: Fn, a?: number, b?: number, c?: number, d?: number, e?: number) => number;

export interface GuardOptions {
  /** Stop a call after this long (foreign modules); undefined: no limit. */
  timeLimitMs?: number | undefined;
  /** Whether calling the module again changes nothing outside its memory (no externs): a trap is then located by replaying the batch packet by packet. */
  replayable: boolean;
  /** node:vm, loaded by the caller when a limit is set (the CLI's compiled modules do not load it). */
  vm?: typeof import('node:vm');
}

export function guardEntries(exports: WebAssembly.Exports, memory: WebAssembly.Memory, opts: GuardOptions): WebAssembly.Exports {
  const words = new Uint32Array(memory.buffer);
  const bytes = new Uint8Array(memory.buffer);
  const call: Caller = opts.timeLimitMs !== undefined && opts.vm ? limitedCaller(opts.vm, opts.timeLimitMs) : (fn, a, b, c, d, e) => fn(a, b, c, d, e);
  const out: Record<string, unknown> = {};
  for (const [entry, fn] of Object.entries(exports)) {
    if (typeof fn !== 'function') continue;
    out[entry] = (a?: number, b?: number, c?: number, d?: number, e?: number): number => {
      const before = words[CTRL_PACKETS / 4]!;
      let n: number;
      try {
        n = call(fn as Fn, a, b, c, d, e);
      } catch (err) {
        const args = [a ?? 0, b ?? 0, c ?? 0, d ?? 0, e ?? 0];
        const where = entry === 'run' ? batchWhere(args, before, bytes) : entry === 'run_index' ? `(a batch of ${args[3]} indexed packets after packet ${before})` : '';
        if (isTimeout(err)) throw new ModuleTimeoutError(entry, opts.timeLimitMs!, where);
        if (!(err instanceof WebAssembly.RuntimeError)) throw err;
        const packet = entry === 'run' && opts.replayable ? replay(fn as Fn, call, args, bytes, before) : undefined;
        throw new ModuleTrapError(entry, packet, packet !== undefined ? `on packet ${packet}` : where, err.message);
      }
      const broken = abiBreach(entry, n, words[CTRL_BATCH_STOP / 4]!, a ?? 0, b ?? 0, c ?? 0, d ?? 0);
      if (broken) throw new ModuleAbiError(entry, broken);
      return n;
    };
  }
  return out as WebAssembly.Exports;
}

/**
 * What the runtime would trust wrongly in an entry point's answer (vm/abi.ts): run's count is at
 * most one per record header that fits [start, end) and its stop lies in that range; run_index's
 * count is at most `count` and its stop is index + 4n; tally counts at most its n results.
 */
function abiBreach(entry: string, n: number, stop: number, a: number, b: number, c: number, d: number): string | undefined {
  if (!Number.isInteger(n) || n < 0) return `it returned ${n}`;
  if (entry === 'run') {
    if (n > (b - a) / RECORD_HEADER_BYTES) return `${n} results for ${b - a} bytes of records`;
    if (stop < a || stop > b) return `it stopped at ${stop}, outside the batch [${a}, ${b})`;
  } else if (entry === 'run_index') {
    if (n > d) return `${n} results for ${d} index entries`;
    if (stop !== c + 4 * n) return `it stopped at ${stop}, not after its ${n}th entry`;
  } else if (entry === 'tally' && n > b) {
    return `${n} matches among ${b} results`;
  }
  return undefined;
}

function isTimeout(err: unknown): boolean {
  return (err as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/** A caller that runs fn(args) under node:vm's timeout (one script and context per module). */
function limitedCaller(vm: typeof import('node:vm'), ms: number): Caller {
  const context: Context = vm.createContext({ fn: undefined, a: 0, b: 0, c: 0, d: 0, e: 0, result: 0 });
  const script: Script = new vm.Script('result = fn(a, b, c, d, e)');
  return (fn, a, b, c, d, e) => {
    context.fn = fn;
    context.a = a; context.b = b; context.c = c; context.d = d; context.e = e;
    script.runInContext(context, { timeout: ms, breakOnSigint: false });
    return context.result as number;
  };
}

/** The records of run(start, end, out): their offsets, walking the headers inside [start, end). */
function recordsOf(args: number[], bytes: Uint8Array): number[] {
  const [start = 0, end = 0] = args;
  const offsets: number[] = [];
  for (let off = start >>> 0; off + RECORD_HEADER_BYTES <= (end >>> 0) && off + RECORD_HEADER_BYTES <= bytes.length;) {
    offsets.push(off);
    off += RECORD_HEADER_BYTES + recordCaplenAt(bytes, off);
  }
  return offsets;
}

function batchWhere(args: number[], before: number, bytes: Uint8Array): string {
  const n = recordsOf(args, bytes).length;
  return n <= 1 ? `on packet ${before + 1}` : `on one of packets ${before + 1}-${before + n}`;
}

/** The 1-based number of the first packet of the batch that traps alone, or undefined. */
function replay(fn: Fn, call: Caller, args: number[], bytes: Uint8Array, before: number): number | undefined {
  const offsets = recordsOf(args, bytes);
  const [, end = 0, out = 0] = args;
  for (let i = 0; i < offsets.length; i++) {
    try {
      call(fn, offsets[i]!, i + 1 < offsets.length ? offsets[i + 1]! : end, out);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) return before + i + 1;
      return undefined;
    }
  }
  return undefined;
}
