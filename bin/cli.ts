/**
 * `fpl`: the command-line front of fplc, in tcpdump's spirit. Thin: it parses flags, picks
 * the language from the arguments, and calls the library.
 *
 * Exit codes: 0 ok, 1 program error (compile error, bad program), 2 usage, 3 bad capture.
 *
 * bin/fpl.js runs this file from the bundle `npm run build` makes of it (dist/cli/, see
 * scripts/bundle-cli.mjs): the ES imports below cost start-up only unbundled.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { CompileError, formatDiagnostic, type Diagnostic } from '../lang/diagnostics.js';
// Not ../index.js: the CLI loads only what it runs. Running a .wasm or a cached module loads
// neither the compiler (vm/compile.ts, imported where a command compiles) nor the MAPI layer.
import type { CompileOptions } from '../vm/compile.js';
import { loadFilter } from '../vm/load.js';
import { ModuleError } from '../vm/module-errors.js';
import { runFile, type RunFileResult } from '../vm/run-file.js';
import { compileFilterCached, defaultCacheDir } from '../vm/cache.js';
import { compileInChild } from '../vm/compile-process.js';
import { CaptureError } from '../drivers/types.js';
import { openCaptureFile } from '../drivers/capture.js';
import { linkTypeInfo, linkTypeName, resolveLinkType, supportedLinkTypes } from '../lang/ir/linktypes.js';
import { LinkTypeMismatchError } from '../vm/filter.js';

const compiler = () => import('../vm/compile.js');

export const EXIT = { ok: 0, program: 1, usage: 2, capture: 3 } as const;

class UsageError extends Error {}
/** A program file that is not a program (exit 1, as a compile error). */
class ProgramFileError extends Error {}

/** What to compile: a program file (.fpl or .wasm) or a libpcap expression. */
type Input =
  | { kind: 'fpl'; file: string; text: string }
  | { kind: 'wasm'; file: string; bytes: Uint8Array }
  | { kind: 'pcap'; text: string; file?: string }
  | { kind: 'cbpf'; text: string; file: string };

interface InputFlags { expression?: string[]; filterFile?: string[]; cbpf?: string }

/**
 * tcpdump-style input selection: `-e EXPR`, `-F FILE`, `--cbpf FILE`, or positionals — a first
 * positional naming a .fpl/.wasm file is a program, otherwise the positionals are an expression.
 */
function selectInput(positionals: string[], flags: InputFlags, allowTrailing: boolean): Input {
  // One program per run, as tcpdump takes one expression: a second -e or -F is refused, not
  // silently preferred (join expressions with `or` / `and` instead).
  if ((flags.expression?.length ?? 0) > 1) throw new UsageError('give -e once: one expression per run (join them with and/or: -e "tcp or udp")');
  if ((flags.filterFile?.length ?? 0) > 1) throw new UsageError('give -F once: one expression file per run');
  const expression = flags.expression?.[0];
  const filterFile = flags.filterFile?.[0];
  const given = [expression !== undefined, filterFile !== undefined, flags.cbpf !== undefined]
    .filter(Boolean).length;
  if (given > 1) throw new UsageError('give only one of -e EXPR, -F FILE and --cbpf FILE');
  if (expression !== undefined) {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} after -e`);
    return { kind: 'pcap', text: expression };
  }
  if (filterFile !== undefined) {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} after -F`);
    return { kind: 'pcap', text: readText(filterFile), file: filterFile };
  }
  if (flags.cbpf !== undefined) return { kind: 'cbpf', text: readText(flags.cbpf), file: flags.cbpf };
  const [first, ...rest] = positionals;
  if (first === undefined) throw new UsageError('no program: give PROGRAM.fpl, PROGRAM.wasm, -e EXPR or -F FILE');
  if (/\.wasm$/i.test(first)) {
    if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    return { kind: 'wasm', file: first, bytes: readBytes(first) };
  }
  if (/\.fpl$/i.test(first)) {
    if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    return { kind: 'fpl', file: first, text: readText(first) };
  }
  if (!allowTrailing) throw new UsageError(`${JSON.stringify(first)} is not a .fpl or .wasm file (use -e for an expression)`);
  return { kind: 'pcap', text: positionals.join(' ') };
}

function readText(file: string): string {
  return new TextDecoder().decode(readBytes(file));
}

function readBytes(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${fsReason(err)}`);
  }
}

/** A file system error as `no such file or directory (ENOENT)`, without Node's `ENOENT: …, open 'path'` wrapping. */
function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why = /^E\w+: ([^,]+)/.exec((err as Error)?.message ?? '')?.[1];
  return code ? (why ? `${why} (${code})` : code) : String(err);
}

interface CommonFlags extends InputFlags {
  linkType?: string; memoryCells?: string; fuel?: string; snaplen?: string; netmask?: string;
}

/** What a command learns from the capture's header. */
interface CaptureHeader { linkType: number; snaplen: number; bigEndian: boolean }

function compileOptions(input: Input, flags: CommonFlags, capture?: CaptureHeader): CompileOptions {
  const linkType = flags.linkType !== undefined ? resolveLinkTypeFlag(flags.linkType) : capture?.linkType;
  const opts: CompileOptions = { language: input.kind === 'wasm' ? 'fpl' : input.kind };
  if (linkType !== undefined) opts.linkType = linkType;
  if (input.kind !== 'wasm' && input.file) opts.file = input.file;
  const snaplen = flags.snaplen !== undefined ? intFlag('--snaplen', flags.snaplen) : capture?.snaplen;
  if (snaplen !== undefined && input.kind === 'pcap') opts.snaplen = snaplen;
  if (flags.memoryCells !== undefined) opts.memoryCells = intFlag('--memory-cells', flags.memoryCells);
  if (flags.fuel !== undefined) opts.fuel = intFlag('--fuel', flags.fuel);
  if (input.kind === 'pcap') {
    if (flags.netmask !== undefined) opts.netmask = netmaskFlag(flags.netmask);
    // DLT_NULL's AF word is in the file's byte order; said only when it is not the default.
    if (capture?.bigEndian) opts.fileByteOrder = 'big';
  } else if (flags.netmask !== undefined) {
    throw new UsageError('--netmask applies to libpcap expressions only');
  }
  return opts;
}

/** `--netmask 255.255.255.0`, `--netmask 24` or `--netmask 0xffffff00`. */
function netmaskFlag(v: string): number {
  const quad = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  if (quad) {
    const parts = quad.slice(1).map(Number);
    if (parts.every((p) => p <= 255)) return parts.reduce((a, p) => a * 256 + p, 0);
  } else if (/^\d{1,2}$/.test(v) && Number(v) <= 32) {
    return Number(v) === 0 ? 0 : (0xffffffff << (32 - Number(v))) >>> 0;
  } else if (/^0x[0-9a-f]{1,8}$/i.test(v)) {
    return Number(v);
  }
  throw new UsageError(`--netmask takes A.B.C.D, a prefix length 0-32 or 0xHEX, not ${JSON.stringify(v)}`);
}

function resolveLinkTypeFlag(v: string): number {
  try {
    return resolveLinkType(v);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A ratio with two significant digits at least: 0.27, 0.0018. */
function ratio(r: number): string {
  return r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);
}

function intFlag(name: string, v: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new UsageError(`${name} takes a non-negative integer, not ${JSON.stringify(v)}`);
  return Number(v);
}

function printWarnings(warnings: readonly Diagnostic[] | undefined, source: string): void {
  for (const w of warnings ?? []) process.stderr.write(formatDiagnostic(w, source) + '\n');
}

async function build(input: Input, flags: CommonFlags & { allowExtern?: string[] }, capture?: CaptureHeader, cached = false) {
  if (input.kind === 'wasm') return loadModule(input, flags.allowExtern ?? []);
  const opts = compileOptions(input, flags, capture);
  // Compiled in a child process, so that this one can exit without waiting for V8 to finish optimizing binaryen (compile-process.ts).
  const filter = cached ? await compileFilterCached(input.text, opts, defaultCacheDir(), compileInChild) : await compileInChild(input.text, opts);
  printWarnings(filter.warnings, input.text);
  return filter;
}

function report(res: RunFileResult, json: boolean): void {
  const codes = [...res.codes.entries()].sort((a, b) => a[0] - b[0]);
  if (json) {
    const obj = { packets: res.packets, matched: res.matched, codes: Object.fromEntries(codes.map(([k, v]) => [String(k), v])) };
    process.stdout.write(JSON.stringify(obj) + '\n');
    return;
  }
  process.stdout.write(`${res.packets} packets read, ${res.matched} matched\n`);
  for (const [code, n] of codes) process.stdout.write(`  code ${code}: ${n}\n`);
  if (res.fuelExhausted) process.stdout.write(`  ${res.fuelExhausted} packets ran out of loop fuel\n`);
}

function progress(): ((packets: number, matched: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const start = Date.now();
  let last = 0;
  return (packets, matched) => {
    const now = Date.now();
    if (now - start < 1000 || now - last < 250) return;
    last = now;
    process.stderr.write(`\r${packets} packets, ${matched} matched`);
  };
}

async function cmdRun(positionals: string[], flags: CommonFlags & { read?: string; write?: string; count?: string; json?: boolean; cache?: boolean; allowExtern?: string[] }) {
  if (!flags.read) throw new UsageError('fpl run needs -r CAPTURE');
  const input = selectInput(positionals, flags, true);
  const opts: Parameters<typeof runFile>[2] = {};
  if (flags.count !== undefined) {
    opts.count = intFlag('-c', flags.count);
    if (opts.count === 0) throw new UsageError('-c takes a positive packet count, not 0');
  }
  if (flags.write) opts.writeTo = flags.write;
  const capture = peekCapture(flags.read);
  const filter = await build(input, flags, capture, flags.cache !== false);
  const onProgress = progress();
  if (onProgress) opts.onProgress = onProgress;
  let res: RunFileResult;
  try {
    res = runFile(filter, flags.read, opts);
  } catch (err) {
    // runFile opens -w's file before it reads a packet: failing to is a usage error.
    if (flags.write && (err as NodeJS.ErrnoException).path === flags.write) throw new UsageError(`cannot write ${flags.write}: ${fsReason(err)}`);
    // A pcapng whose interfaces have different link types: -y cannot help, a program has one.
    if (err instanceof LinkTypeMismatchError && err.filterLinkType === capture.linkType) {
      if (onProgress) process.stderr.write('\r\x1b[K');
      throw new CaptureError(`${flags.read}: its interfaces have different link types (${linkTypeName(capture.linkType)} first, then ` +
        `${linkTypeName(err.captureLinkType)}); a program is compiled for one link type, so split the capture by interface first ` +
        `(e.g. tshark -r IN -Y 'frame.interface_id == 0' -w OUT)`);
    }
    throw err;
  }
  if (onProgress) process.stderr.write('\r\x1b[K');
  report(res, !!flags.json);
  if (res.error) {
    process.stderr.write(`fpl: ${flags.read}: ${res.error.message}\n`);
    return EXIT.capture;
  }
  return EXIT.ok;
}

/** Link type, snaplen and byte order from a capture's header (what the program is compiled for by default). */
function peekCapture(path: string): CaptureHeader {
  let src;
  try {
    // The header is all it reads: a small window, not the 1 MiB a run reads at a time.
    src = openCaptureFile(path, { chunkBytes: 64 * 1024 });
  } catch (err) {
    // A file that cannot be opened is a usage error (exit 2), as a missing program file is;
    // exit 3 is for a file that opens but is not a capture fplc can read.
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) throw new UsageError(`cannot read ${path}: ${fsReason(err)}`);
    throw err;
  }
  try {
    const { linkType, snaplen, bigEndian } = src.info;
    if (!linkTypeInfo(linkType)) throw new CaptureError(`${path}: its link type ${linkType} is not one fplc supports (${supportedLinkTypes()})`);
    return { linkType, snaplen, bigEndian };
  } finally {
    src.close();
  }
}

async function cmdCompile(positionals: string[], flags: CommonFlags & { output?: string }) {
  const input = selectInput(positionals, flags, true);
  if (input.kind === 'wasm') throw new UsageError(`${input.file} is already compiled`);
  const out = flags.output ?? (input.kind === 'fpl' ? input.file.replace(/\.fpl$/i, '.wasm') : undefined);
  if (!out) throw new UsageError('fpl compile needs -o OUT.wasm for an expression');
  const filter = await build(input, flags);
  writeFileSync(out, filter.wasm);
  return EXIT.ok;
}

async function cmdCheck(positionals: string[], flags: CommonFlags) {
  const input = selectInput(positionals, flags, true);
  if (input.kind === 'wasm') {
    await loadModule(input, []);
  } else {
    const { warnings } = await (await compiler()).lowerSource(input.text, compileOptions(input, flags));
    printWarnings(warnings, input.text);
  }
  process.stdout.write('ok\n');
  return EXIT.ok;
}

async function cmdDump(positionals: string[], flags: CommonFlags & { ir?: boolean; wat?: boolean; after?: string }) {
  const input = selectInput(positionals, flags, true);
  // The IR by default (a .wasm has no IR: its WebAssembly text).
  if (!flags.ir && !flags.wat) {
    if (input.kind === 'wasm') flags.wat = true;
    else flags.ir = true;
  }
  if (flags.after !== undefined && !flags.ir) throw new UsageError('--after needs --ir');
  if (flags.ir) {
    if (input.kind === 'wasm') throw new UsageError('--ir needs a source program, not a .wasm');
    const { FILTER_PIPELINE, runPipeline } = await import('../lang/ir/pipeline.js');
    const after = flags.after;
    if (after !== undefined && after !== 'all' && after !== 'lower' && !FILTER_PIPELINE.includes(after)) {
      throw new UsageError(`--after takes lower, a pass of the filter pipeline (${FILTER_PIPELINE.join(', ')}) or all, not ${JSON.stringify(after)}`);
    }
    const { program, warnings } = await (await compiler()).lowerSource(input.text, compileOptions(input, flags));
    printWarnings(warnings, input.text);
    const { printProgram } = await import('../lang/ir/print.js');
    if (after === undefined) {
      process.stdout.write(printProgram(program) + '\n');
    } else {
      // Each stage headed by `; after NAME`, the front end's output as `; after lower`.
      const stage = (name: string, p: typeof program) => {
        if (after === 'all' || after === name) process.stdout.write(`; after ${name}\n${printProgram(p)}\n`);
      };
      stage('lower', program);
      runPipeline(program, FILTER_PIPELINE, { onStage: stage });
    }
  }
  if (flags.wat) {
    const wasm = input.kind === 'wasm' ? input.bytes : (await build(input, flags)).wasm;
    // A .wasm from elsewhere is checked before binaryen parses it (our message, not binaryen's).
    if (input.kind === 'wasm') {
      const { checkModule } = await import('../vm/module-check.js');
      try { checkModule(wasm); } catch (err) { throw moduleFileError(input.file, err); }
    }
    const binaryen = (await import('binaryen')).default;
    const mod = binaryen.readBinary(wasm);
    process.stdout.write(mod.emitText());
    mod.dispose();
  }
  return EXIT.ok;
}

/** `fpl lower`: a program lowered to a kernel or card target (codegen/hw); cBPF for now. */
async function cmdLower(positionals: string[], flags: CommonFlags & { target?: string; format?: string; json?: boolean }) {
  const input = selectInput(positionals, flags, true);
  if (input.kind === 'wasm') throw new UsageError('fpl lower needs a source program, not a .wasm');
  const hw = await import('../codegen/hw/index.js');
  const target = hw.HW_TARGETS.find((t) => t.name === (flags.target ?? ''));
  if (!target) throw new UsageError(`fpl lower needs --target ${hw.HW_TARGETS.map((t) => t.name).join('|')}`);
  const format = flags.format ?? 'ddd';
  if (!hw.CBPF_FORMATS.includes(format as never)) throw new UsageError(`--format takes ${hw.CBPF_FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  const opts = compileOptions(input, flags);
  const { program, warnings } = await (await compiler()).lowerSource(input.text, opts);
  printWarnings(warnings, input.text);
  const r = hw.compileCbpfTarget(program);
  if (flags.json) {
    const base = { target: target.name, linkType: program.linkType };
    const body = r.ok
      ? { ...base, ok: true, instructions: r.stats.instructions, capacity: hw.CBPF_PROFILE.maxInstructions, trampolines: r.stats.trampolines,
        scratchCells: r.stats.scratchCells, decidedExactly: 1, residue: null, program: r.insns.map((i) => [i.code, i.jt, i.jf, i.k]) }
      : { ...base, ok: false, reason: r.reason, where: r.where, decidedExactly: 0, residue: 'the whole program' };
    process.stdout.write(JSON.stringify(body) + '\n');
    return r.ok ? EXIT.ok : EXIT.program;
  }
  if (!r.ok) {
    process.stderr.write(`fpl: cannot lower to ${target.name}: ${r.reason}${r.where ? `\n  at: ${r.where}` : ''}\n`);
    return EXIT.program;
  }
  if (format === 'text') {
    const source = program.source?.text !== undefined ? program.source.text.split('\n')[0] : input.file;
    process.stdout.write(`; ${target.name}: ${source ?? ''}\n; link type ${program.linkType}, ${r.stats.instructions} of ${hw.CBPF_PROFILE.maxInstructions} instructions, ` +
      `${r.stats.scratchCells} of ${hw.CBPF_PROFILE.scratchCells} scratch cells; decided whole in the kernel (no residue)\n`);
  }
  process.stdout.write(hw.formatCbpf(r.insns, format as 'ddd', r.notes));
  return EXIT.ok;
}

/** `fpl targets`: the lowering targets and their profiles. */
async function cmdTargets(_pos: string[], flags: { json?: boolean }) {
  const hw = await import('../codegen/hw/index.js');
  if (flags.json) {
    process.stdout.write(JSON.stringify(hw.HW_TARGETS.map((t) => ({ name: t.name, description: t.description, profiles: t.profiles }))) + '\n');
    return EXIT.ok;
  }
  for (const t of hw.HW_TARGETS) {
    process.stdout.write(`${t.name}\t${t.description}\n`);
    for (const p of t.profiles) process.stdout.write(`  profile ${p.name}: ${p.summary}\n`);
  }
  return EXIT.ok;
}

/** `fpl flow GRAPH -r CAPTURE`: an FFPF flow graph through the MAPI API (vm/mapi/graph.ts). */
async function cmdFlow(positionals: string[], flags: { read?: string; json?: boolean; graphFile?: string }) {
  if (!flags.read) throw new UsageError('fpl flow needs -r CAPTURE');
  let file: string | undefined;
  let text: string;
  if (flags.graphFile !== undefined || (positionals.length === 1 && /\.graph$/i.test(positionals[0]!))) {
    if (flags.graphFile !== undefined && positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} after -f`);
    file = flags.graphFile ?? positionals[0]!;
    text = readText(file);
  } else {
    if (!positionals.length) throw new UsageError('no graph: give \'(class, …) > (class, …)\' or GRAPH.graph');
    text = positionals.join(' ');
  }
  const { runFlowGraph, formatFlowRun, formatFlowRunJson } = await import('../vm/mapi/graph.js');
  const { MapiError } = await import('../vm/mapi/index.js');
  let run;
  try {
    run = await runFlowGraph(text, flags.read, file !== undefined ? { file } : {});
  } catch (err) {
    if (err instanceof MapiError && (err.code === 6155 || err.code === 3200)) {
      process.stderr.write(`fpl: ${err.message}\n`);
      return EXIT.capture;
    }
    throw err;
  }
  process.stdout.write(flags.json ? formatFlowRunJson(run) : formatFlowRun(run));
  if (run.error) {
    process.stderr.write(`fpl: ${flags.read}: ${run.error.message}\n`);
    return EXIT.capture;
  }
  return EXIT.ok;
}

async function cmdBench(_pos: string[], flags: { capture?: string; expression?: string[]; filterFile?: string[]; flows?: string; json?: boolean }) {
  const { benchExpressions, benchFlowCounts, benchFlows, preload, MAX_BENCH_BYTES } = await import('../vm/bench.js');
  const exprs = [...(flags.expression ?? [])];
  for (const file of flags.filterFile ?? []) exprs.push(...readText(file).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  if (!exprs.length && !flags.flows) throw new UsageError('fpl bench needs -e EXPR, -F FILE or --flows LIST');
  peekCapture(flags.capture!);   // a capture that is missing or not one fails here, with exit 3
  const out = (o: object, text: string) => process.stdout.write((flags.json ? JSON.stringify(o) : text) + '\n');
  const loaded = exprs.length ? preload(flags.capture!) : undefined;
  if (loaded?.rest) {
    const why = loaded.rest === 'size' ? `${MAX_BENCH_BYTES >> 20} MiB of records, all fpl bench holds in memory` : 'the capture changes link type after them';
    process.stderr.write(`fpl bench: ${flags.capture}: measuring its first ${loaded.packets} packets (${why})\n`);
  }
  for (const row of loaded ? await benchExpressions(loaded, exprs) : []) {
    const libName = row.libpcap_optimized === false ? 'libpcap unoptimized' : 'libpcap';
    const lib = row.libpcap_ns_per_pkt === null ? `libpcap n/a${row.libpcap_error ? ` (${row.libpcap_error})` : libpcapMissing()}` : `${libName} ${row.libpcap_ns_per_pkt.toFixed(1)} ns (fplc/libpcap ${ratio(row.ns_per_pkt / row.libpcap_ns_per_pkt)})`;
    const expr = row.expr.length > 100 ? `${row.expr.slice(0, 80)}… (${row.expr.length} characters)` : row.expr;
    out(row, `${row.ns_per_pkt.toFixed(1)} ns/packet (walking the records ${row.ns_per_pkt_records.toFixed(1)})  compile ${row.compile_ms.toFixed(0)} ms  ${lib}  over ${row.packets} packets: ${expr}`);
  }
  const flowCounts = (flags.flows ?? '').split(',').filter(Boolean).map((n) => intFlag('--flows', n.trim()));
  // A first device loads binaryen and the front end and lets the engine warm up: not per-packet cost.
  if (flowCounts.length) await benchFlows(flags.capture!, 1);
  for (const r of flowCounts.length ? await benchFlowCounts(flags.capture!, flowCounts) : []) {
    out({ flows: r.flows, ns_per_pkt: r.ns_per_pkt }, `${r.flows} flows: ${r.ns_per_pkt.toFixed(1)} ns/packet over ${r.packets} packets (set-up and compile ${r.compile_ms.toFixed(0)} ms)`);
  }
  if (loaded?.error) {
    process.stderr.write(`fpl: ${flags.capture}: ${loaded.error.message}; the figures are for the ${loaded.packets} packets before it\n`);
    return EXIT.capture;
  }
  return EXIT.ok;
}

/** Why `fpl bench` has no libpcap column, and how to get one. */
function libpcapMissing(): string {
  return ' (the libpcap addon is not built: install g++, make and libpcap-dev, then npm run build:native)';
}

/** A .wasm module that is not one, or not one fplc may load: the file named, the reason after it. */
async function loadModule(input: { file: string; bytes: Uint8Array }, allowExterns: string[]) {
  // FPLC_TIME_LIMIT_MS: the time limit of each call into a loaded module (vm/guard.ts's default otherwise).
  const limit = Number(process.env.FPLC_TIME_LIMIT_MS);
  try {
    return await loadFilter(input.bytes, { allowExterns, ...(limit > 0 ? { timeLimitMs: Math.ceil(limit) } : {}) });
  } catch (err) {
    throw moduleFileError(input.file, err);
  }
}

/** A module that could not be loaded or checked, as the CLI reports it: the file named, the reason after it. */
function moduleFileError(file: string, err: unknown): unknown {
  if (err instanceof WebAssembly.CompileError) return new ProgramFileError(`${file} is not a valid WebAssembly module (${err.message.replace(/^WebAssembly\.\w+\(\): /, '')})`);
  if (err instanceof ModuleError) return new ProgramFileError(`${file}: ${err.message}`);
  return err;
}

const collect = (v: string, acc: string[] | undefined) => [...(acc ?? []), v];

function programOptions(cmd: Command): Command {
  return cmd
    .option('-e, --expression <expr>', 'a libpcap filter expression (as tcpdump takes it; once)', collect)
    .option('-F, --filter-file <file>', 'read the libpcap filter expression from a file', collect)
    .option('--cbpf <file>', 'classic BPF: tcpdump -ddd/-dd output or a JSON [code,jt,jf,k] array')
    .option('-y, --link-type <type>', 'link type to compile for (DLT name or number); default: the capture\'s, else EN10MB')
    .option('--snaplen <n>', 'value a libpcap expression returns on a match (default: the capture\'s snaplen, else 262144)')
    .option('--memory-cells <n>', 'size of M[] in u32 cells, a power of two (default 1024)')
    .option('--fuel <n>', 'loop iterations allowed per packet (default 65536)')
    .option('--netmask <mask>', 'IPv4 netmask for `ip broadcast`: A.B.C.D, a prefix length or 0xHEX (default 0, as tcpdump -r)')
    .addHelpText('after', () => `
Link types for -y (name or DLT number): ${supportedLinkTypes()}.

Exit codes: 0 ok; 1 program error (compile error, invalid module); 2 usage (bad flags, a
program, expression or capture file that cannot be opened); 3 bad capture (not pcap/pcapng,
damaged, or a link type fplc does not support).`);
}

/** `fplc 0.1.0 (Node v20.20.2)`: the version in fplc's package.json (above bin/, or two levels above dist/bin/ and dist/cli/). */
function versionLine(): string {
  let version = 'unknown';
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'fplc' && pkg.version) { version = pkg.version; break; }
    } catch { /* not there */ }
  }
  return `fplc ${version} (Node ${process.version})`;
}

export function makeProgram(): Command {
  const program = new Command('fpl')
    .description('Compile and run packet programs (FPL, libpcap expressions, classic BPF) as WebAssembly')
    .version(versionLine(), '-V, --version', 'print fplc\'s version')
    .exitOverride()
    .showHelpAfterError('(fpl --help for usage)');
  const wrap = <T>(fn: (pos: string[], flags: T) => Promise<number>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      process.exitCode = await fn(cmd.args, cmd.opts() as T);
    };
  programOptions(program.command('run')
    .description('run PROGRAM.fpl, PROGRAM.wasm or an expression over a capture: fpl run -r f.pcap tcp port 80')
    .argument('[program-or-expression...]')
    .requiredOption('-r, --read <capture>', 'pcap or pcapng file to read')
    .option('-w, --write <out.pcap>', 'write the matched packets to a pcap file')
    .option('-c, --count <n>', 'stop after this many matched packets')
    .option('--json', 'print {"packets","matched","codes"} as JSON')
    .option('--no-cache', 'compile even if this program was compiled before (modules are cached in ~/.cache/fplc or $FPLC_CACHE_DIR)')
    .option('--allow-extern <name>', 'let a .wasm module call this effectful extern (TO_FILE, RES2FILE, …; repeatable): loaded modules get only pure externs otherwise',
      (v: string, acc: string[]) => [...acc, v], [] as string[]))
    .action(wrap(cmdRun));
  programOptions(program.command('compile')
    .description('compile ahead of time: fpl compile PROGRAM.fpl -o OUT.wasm')
    .argument('[program-or-expression...]')
    .option('-o, --output <out.wasm>', 'output file (default: PROGRAM.wasm)'))
    .action(wrap(cmdCompile));
  programOptions(program.command('check')
    .description('check a program or expression without running it')
    .argument('[program-or-expression...]'))
    .action(wrap(cmdCheck));
  program.command('bench')
    .description('cost per packet of expressions on a capture, beside libpcap: fpl bench --capture f.pcap -e "tcp port 80"')
    .requiredOption('--capture <file>', 'capture whose packets (up to 32 MiB of them) are preloaded in memory')
    .option('-e, --expression <expr>', 'a libpcap expression (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-F, --filter-file <file>', 'expressions from a file, one per line (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--flows <list>', 'the many-flows scenario: comma-separated flow counts, e.g. 1,100,10000')
    .option('--json', 'one JSON object per line: {"expr","packets","ns_per_pkt","ns_per_pkt_records","compile_ms","libpcap_ns_per_pkt"}, "libpcap_optimized":false when libpcap ran its program unoptimized (too long for its optimizer), and "libpcap_error" when libpcap could not compile the expression (libpcap_ns_per_pkt is then null)')
    .addHelpText('after', `
ns_per_pkt runs the packets through a precomputed index of record offsets, as libpcap's loop
is handed a precomputed pointer and length per packet: the like-for-like figure.
ns_per_pkt_records walks the pcap records in place, as fpl run filters a capture file; each
record's address depends on the previous record's length, so it is bound by memory latency.`)
    .action(wrap(cmdBench));
  programOptions(program.command('dump')
    .description('print the IR or the WebAssembly text of a program')
    .argument('[program-or-expression...]')
    .addOption(new Option('--ir', 'print the IR'))
    .addOption(new Option('--after <pass>', 'with --ir: the IR after this pass of the filter pipeline (lang/ir/pipeline.ts), or after each with all'))
    .addOption(new Option('--wat', 'print the WebAssembly text')))
    .action(wrap(cmdDump));
  programOptions(program.command('lower')
    .description('lower a program to a kernel target: fpl lower -e "tcp port 80" --target cbpf --format ddd')
    .argument('[program-or-expression...]')
    .option('--target <target>', 'target to lower to (fpl targets lists them): cbpf')
    .option('--format <format>', 'cbpf output: ddd (tcpdump -ddd, the default), json ([code,jt,jf,k] array) or text (a commented listing)')
    .option('--json', 'print a report as JSON: instructions used of the capacity, the program, or why it cannot be lowered'))
    .action(wrap(cmdLower));
  program.command('targets')
    .description('list the targets fpl lower knows, with their profiles')
    .option('--json', 'print them as JSON')
    .action(wrap(cmdTargets));
  program.command('flow')
    .description('run an FFPF flow graph through MAPI: fpl flow \'(BPF,"tcp port 80") > (packetcount)\' -r f.pcap')
    .argument('[graph...]', 'the graph, or a GRAPH.graph file')
    .option('-f, --graph-file <file>', 'read the graph from a file')
    .requiredOption('-r, --read <capture>', 'pcap or pcapng file to read')
    .option('--json', 'print one JSON object per flow: {"flow","path","packets","results"}')
    .action(wrap(cmdFlow));
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = makeProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = handleError(err);
  }
}

function handleError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message; help and version are not errors.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`fpl: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof CompileError) {
    for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d, err.source) + '\n');
    const n = err.diagnostics.filter((d) => d.severity === 'error').length;
    process.stderr.write(`${n} error${n === 1 ? '' : 's'}\n`);
    return EXIT.program;
  }
  if (err instanceof CaptureError) {
    process.stderr.write(`fpl: ${err.message}\n`);
    return EXIT.capture;
  }
  if (err instanceof ProgramFileError) {
    process.stderr.write(`fpl: ${err.message}\n`);
    return EXIT.program;
  }
  process.stderr.write(`fpl: ${(err as Error)?.message ?? String(err)}\n`);
  return EXIT.program;
}
