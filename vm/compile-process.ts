/**
 * Compiling in a child process, for short-lived processes such as the CLI.
 *
 * Once binaryen has run, V8 goes on optimizing binaryen's large WebAssembly module on
 * background threads, and Node will not exit (process.exit included) before that work is done:
 * ~0.4 s of a ~1 s cold `fpl run`. A child process that compiles, hands the module back and is
 * then killed takes that wait with it. The child is this file run as a script; the request and
 * the reply are one JSON document each, on its stdin and stdout. Anything that keeps the child
 * from answering (it cannot be started, it dies) falls back to compiling in this process, so
 * the result never depends on the child.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CompileError, type Diagnostic } from '../lang/diagnostics.js';
import type { CompileOptions } from './compile.js';
import type { CompiledFilter } from './filter.js';
import { loadCompiled } from './load.js';
import { defaultCacheDir, usableCacheDir } from './cache.js';

/** cacheDir: where binaryen's script is kept, checked by the parent (vm/cache.ts); absent: not cached. */
export type Request = { source: string; opts: Omit<CompileOptions, 'externs'>; cacheDir?: string };
export type Reply =
  | { ok: true; wasm: string; warnings: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[]; source: string }
  | { ok: false; name: string; message: string };

const inProcess = async (source: string, opts: CompileOptions) => (await import('./compile.js')).compileFilter(source, opts);

/** compileFilter in a child process (see above). Programs with application externs compile here. */
export async function compileInChild(source: string, opts: CompileOptions = {}): Promise<CompiledFilter> {
  // Only compiled JavaScript can be the child (under a TypeScript test runner this file is .ts).
  if (opts.externs?.length || !import.meta.url.endsWith('.js')) return inProcess(source, opts);
  // Checked here, once per process, so that a refused directory is reported once (not by every child).
  const cacheDir = usableCacheDir(defaultCacheDir());
  const reply = await askChild({ source, opts, ...(cacheDir ? { cacheDir } : {}) });
  if (!reply) return inProcess(source, opts);
  if (reply.ok) return loadCompiled(Buffer.from(reply.wasm, 'base64'), [], reply.warnings);
  if ('diagnostics' in reply) throw new CompileError(reply.diagnostics, reply.source);
  // The API's option errors are RangeError and TypeError; keep the class callers test for.
  const Cls = reply.name === 'RangeError' ? RangeError : reply.name === 'TypeError' ? TypeError : Error;
  throw new Cls(reply.message);
}

/**
 * The child's script: this file, named from its own directory, which is dist/vm/ or, in the
 * CLI's bundle, dist/cli/ (scripts/bundle-cli.mjs): the bundle's chunks are not scripts.
 */
const childScript = () => fileURLToPath(new URL('../vm/compile-process.js', import.meta.url));

/** Runs one request through a child; undefined when the child gave no reply. */
export async function askChild(request: Request): Promise<Reply | undefined> {
  const { spawn } = await import('node:child_process');   // on a miss only: a cached run starts without it
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;   // Node would load the bundle at boot (~50 ms); the child makes no TLS connection
    let child;
    try {
      child = spawn(process.execPath, [childScript()], { stdio: ['pipe', 'pipe', 'inherit'], env });
    } catch {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (reply: Reply | undefined) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');   // its only work is done; do not wait for V8's background threads
      resolve(reply);
    };
    child.on('error', () => finish(undefined));
    child.stdin.on('error', () => { /* the child died first; 'close' reports it */ });
    child.stdout.on('data', (b: Buffer) => {
      chunks.push(b);
      if (b.includes(0x0a)) {   // the reply is one line
        try { finish(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Reply); } catch { finish(undefined); }
      }
    });
    child.on('close', () => finish(undefined));
    child.stdin.end(JSON.stringify(request));
  });
}

/** Sources up to this many characters compile with binaryen on Liftoff only (see serve). */
const LIFTOFF_ONLY_MAX_SOURCE = 32 * 1024;

async function serve(): Promise<void> {
  // binaryen's WebAssembly runs on Liftoff's code only: the child lives for one compile and is
  // killed, so TurboFan's background compiles of binaryen's hot functions would only compete
  // for the cores (cold `fpl run` 626 -> 565 ms, a 10,000-host list 1.9 -> 1.4 s). Set before
  // binaryen is loaded; JavaScript is optimized as usual.
  // Not for a large program: binaryen's passes over one huge function then run for tens of
  // seconds, several times slower on Liftoff's code (3,000 `host and port` terms: > 120 s).
  const chunks: Buffer[] = [];
  for await (const b of process.stdin) chunks.push(b as Buffer);
  const { source, opts, cacheDir } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Request;
  if (typeof source !== 'string' || source.length <= LIFTOFF_ONLY_MAX_SOURCE) {
    (await import('node:v8')).setFlagsFromString('--liftoff-only');   // imported here: the CLI's own start does without it
  }
  // binaryen as a script kept in the user's cache directory, checked against the build's digest (binaryen-cache.ts).
  (await import('./binaryen-cache.js')).useBinaryenCache(cacheDir);
  // Start loading binaryen now: V8 compiles its WebAssembly on background threads while this
  // one parses and lowers the program.
  void import('../codegen/wasm/index.js').catch(() => undefined);   // a failure shows where it is used
  let reply: Reply;
  try {
    const filter = await inProcess(source, opts);
    reply = { ok: true, wasm: Buffer.from(filter.wasm).toString('base64'), warnings: [...filter.warnings] };
  } catch (err) {
    reply = err instanceof CompileError
      ? { ok: false, diagnostics: err.diagnostics, source: err.source }
      : { ok: false, name: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await serve();
