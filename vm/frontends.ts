/**
 * The front ends, by language: the one table that says which front end lowers which language
 * to IR, and what a program gets when its caller says nothing (link type, snaplen). Used by
 * lowerSource (compile.ts), the MAPI device and the MAPI externs (BPF_FILTER and FPL_FILTER
 * compile their argument through it).
 *
 * A front end's module is imported only when a program of its language is compiled (ohm-js
 * grammars cost start-up time): `load()` imports it and returns its lowering function. The
 * MAPI device, which compiles synchronously while a function is applied, takes the modules it
 * imports itself through `adapt`.
 */
import type { Diagnostic } from '../lang/diagnostics.js';
import type { Program } from '../lang/ir/ir.js';
import { DLT_EN10MB } from '../lang/ir/linktypes.js';
import type { ExternSignature } from '../lang/fpl/index.js';
import { MAX_CAPLEN } from '../abi/index.js';
import { externTable } from '../hostfns/registry.js';

export type Language = 'fpl' | 'pcap' | 'cbpf';

export const LANGUAGES: readonly Language[] = ['fpl', 'pcap', 'cbpf'];

/** What an accepting libpcap expression returns when no snaplen is given (tcpdump's default). */
export const DEFAULT_SNAPLEN = MAX_CAPLEN;
/** The link type a program is compiled for when none is given. */
export const DEFAULT_LINK_TYPE = DLT_EN10MB;

export interface LowerOptions {
  linkType: number;
  /** What an accepting pcap-filter expression returns (DEFAULT_SNAPLEN when absent). */
  snaplen?: number;
  file?: string;
  /** Set on the program when given (the front end's default otherwise). */
  memoryCells?: number;
  fuel?: number;
  /** The externs an FPL program may call. */
  externs?: readonly ExternSignature[];
  /** libpcap expressions: what the packets come from (netmask, file or live, the file's byte order). */
  pcap?: PcapCaptureOptions;
}

export interface PcapCaptureOptions {
  netmask?: number;
  capture?: 'file' | 'live';
  fileByteOrder?: 'little' | 'big';
}

export type Lower = (source: string, opts: LowerOptions) => { program: Program; warnings: Diagnostic[] };

type FplModule = typeof import('../lang/fpl/index.js');
type PcapModule = typeof import('../lang/pcapfilter/index.js');
type CbpfModule = typeof import('../lang/cbpf/index.js');

export interface FrontEnd<M = unknown> {
  readonly language: Language;
  /** Whether an accepting program returns the snaplen (libpcap's rule; the module's metadata records it). */
  readonly returnsSnaplen: boolean;
  /** Imports the front end. */
  readonly module: () => Promise<M>;
  /** The lowering function of a loaded front end. */
  readonly adapt: (m: M) => Lower;
}

const fileOf = (o: LowerOptions) => (o.file !== undefined ? { file: o.file } : {});
const sized = (o: LowerOptions) => ({
  ...(o.memoryCells !== undefined ? { memoryCells: o.memoryCells } : {}),
  ...(o.fuel !== undefined ? { fuel: o.fuel } : {}),
});

const fpl: FrontEnd<FplModule> = {
  language: 'fpl',
  returnsSnaplen: false,
  module: () => import('../lang/fpl/index.js'),
  adapt: (m) => (source, o) => m.compileFpl(source, { ...fileOf(o), linkType: o.linkType, ...sized(o), externs: o.externs ?? [] }),
};

const pcap: FrontEnd<PcapModule> = {
  language: 'pcap',
  returnsSnaplen: true,
  module: () => import('../lang/pcapfilter/index.js'),
  adapt: (m) => (source, o) => {
    const r = m.compilePcapFilter(source, { ...fileOf(o), linkType: o.linkType, snaplen: o.snaplen ?? DEFAULT_SNAPLEN, ...o.pcap });
    return { program: { ...r.program, ...sized(o) }, warnings: r.warnings };
  },
};

const cbpf: FrontEnd<CbpfModule> = {
  language: 'cbpf',
  returnsSnaplen: false,
  module: () => import('../lang/cbpf/index.js'),
  adapt: (m) => (source, o) => {
    const r = m.compileCbpf(source, { ...fileOf(o), linkType: o.linkType });
    return { program: { ...r.program, ...sized(o) }, warnings: r.warnings };
  },
};

export const FRONT_ENDS: { readonly fpl: FrontEnd<FplModule>; readonly pcap: FrontEnd<PcapModule>; readonly cbpf: FrontEnd<CbpfModule> } = { fpl, pcap, cbpf };

export function isLanguage(x: unknown): x is Language {
  return typeof x === 'string' && (LANGUAGES as readonly string[]).includes(x);
}

/** Imports a language's front end and returns its lowering function. */
export async function loadFrontEnd(language: Language): Promise<Lower> {
  const f = FRONT_ENDS[language] as FrontEnd<any>;
  return f.adapt(await f.module());
}

/**
 * The compilers MAPI functions use to inline a filter into a flow (BPF_FILTER: a pcap-filter
 * expression returning `snaplen` when it accepts; FPL_FILTER: FPL with the shipped externs).
 */
export interface FilterCompilers {
  compilePcap(expr: string, linkType: number): Program;
  compileFpl(source: string, linkType: number): Program;
}

export function filterCompilers(lowers: { pcap: Lower; fpl: Lower }, snaplen: number, pcap: PcapCaptureOptions = {}): FilterCompilers {
  return {
    compilePcap: (expr, linkType) => lowers.pcap(expr, { linkType, snaplen, pcap }).program,
    compileFpl: (source, linkType) => lowers.fpl(source, { linkType, externs: [...externTable().values()] }).program,
  };
}
