/**
 * libpcap itself, through the native addon in native/ (built by `npm run build:native`): its
 * filter compiler (pcap_open_dead + pcap_compile) and its userland interpreter (bpf_filter,
 * with pcap_offline_filter's argument order). It is the oracle that fplc's pcap-expression and
 * classic-BPF front ends are tested against, and the baseline of the benchmarks.
 *
 * The addon is optional: when it is not built, `libpcapAvailable()` is false and the other
 * functions throw an Error that says why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One classic BPF instruction: opcode, jump-if-true, jump-if-false, constant. */
export type BpfInsn = [number, number, number, number];

export interface PcapCompileOptions {
  /** LINKTYPE_ number as in capture files (fplc's link types), e.g. 1 Ethernet, 101 raw IP. */
  linkType: number;
  /** Default 262144, tcpdump's default snapshot length (what accepting filters return). */
  snaplen?: number;
  optimize: boolean;
  /** IPv4 netmask for `ip broadcast`; default PCAP_NETMASK_UNKNOWN (0xffffffff). */
  netmask?: number;
}

export type PcapCompileResult = { ok: true; insns: BpfInsn[] } | { ok: false; error: string };

interface Addon {
  compile(expr: string, linkType: number, snaplen: number, optimize: boolean, netmask: number):
    { ok: true; insns: Uint32Array } | { ok: false; error: string };
  filterRecords(insns: Uint32Array, records: Uint8Array, count?: number): Uint32Array;
  bench(insns: Uint32Array, records: Uint8Array, count: number | undefined, rounds: number): number;
  version(): string;
  linuxCheck(insns: Uint32Array): number;
}

const ADDON_FILE = 'native/build/Release/fplc_libpcap.node';
export const DEFAULT_SNAPLEN = 262144;
export const PCAP_NETMASK_UNKNOWN = 0xffffffff;

/**
 * LINKTYPE_ values (capture files) whose DLT_ value (what pcap_open_dead takes) differs on
 * Linux; libpcap's savefile reader applies the same mapping (linktype_to_dlt).
 */
const LINKTYPE_TO_DLT: Record<number, number> = { 100: 11, 101: 12, 106: 19 };

let addon: Addon | undefined;
let unavailable: string | undefined;

/** The addon sits at <project>/native/…; this file runs from <project>/drivers, <project>/dist/drivers or the CLI's bundle <project>/dist/cli. */
function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [resolve(here, '..', ADDON_FILE), resolve(here, '..', '..', ADDON_FILE)];
}

function load(): Addon | undefined {
  if (addon || unavailable) return addon;
  const candidates = addonCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    unavailable = `the libpcap addon is not built (looked for ${candidates.join(' and ')}); run \`npm run build:native\``;
    return undefined;
  }
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (e) {
    unavailable = `the libpcap addon at ${path} does not load: ${(e as Error).message}`;
  }
  return addon;
}

function need(): Addon {
  const a = load();
  if (!a) throw new Error(unavailable);
  return a;
}

/** True when the addon is built and loads. */
export function libpcapAvailable(): boolean {
  return load() !== undefined;
}

/** Why the addon is unavailable ('' when it is available). */
export function libpcapUnavailableReason(): string {
  load();
  return unavailable ?? '';
}

/** libpcap's version string, e.g. "libpcap version 1.10.3 (with TPACKET_V3)". */
export function libpcapVersion(): string {
  return need().version();
}

/** Compiles a filter expression with libpcap; a rejected expression gives libpcap's error text. */
export function pcapCompile(expr: string, opts: PcapCompileOptions): PcapCompileResult {
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const netmask = opts.netmask ?? PCAP_NETMASK_UNKNOWN;
  if (!Number.isInteger(opts.linkType) || opts.linkType < 0) throw new RangeError(`linkType must be a DLT number, got ${opts.linkType}`);
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) throw new RangeError(`snaplen must be a positive integer, got ${snaplen}`);
  if (!Number.isInteger(netmask) || netmask < 0 || netmask > 0xffffffff) throw new RangeError(`netmask must be a u32, got ${netmask}`);
  const r = need().compile(expr, LINKTYPE_TO_DLT[opts.linkType] ?? opts.linkType, snaplen, opts.optimize, netmask);
  if (!r.ok) return { ok: false, error: r.error };
  const insns: BpfInsn[] = [];
  for (let i = 0; i < r.insns.length; i += 4) insns.push([r.insns[i], r.insns[i + 1], r.insns[i + 2], r.insns[i + 3]]);
  return { ok: true, insns };
}

/**
 * pcapCompile in a child process, for expressions of any size. libpcap's compiler takes time
 * that grows faster than the square of an expression's terms even unoptimized (`host` lists:
 * 1,000 terms 2 s, 4,000 terms 49 s) and overflows the stack on larger ones (10,000 terms crash
 * tcpdump). A child that runs out of time or crashes gives `{ ok: false, aborted: true }` with
 * the reason, and this process goes on.
 */
export function pcapCompileIsolated(expr: string, opts: PcapCompileOptions, timeoutMs = 30_000): PcapCompileResult & { aborted?: true } {
  if (!import.meta.url.endsWith('.js')) return pcapCompile(expr, opts);   // under a TypeScript test runner: only here
  // This file as a script, named from its directory: dist/drivers/ or the CLI's bundle, dist/cli/.
  const script = fileURLToPath(new URL('../drivers/libpcap.js', import.meta.url));
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;   // Node would load the bundle at boot; the child makes no TLS connection
  const r = spawnSync(process.execPath, [script], { input: JSON.stringify({ expr, opts }), timeout: timeoutMs, maxBuffer: 1 << 30, env, encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
    return { ok: false, error: `libpcap took over ${timeoutMs / 1000} s to compile it`, aborted: true };
  }
  if (r.signal) return { ok: false, error: `libpcap crashed compiling it (${r.signal})`, aborted: true };
  if (r.error || r.status !== 0) return { ok: false, error: `libpcap's compile process failed: ${r.error?.message ?? r.stderr.trim()}`, aborted: true };
  const res = JSON.parse(r.stdout) as PcapCompileResult;
  return res;
}

// Run as a script (pcapCompileIsolated's child): one JSON request on stdin, the result on stdout.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { expr, opts } = JSON.parse(readFileSync(0, 'utf8')) as { expr: string; opts: PcapCompileOptions };
  process.stdout.write(JSON.stringify(pcapCompile(expr, opts)));
}

/** Flattens instructions to the addon's (code, jt, jf, k) words, checking each field's width. */
export function packInsns(insns: readonly BpfInsn[]): Uint32Array {
  const words = new Uint32Array(insns.length * 4);
  insns.forEach((ins, i) => {
    const [code, jt, jf, k] = ins;
    const ok = [code, jt, jf, k].every(Number.isInteger) && code >= 0 && code <= 0xffff && jt >= 0 && jt <= 0xff &&
      jf >= 0 && jf <= 0xff && k >= -0x80000000 && k <= 0xffffffff;
    if (!ok) throw new RangeError(`instruction ${i} (${JSON.stringify(ins)}) has a field out of range`);
    words.set([code, jt, jf, k >>> 0], i * 4);
  });
  return words;
}

/**
 * Runs libpcap's bpf_filter on every ABI record in `records` (or the first `count`) and returns
 * each return value. Throws when libpcap's bpf_validate rejects the program or a record header
 * does not fit in the buffer.
 */
export function bpfFilterRecords(insns: readonly BpfInsn[], records: Uint8Array, count?: number): Uint32Array {
  return need().filterRecords(packInsns(insns), records, count);
}

/** Best-of-`rounds` nanoseconds per packet of bpf_filter over the records, timed in C. */
export function bpfFilterBench(insns: readonly BpfInsn[], records: Uint8Array, count: number | undefined, rounds: number): number {
  return need().bench(packInsns(insns), records, count, rounds);
}

/**
 * Asks the running Linux kernel whether it accepts a classic BPF program as a socket filter
 * (SO_ATTACH_FILTER runs its classic checker). Returns 0 when it does, else the errno
 * (EINVAL = 22 for a program the checker rejects). The oracle for compileCbpf's validator.
 */
export function linuxSocketFilterCheck(insns: readonly BpfInsn[]): number {
  return need().linuxCheck(packInsns(insns));
}
