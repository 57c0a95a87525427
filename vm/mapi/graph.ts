/**
 * Running an FFPF flow graph (lang/chain) over a capture through the MAPI API, as
 * `fpl flow 'GRAPH' -r CAPTURE [--json]` does: one offline device for the capture, one flow
 * per path through the graph, one MAPI function per node; then each flow's functions' results.
 */
import { CompileError, makeDiagnostic } from '../../lang/diagnostics.js';
import { compileChain, type ChainGraph, type ChainStep } from '../../lang/chain/index.js';
import { Device, type Flow } from './api.js';
import { MapiError } from './constants.js';

export interface FlowFunctionResult {
  /** The class as written, and the MAPI function it maps to. */
  class: string;
  function: string;
  fid: number;
  /** The function's result: u64 results as a number when safe, else a decimal string; null for none. */
  result: number | string | null;
}

export interface FlowResult { flow: number; path: string; functions: FlowFunctionResult[] }

export interface FlowRun { packets: number; flows: FlowResult[]; error?: Error }

/** A result as JSON can carry it (bigint → number when exact, else a string; bytes → hex). */
function plain(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}

/** A MAPI error on a node, as a diagnostic at the node (or at the argument it names). */
function nodeError(source: string, file: string | undefined, step: ChainStep, e: MapiError): CompileError {
  const m = /argument (\d+)/.exec(e.message);
  const argIndex = m ? Number(m[1]) - 1 : -1;
  const span = (argIndex >= 0 && step.argSpans[argIndex] && step.argSpans[argIndex]!.len > 0) ? step.argSpans[argIndex]! : step.span;
  const hint = e.code === 6144 ? `${step.className} is neither a class (sampler, bpf, packetcount, bytecount, fpl, strsearch, hash, gap, pktinfo) nor a MAPI function name` : undefined;
  const d = makeDiagnostic(source, 'error', span.off, span.len, `${step.className}: ${e.message}`, {
    ...(file !== undefined ? { file } : {}), ...(hint ? { hint } : {}),
  });
  return new CompileError([d], source);
}

/**
 * Runs a flow graph over a capture file. Throws CompileError for graph errors (including MAPI
 * argument errors, placed at the node), MapiError when the capture cannot be opened.
 */
export async function runFlowGraph(source: string, capture: string, opts: { file?: string; seed?: number } = {}): Promise<FlowRun> {
  const graph: ChainGraph = compileChain(source, opts.file !== undefined ? { file: opts.file } : {});
  const device = await Device.offline(capture, opts.seed !== undefined ? { seed: opts.seed } : {});
  try {
    const flows: { flow: Flow; fids: number[] }[] = [];
    for (const f of graph.flows) {
      const flow = device.flow();
      const fids: number[] = [];
      for (const step of f.steps) {
        try {
          fids.push(flow.apply(step.fn, ...step.args));
        } catch (e) {
          if (e instanceof MapiError) throw nodeError(source, opts.file, step, e);
          throw e;
        }
      }
      flows.push({ flow, fids });
    }
    for (const { flow } of flows) await flow.connect();
    await device.start();
    await device.finished();
    const results = graph.flows.map((f, i): FlowResult => ({
      flow: i + 1,
      path: f.text,
      functions: f.steps.map((step, k) => {
        const fid = flows[i]!.fids[k]!;
        return { class: step.className, function: step.fn, fid, result: plain(flows[i]!.flow.read(fid)) };
      }),
    }));
    const error = device.error;
    return { packets: Number(device.packets), flows: results, ...(error ? { error } : {}) };
  } finally {
    device.delete();
  }
}

/** Text form: one block per flow, one line per function. */
export function formatFlowRun(run: FlowRun): string {
  const lines = [`${run.packets} packets read, ${run.flows.length} flow${run.flows.length === 1 ? '' : 's'}`];
  for (const f of run.flows) {
    lines.push(`flow ${f.flow}: ${f.path}`);
    for (const fn of f.functions) lines.push(`  ${fn.class} (${fn.function}, fid ${fn.fid}): ${fn.result === null ? '-' : String(fn.result)}`);
  }
  return lines.join('\n') + '\n';
}

/** JSON form: one object per flow, one line each. */
export function formatFlowRunJson(run: FlowRun): string {
  return run.flows.map((f) => JSON.stringify({ flow: f.flow, path: f.path, packets: run.packets,
    results: f.functions.map((fn) => ({ class: fn.class, function: fn.function, fid: fn.fid, result: fn.result })) })).join('\n') + '\n';
}
