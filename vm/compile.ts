/**
 * Source → IR → WebAssembly → a loaded filter: checks the API's options, lowers through the
 * language's front end (the table in frontends.ts), runs the filter pipeline and hands the IR
 * to the backend. Front ends (ohm-js) and binaryen are imported only when compiling; loading a
 * `.wasm` goes through load.ts and never pays for them (nor for the IR passes).
 */
import type { Diagnostic } from '../lang/diagnostics.js';
import type { Program } from '../lang/ir/ir.js';
import { DEFAULT_FUEL, DEFAULT_MEMORY_CELLS } from '../lang/ir/ir.js';
import { resolveLinkType } from '../lang/ir/linktypes.js';
import { validateProgram } from '../lang/ir/validate.js';
import { FILTER_PIPELINE, runPipeline } from '../lang/ir/pipeline.js';
import { externTable } from '../hostfns/registry.js';
import type { ExternSignature } from '../lang/fpl/index.js';
import { FRONT_ENDS, filterCompilers, isLanguage, loadFrontEnd, type Language } from './frontends.js';
import { DEFAULT_BATCH_BYTES, MAX_CAPLEN, PAGE_BYTES, type ExternImpl } from '../abi/index.js';
import { CompiledFilter } from './filter.js';
import { loadCompiled, loadFilter } from './load.js';

export { loadFilter };

export type { Language };

export interface CompileOptions {
  /** Source language (default 'fpl'). */
  language?: Language;
  /** DLT number or name the program is compiled for (default EN10MB). */
  linkType?: number | string;
  /** What an accepting libpcap expression returns (libpcap returns the snaplen; default 262144). */
  snaplen?: number;
  /**
   * libpcap expressions: IPv4 netmask for `ip broadcast` (default 0, as tcpdump reading a file;
   * 0xffffffff means unknown and refuses `ip broadcast`, as libpcap).
   */
  netmask?: number;
  /**
   * libpcap expressions: compile for a savefile ('file', default, as `tcpdump -r`) or a live
   * capture ('live'); this changes what `ip6` tests on NULL and LOOP links (see docs/pcap-filter.md).
   */
  capture?: 'file' | 'live';
  /** libpcap expressions on NULL links: the capture file's byte order (default 'little'). */
  fileByteOrder?: 'little' | 'big';
  /** Size of M[] in u32 cells, a power of two (default 1024). */
  memoryCells?: number;
  /** Loop iterations allowed per packet (default 65536). */
  fuel?: number;
  /** File name for diagnostics. */
  file?: string;
  /** Externs the application provides, in addition to the shipped ones. */
  externs?: readonly ExternImpl[];
  /** Policy: the only extern names a program may call (default: every known extern). */
  allowExterns?: readonly string[];
  /** binaryen optimization (default true). */
  optimize?: boolean;
  /**
   * Size in bytes of the module's packet batch area, a multiple of 64 KiB (default 4 MiB): the
   * most record bytes one WebAssembly call sees. The module's memory grows with it (×1.5 for
   * the result and index areas).
   */
  batchBytes?: number;
}

/** Largest batch area a module may have: with its result and index areas, 1.5 GiB of memory. */
export const MAX_BATCH_BYTES = 1 << 30;

const MAX_MEMORY_CELLS = 1 << 24;

/** Checks the options an API caller gave; errors name the option. */
function checkOptions(opts: CompileOptions): { linkType: number; memoryCells: number; fuel: number; snaplen: number } {
  const language = opts.language ?? 'fpl';
  if (!isLanguage(language)) {
    throw new RangeError(`language must be 'fpl', 'pcap' or 'cbpf', not ${JSON.stringify(language)}`);
  }
  let linkType: number;
  try {
    linkType = resolveLinkType(opts.linkType);
  } catch (e) {
    throw new RangeError(`linkType: ${(e as Error).message}`);
  }
  const memoryCells = opts.memoryCells ?? DEFAULT_MEMORY_CELLS;
  if (!Number.isInteger(memoryCells) || memoryCells < 1 || memoryCells > MAX_MEMORY_CELLS || (memoryCells & (memoryCells - 1)) !== 0) {
    throw new RangeError(`memoryCells must be a power of two from 1 to ${MAX_MEMORY_CELLS}, not ${memoryCells}`);
  }
  const fuel = opts.fuel ?? DEFAULT_FUEL;
  if (!Number.isInteger(fuel) || fuel < 0 || fuel > 0xffffffff) throw new RangeError(`fuel must be an integer in [0, 2^32), not ${fuel}`);
  // tcpdump's rule: a snaplen of 0 means the default.
  const snaplen = opts.snaplen === undefined || opts.snaplen === 0 ? MAX_CAPLEN : opts.snaplen;
  if (!Number.isInteger(snaplen) || snaplen < 0 || snaplen > 0xffffffff) throw new RangeError(`snaplen must be an integer in [0, 2^32), not ${opts.snaplen}`);
  const batchBytes = opts.batchBytes ?? DEFAULT_BATCH_BYTES;
  if (!Number.isInteger(batchBytes) || batchBytes < PAGE_BYTES || batchBytes > MAX_BATCH_BYTES || batchBytes % PAGE_BYTES !== 0) {
    throw new RangeError(`batchBytes must be a multiple of ${PAGE_BYTES} from ${PAGE_BYTES} to ${MAX_BATCH_BYTES}, not ${opts.batchBytes}`);
  }
  return { linkType, memoryCells, fuel, snaplen };
}

/** Runs the front end only: the IR and the warnings (throws CompileError with every error found). */
export async function lowerSource(source: string, opts: CompileOptions = {}): Promise<{ program: Program; warnings: Diagnostic[] }> {
  if (typeof source !== 'string') throw new TypeError('source must be a string');
  const { linkType, memoryCells, fuel, snaplen } = checkOptions(opts);
  const file = opts.file !== undefined ? { file: opts.file } : {};
  const language = opts.language ?? 'fpl';
  if (language !== 'fpl') return (await loadFrontEnd(language))(source, { ...file, linkType, snaplen, memoryCells, fuel, pcap: pcapCaptureOptions(opts) });
  const table = externTable(opts.externs);
  const allowed = opts.allowExterns ? new Set(opts.allowExterns) : undefined;
  const externs = [...table.values()].filter((x) => !allowed || allowed.has(x.name));
  const fpl = await FRONT_ENDS.fpl.module();
  const parsed = fpl.parseFplSource(source, file);
  const lowerFpl = (sigs: readonly ExternSignature[]) => fpl.lowerParsedFpl(parsed, { ...file, linkType, memoryCells, fuel, externs: sigs });
  // MAPI functions are externs too (vm/mapi/externs.ts) for a program that calls a name the
  // shipped and the application's externs do not have: checked by MAPI, then replaced by their IR.
  const usable = new Set(externs.map((x) => x.name));
  if (parsed.externNames.every((name) => usable.has(name))) return lowerFpl(externs);
  const mapi = await import('./mapi/externs.js');
  const compilers = filterCompilers({ fpl: FRONT_ENDS.fpl.adapt(fpl), pcap: await loadFrontEnd('pcap') }, snaplen);
  const signatures = mapi.mapiExternSignatures(linkType, compilers, new Set(table.keys()), allowed);
  const r = lowerFpl([...externs, ...signatures]);
  return { program: mapi.lowerMapiExterns(r.program, new Set(signatures.map((x) => x.name)), compilers), warnings: r.warnings };
}

/** The options that say what a libpcap expression runs on (checked by the front end). */
function pcapCaptureOptions(opts: CompileOptions): { netmask?: number; capture?: 'file' | 'live'; fileByteOrder?: 'little' | 'big' } {
  return {
    ...(opts.netmask !== undefined ? { netmask: opts.netmask } : {}),
    ...(opts.capture !== undefined ? { capture: opts.capture } : {}),
    ...(opts.fileByteOrder !== undefined ? { fileByteOrder: opts.fileByteOrder } : {}),
  };
}

/** Compiles IR to a loaded filter. */
export async function compileProgram(program: Program, opts: { snaplen?: number; externs?: readonly ExternImpl[];
  optimize?: boolean; warnings?: Diagnostic[]; batchBytes?: number } = {}): Promise<CompiledFilter> {
  const problems = validateProgram(program);
  if (problems.length) throw new RangeError(`invalid IR program: ${problems.slice(0, 5).join('; ')}`);
  const { compileWasm } = await import('../codegen/wasm/index.js');
  // The filter pipeline's IR passes (lang/ir/pipeline.ts), then the backend.
  const mod = compileWasm(runPipeline(program, FILTER_PIPELINE), {
    ...(opts.optimize !== undefined ? { optimize: opts.optimize } : {}),
    ...(opts.snaplen !== undefined ? { snaplen: opts.snaplen } : {}),
    ...(opts.batchBytes !== undefined ? { batchBytes: opts.batchBytes } : {}),
  });
  return loadCompiled(mod.wasm, opts.externs ?? [], opts.warnings ?? []);
}

/** Source → loaded filter. */
export async function compileFilter(source: string, opts: CompileOptions = {}): Promise<CompiledFilter> {
  const { program, warnings } = await lowerSource(source, opts);
  return compileProgram(program, {
    warnings,
    ...(FRONT_ENDS[opts.language ?? 'fpl']?.returnsSnaplen ? { snaplen: checkOptions(opts).snaplen } : {}),
    ...(opts.externs ? { externs: opts.externs } : {}),
    ...(opts.optimize !== undefined ? { optimize: opts.optimize } : {}),
    ...(opts.batchBytes !== undefined ? { batchBytes: opts.batchBytes } : {}),
  });
}
