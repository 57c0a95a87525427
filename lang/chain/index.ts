/**
 * The FFPF flow-graph front end: graph source → the MAPI flows it stands for. Every path through
 * the graph (each choice in each `[a | b]` group) becomes one flow: its nodes, after the device,
 * in order, each mapped to a MAPI function and its arguments (classes.ts). A prefix shared by
 * several paths is applied once per flow (each flow has its own instances, so deterministic
 * functions see the same packets and give the same results in every flow that shares them).
 *
 * Building the flows through the MAPI API is the caller's (lang/ knows nothing of vm/).
 */
import { CompileError, makeDiagnostic, type Diagnostic } from '../diagnostics.js';
import type { ChainArg, ChainNode, ChainPath, Span } from './ast.js';
import { CHAIN_CLASS_NAMES, CHAIN_CONSTANTS, chainClass, type ChainParam } from './classes.js';
import { parseChain } from './parse.js';

export type { Span } from './ast.js';
export { CHAIN_CLASS_NAMES, chainClass } from './classes.js';

/** One MAPI function of a flow, and where it was written. */
export interface ChainStep {
  className: string;
  /** The MAPI function name. */
  fn: string;
  args: (string | number)[];
  /** The node `(class, …)`. */
  span: Span;
  /** Each argument written (empty ones too), for messages about one argument. */
  argSpans: Span[];
}

export interface ChainFlow {
  steps: ChainStep[];
  /** The path as written, nodes joined by the graph's connector. */
  text: string;
}

export interface ChainGraph {
  /** The `(device, name)` node the graph starts with, if any. */
  device?: { name?: string; span: Span };
  flows: ChainFlow[];
}

export interface ChainOptions { file?: string }

const MAX_SOURCE_LENGTH = 64 * 1024;
const MAX_NESTING = 64;
/** A graph stands for at most this many flows (groups multiply). */
export const MAX_FLOWS = 256;

/** Parses a flow graph and maps each path to a flow (throws CompileError). */
export function compileChain(source: string, opts: ChainOptions = {}): ChainGraph {
  if (typeof source !== 'string') throw new TypeError('source must be a string');
  const extra = opts.file !== undefined ? { file: opts.file } : {};
  const fail = (off: number, len: number, message: string, more: { expected?: string[]; hint?: string } = {}): never => {
    throw new CompileError([makeDiagnostic(source, 'error', off, len, message, { ...extra, ...more })], source);
  };
  if (source.length > MAX_SOURCE_LENGTH) fail(MAX_SOURCE_LENGTH, 1, `the graph is ${source.length} characters long; the limit is ${MAX_SOURCE_LENGTH}`);
  const deep = tooDeep(source);
  if (deep !== undefined) fail(deep, 1, `groups nested deeper than ${MAX_NESTING} levels are not supported`);
  const parsed = parseChain(source, opts.file);
  if (!parsed.ok) throw new CompileError([parsed.error], source);

  const connectors = allConnectors(parsed.graph);
  const arrow = connectors[0]?.text === '->';
  const mixed = connectors.find((c) => c.text !== connectors[0]!.text);
  if (mixed) {
    fail(mixed.span.off, mixed.span.len, `this graph uses "${connectors[0]!.text}" between nodes; "${mixed.text}" here mixes the two forms`,
      { expected: [`"${connectors[0]!.text}"`] });
  }

  const paths = expand(parsed.graph, (span) => fail(span.off, span.len, `the graph has more than ${MAX_FLOWS} paths (each choice in a [a | b] group multiplies them)`));
  let device: ChainGraph['device'];
  const flows = paths.map((nodes): ChainFlow => {
    const steps: ChainStep[] = [];
    nodes.forEach((node, i) => {
      if (node.className.toLowerCase() === 'device') {
        if (i !== 0) fail(node.span.off, node.span.len, 'a (device, …) node may only start the graph');
        const d = deviceOf(node, fail);
        if (device && device.name !== d.name) {
          fail(node.span.off, node.span.len, `this path reads device ${JSON.stringify(d.name ?? '')} but another reads ${JSON.stringify(device.name ?? '')}; a graph reads one device`);
        }
        device ??= d;
        return;
      }
      steps.push(stepOf(node, arrow, fail));
    });
    if (steps.length === 0) {
      const last = nodes[nodes.length - 1]!;
      fail(last.span.off, last.span.len, 'this path has no function after the device', { expected: ['"> (class, …)"'] });
    }
    const joiner = arrow ? ' -> ' : ' > ';
    return { steps, text: nodes.map((n) => source.slice(n.span.off, n.span.off + n.span.len)).join(joiner) };
  });
  return { ...(device ? { device } : {}), flows };
}

type Fail = (off: number, len: number, message: string, more?: { expected?: string[]; hint?: string }) => never;

function tooDeep(source: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '"' || ch === "'") { const end = source.indexOf(ch, i + 1); i = end < 0 ? source.length : end; continue; }
    if (ch === '[') { if (++depth > MAX_NESTING) return i; } else if (ch === ']') depth = Math.max(0, depth - 1);
  }
  return undefined;
}

function allConnectors(path: ChainPath): ChainPath['connectors'] {
  const out = [...path.connectors];
  for (const e of path.elements) if (e.k === 'group') for (const p of e.paths) out.push(...allConnectors(p));
  return out.sort((a, b) => a.span.off - b.span.off);
}

/** Every path through the graph, as its sequence of nodes. */
function expand(path: ChainPath, tooMany: (span: Span) => never): ChainNode[][] {
  let acc: ChainNode[][] = [[]];
  for (const e of path.elements) {
    const options = e.k === 'node' ? [[e.node]] : e.paths.flatMap((p) => expand(p, tooMany));
    if (acc.length * options.length > MAX_FLOWS) tooMany(e.k === 'node' ? e.node.span : e.span);
    acc = acc.flatMap((prefix) => options.map((o) => [...prefix, ...o]));
  }
  return acc;
}

function deviceOf(node: ChainNode, fail: Fail): { name?: string; span: Span } {
  if (node.args.length > 2) fail(node.args[2]!.span.off, Math.max(1, node.args[2]!.span.len), '(device, name) takes one argument');
  const v = node.args[0]?.value;
  return v === undefined ? { span: node.span } : { name: String(v.value), span: node.span };
}

function stepOf(node: ChainNode, arrow: boolean, fail: Fail): ChainStep {
  let written: ChainArg[] = node.args;
  if (arrow) {
    // The FFPF arrow form is (class, argument, size): the size of the result memory FFPF
    // allocated; fplc sizes results itself, so it is checked and ignored.
    if (written.length > 2) fail(written[2]!.span.off, Math.max(1, written[2]!.span.len), `(class, argument, size) nodes take at most two fields after the class`);
    const size = written[1];
    if (size?.value && size.value.kind !== 'number') fail(size.span.off, size.span.len, 'the size field must be a number of bytes', { expected: ['a number'] });
    written = written.slice(0, 1);
    if (written[0] && !written[0].value) written = [];
  }
  const cls = chainClass(node.className);
  if (!cls) {
    // Not a class: a MAPI function name, arguments as written.
    const empty = written.find((a) => !a.value);
    if (empty) fail(empty.span.off, 1, `an empty argument needs a class with defaults; ${node.className} is not one of ${CHAIN_CLASS_NAMES.join(', ')}`);
    return {
      className: node.className, fn: node.className, span: node.span, argSpans: written.map((a) => a.span),
      args: written.map((a) => a.value!.value),
    };
  }
  const params = cls.params;
  const values: (ChainArg | undefined)[] = new Array(params.length).fill(undefined);
  let next = 0;
  for (const a of written) {
    let slot: number;
    if (a.name !== undefined && a.name !== 'expr') {
      slot = params.findIndex((p) => p.name === a.name);
      if (slot < 0) {
        fail(a.span.off, a.name.length, `${node.className} has no argument named ${a.name}`,
          { expected: ['expr', ...params.map((p) => p.name)] });
      }
    } else {
      slot = next;
    }
    if (slot >= params.length) {
      fail(a.span.off, Math.max(1, a.span.len), `${node.className} takes ${params.length === 0 ? 'no arguments' : `at most ${params.length} (${params.map((p) => p.name).join(', ')})`}`);
    }
    if (a.value) values[slot] = a;
    next = slot + 1;
  }
  const args = params.map((p, i) => argValue(node, p, values[i], fail));
  return { className: node.className, fn: cls.fn, args, span: node.span, argSpans: values.map((v) => v?.span ?? node.span) };
}

function argValue(node: ChainNode, p: ChainParam, a: ChainArg | undefined, fail: Fail): string | number {
  if (!a?.value) {
    if (p.default !== undefined) return p.default;
    const at = a ? a.span : { off: node.span.off + node.span.len - 1, len: 1 };
    return fail(at.off, Math.max(1, at.len), `${node.className} needs its ${p.name} argument`, { expected: [p.kind === 'int' ? 'an integer' : 'a string'] });
  }
  const v = a.value;
  if (p.kind === 'string') return v.kind === 'number' ? String(v.value) : v.value;
  if (v.kind === 'number') return v.value;
  const constant = CHAIN_CONSTANTS[v.value];
  if (v.kind === 'word' && constant !== undefined) return constant;
  return fail(v.span.off, v.span.len, `the ${p.name} argument of ${node.className} must be an integer, not ${JSON.stringify(v.value)}`,
    { expected: ['an integer', ...Object.keys(CHAIN_CONSTANTS)] });
}

export type { Diagnostic };
