/**
 * Checks a module from outside this process before anything of it is bound or run: the bytes
 * are WebAssembly of the shape fplc emits, and the `fplc` metadata section matches its schema
 * field by field. fplc's modules import env.memory (initial = maximum = meta.pages, not
 * shared) and env.extern_<i> for each extern of the metadata, export `run` (and `run_index`,
 * `tally`), and have no start function, table, element or own memory: a module that passes
 * runs no code of its own until the runtime calls an export, and touches nothing but its
 * memory and the externs bound to it.
 */
import { ABI_VERSION, CUSTOM_SECTION, MAX_CAPLEN, MAX_REGISTERS, PAGE_BYTES, RECORD_HEADER_BYTES, REGS_OFF, externImportName, type ModuleMeta } from '../abi/index.js';
import { ModuleFormatError, ModuleMetadataError } from './module-errors.js';

/** Bounds on what metadata may hold (far above what fplc emits; they keep a forged section small to process). */
export const META_LIMITS = { sectionBytes: 4 * 1024 * 1024, externs: 65536, configItems: 4096, stringBytes: 1024 * 1024 } as const;

const SECTION_NAMES: Record<number, string> = {
  0: 'custom', 1: 'type', 2: 'import', 3: 'function', 4: 'table', 5: 'memory', 6: 'global', 7: 'export',
  8: 'start', 9: 'element', 10: 'code', 11: 'data', 12: 'data count', 13: 'tag',
};
/** Sections fplc's modules may have; a start function, tables and an own memory are refused. */
const ALLOWED_SECTIONS = new Set([0, 1, 2, 3, 6, 7, 10, 11, 12]);
const EXPORTS = new Set(['run', 'run_index', 'tally']);

/** A compiled module and its validated metadata. */
export interface CheckedModule { module: WebAssembly.Module; meta: ModuleMeta }

export function checkModule(bytes: Uint8Array): CheckedModule {
  const sections = readSections(bytes);
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new ModuleFormatError(`not a valid WebAssembly module (${(err as Error).message.replace(/^WebAssembly\.Module\(\): /, '')})`);
  }
  const meta = checkMeta(metaSection(module));
  const imports = sections.imports ? readImports(bytes, sections.imports) : [];
  checkImports(module, meta, imports);
  checkExports(module);
  checkSignatures(bytes, sections, imports);
  return { module, meta };
}

// ---- the binary's outline ----

function leb(b: Uint8Array, at: { p: number }, end: number, what: string): number {
  let n = 0, shift = 0;
  for (;;) {
    if (at.p >= end || shift > 28) throw new ModuleFormatError(`not a WebAssembly module: a bad number in its ${what}`);
    const x = b[at.p++]!;
    n += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(x & 0x80)) return n;
  }
}

type Extent = { start: number; end: number };

/** Section ids in order; refuses sections fplc does not emit. Returns the extents of the sections that declare functions. */
function readSections(b: Uint8Array): { imports?: Extent; types?: Extent; functions?: Extent; exports?: Extent } {
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) {
    throw new ModuleFormatError('not a WebAssembly module: it does not start with \\0asm');
  }
  if (b[4] !== 1 || b[5] !== 0 || b[6] !== 0 || b[7] !== 0) throw new ModuleFormatError('not a WebAssembly module of version 1');
  const at = { p: 8 };
  const found: { imports?: Extent; types?: Extent; functions?: Extent; exports?: Extent } = {};
  while (at.p < b.length) {
    const id = b[at.p++]!;
    const size = leb(b, at, b.length, 'section header');
    const start = at.p, end = start + size;
    if (end > b.length) throw new ModuleFormatError(`not a WebAssembly module: its ${SECTION_NAMES[id] ?? `#${id}`} section runs past the end of the file`);
    if (!ALLOWED_SECTIONS.has(id)) {
      throw new ModuleFormatError(`not a module fplc emits: it has a ${SECTION_NAMES[id] ?? `#${id}`} section` +
        (id === 8 ? ' (a start function, which would run when it is loaded)' : ''));
    }
    if (id === 1) found.types = { start, end };
    if (id === 2) found.imports = { start, end };
    if (id === 3) found.functions = { start, end };
    if (id === 7) found.exports = { start, end };
    at.p = end;
  }
  return found;
}

const I32 = 0x7f;

/**
 * The signatures fplc's functions have: every import and export takes i32s and returns one
 * i32 (run 3 parameters, run_index 5, tally 2); anything else would hand the runtime BigInts or
 * nothing where it expects numbers.
 */
function checkSignatures(b: Uint8Array, s: ReturnType<typeof readSections>, imports: Import[]): void {
  if (!s.types) return;
  const types: { params: number[]; results: number[] }[] = [];
  const at = { p: s.types.start };
  const vec = (end: number) => {
    const n = leb(b, at, end, 'type section');
    if (at.p + n > end) throw new ModuleFormatError('not a WebAssembly module: a type runs past its section');
    const v = [...b.subarray(at.p, at.p + n)];
    at.p += n;
    return v;
  };
  const count = leb(b, at, s.types.end, 'type section');
  for (let i = 0; i < count; i++) {
    if (b[at.p++] !== 0x60) throw new ModuleFormatError('not a WebAssembly module: a type that is not a function type');
    types.push({ params: vec(s.types.end), results: vec(s.types.end) });
  }
  const funcTypes = imports.filter((i) => i.kind === 0).map((i) => i.typeIndex!);
  if (s.functions) {
    at.p = s.functions.start;
    const n = leb(b, at, s.functions.end, 'function section');
    for (let i = 0; i < n; i++) funcTypes.push(leb(b, at, s.functions.end, 'function section'));
  }
  const is = (t: number | undefined, params: number | undefined) => {
    const ty = t === undefined ? undefined : types[t];
    return !!ty && ty.results.length === 1 && ty.results[0] === I32 && ty.params.every((p) => p === I32) && (params === undefined || ty.params.length === params);
  };
  for (const imp of imports) {
    if (imp.kind === 0 && !is(imp.typeIndex, undefined)) throw new ModuleFormatError(`not a module fplc emits: its import ${imp.module}.${imp.name} does not take i32s and return an i32`);
  }
  if (!s.exports) return;
  at.p = s.exports.start;
  const n = leb(b, at, s.exports.end, 'export section');
  const arity: Record<string, number> = { run: 3, run_index: 5, tally: 2 };
  for (let i = 0; i < n; i++) {
    const len = leb(b, at, s.exports.end, 'export section');
    const name = new TextDecoder().decode(b.subarray(at.p, at.p + len));
    at.p += len;
    const kind = b[at.p++];
    const index = leb(b, at, s.exports.end, 'export section');
    if (kind === 0 && name in arity && !is(funcTypes[index], arity[name])) {
      throw new ModuleFormatError(`not a module fplc emits: its export ${name} does not take ${arity[name]} i32s and return an i32`);
    }
  }
}

interface Import { module: string; name: string; kind: number; typeIndex?: number; limits?: { flags: number; min: number; max?: number } }

function readImports(b: Uint8Array, { start, end }: Extent): Import[] {
  const at = { p: start };
  const name = () => {
    const n = leb(b, at, end, 'import section');
    if (at.p + n > end) throw new ModuleFormatError('not a WebAssembly module: a name runs past its import section');
    const s = new TextDecoder().decode(b.subarray(at.p, at.p + n));
    at.p += n;
    return s;
  };
  const count = leb(b, at, end, 'import section');
  const out: Import[] = [];
  for (let i = 0; i < count; i++) {
    const imp: Import = { module: name(), name: name(), kind: b[at.p++]! };
    if (imp.kind === 2) {
      const flags = leb(b, at, end, 'memory import');
      const min = leb(b, at, end, 'memory import');
      imp.limits = flags & 1 ? { flags, min, max: leb(b, at, end, 'memory import') } : { flags, min };
    } else if (imp.kind === 0) {
      imp.typeIndex = leb(b, at, end, 'import section');
    } else {
      // A table, global or tag import: fplc emits none; the check of the import list names it.
      out.push(imp);
      break;
    }
    out.push(imp);
  }
  return out;
}

function metaSection(module: WebAssembly.Module): unknown {
  const sections = WebAssembly.Module.customSections(module, CUSTOM_SECTION);
  if (sections.length !== 1) {
    throw new ModuleFormatError(sections.length === 0 ? `not an fplc module: it has no "${CUSTOM_SECTION}" custom section`
      : `not an fplc module: it has ${sections.length} "${CUSTOM_SECTION}" custom sections`);
  }
  const raw = sections[0]!;
  if (raw.byteLength > META_LIMITS.sectionBytes) throw new ModuleMetadataError('(section)', `${raw.byteLength} bytes, more than ${META_LIMITS.sectionBytes}`);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (err) {
    throw new ModuleMetadataError('(section)', `not UTF-8 JSON (${(err as Error).message})`);
  }
}

function checkImports(module: WebAssembly.Module, meta: ModuleMeta, parsed: Import[]): void {
  const listed = WebAssembly.Module.imports(module);
  const expected = new Map<string, WebAssembly.ImportExportKind>([['memory', 'memory']]);
  meta.externs.forEach((_x, id) => expected.set(externImportName(id), 'function'));
  const seen = new Set<string>();
  for (const imp of listed) {
    const want = imp.module === 'env' ? expected.get(imp.name) : undefined;
    if (want !== imp.kind || seen.has(imp.name)) {
      throw new ModuleFormatError(`not a module fplc emits: it imports ${imp.kind} ${imp.module}.${imp.name}; fplc modules import ` +
        `env.memory${meta.externs.length ? ` and env.extern_0 … env.extern_${meta.externs.length - 1} (one per extern of the metadata)` : ' only'}`);
    }
    seen.add(imp.name);
  }
  // Every extern of the metadata must be imported; a module that does not call one has none listed.
  if (!seen.has('memory')) throw new ModuleFormatError('not a module fplc emits: it does not import env.memory');
  const memory = parsed.find((i) => i.kind === 2);
  const l = memory?.limits;
  if (!l || l.flags !== 1 || l.min !== meta.pages || l.max !== meta.pages) {
    throw new ModuleFormatError(`not a module fplc emits: its memory must be unshared with initial = maximum = ${meta.pages} pages ` +
      `(the metadata's pages); it is ${l ? `${l.flags & 2 ? 'shared, ' : ''}initial ${l.min}, maximum ${l.max ?? 'none'}` : 'unreadable'}`);
  }
}

function checkExports(module: WebAssembly.Module): void {
  const exports = WebAssembly.Module.exports(module);
  for (const e of exports) {
    if (!EXPORTS.has(e.name) || e.kind !== 'function') {
      throw new ModuleFormatError(`not a module fplc emits: it exports ${e.kind} ${JSON.stringify(e.name)}; fplc modules export the functions run, run_index and tally`);
    }
  }
  if (!exports.some((e) => e.name === 'run')) throw new ModuleFormatError('not a module fplc emits: it exports no run function');
}

// ---- the metadata's schema ----

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const FIELDS = new Set(['abi', 'linkType', 'registers', 'memoryCells', 'fuel', 'memOff', 'stateOff', 'stateBytes', 'batchOff',
  'batchBytes', 'resultsOff', 'indexOff', 'tablesOff', 'tablesBytes', 'pages', 'externs', 'language', 'snaplen']);

/**
 * The metadata as ModuleMeta, or a ModuleMetadataError naming the first field that is missing,
 * of another type, out of range, or places an area outside the memory or over another area.
 */
export function checkMeta(json: unknown): ModuleMeta {
  if (!isObject(json)) throw new ModuleMetadataError('(section)', 'not a JSON object');
  for (const k of Object.keys(json)) if (!FIELDS.has(k)) throw new ModuleMetadataError(k, 'not a field of ABI ' + ABI_VERSION + ' metadata');
  if (json.abi !== ABI_VERSION) throw new ModuleMetadataError('abi', `the module was compiled for ABI ${JSON.stringify(json.abi)}; this runtime speaks ABI ${ABI_VERSION}`);
  const int = (k: string, min: number, max: number, optional = false): number | undefined => {
    const v = json[k];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ModuleMetadataError(k, v === undefined ? 'missing' : `${JSON.stringify(v)} is not an integer`);
    if (v < min || v > max) throw new ModuleMetadataError(k, `${v} is outside [${min}, ${max}]`);
    return v;
  };
  const aligned = (k: string, v: number | undefined, a: number) => {
    if (v !== undefined && v % a !== 0) throw new ModuleMetadataError(k, `${v} is not a multiple of ${a}`);
  };
  const pages = int('pages', 1, 65536)!;
  const memBytes = pages * PAGE_BYTES;
  const linkType = int('linkType', 0, 0xffffffff)!;
  const registers = int('registers', 0, MAX_REGISTERS)!;
  const memoryCells = int('memoryCells', 1, memBytes / 4)!;
  if ((memoryCells & (memoryCells - 1)) !== 0) throw new ModuleMetadataError('memoryCells', `${memoryCells} is not a power of two`);
  const fuel = int('fuel', 0, 0xffffffff)!;
  const memOff = int('memOff', REGS_OFF + MAX_REGISTERS * 4, memBytes)!;
  aligned('memOff', memOff, 4);
  const stateOff = int('stateOff', memOff + memoryCells * 4, memBytes)!;
  aligned('stateOff', stateOff, 4);
  const stateBytes = int('stateBytes', 0, memBytes - stateOff)!;
  aligned('stateBytes', stateBytes, 4);
  const batchOff = int('batchOff', stateOff + stateBytes, memBytes)!;
  aligned('batchOff', batchOff, 4);
  const batchBytes = int('batchBytes', MAX_CAPLEN + RECORD_HEADER_BYTES, memBytes - batchOff)!;
  aligned('batchBytes', batchBytes, 4);
  const resultsOff = int('resultsOff', batchOff + batchBytes, memBytes - batchBytes / 4)!;
  aligned('resultsOff', resultsOff, 4);
  let end = resultsOff + batchBytes / 4;
  const indexOff = int('indexOff', end, memBytes - batchBytes / 4, true);
  aligned('indexOff', indexOff, 4);
  if (indexOff !== undefined) end = indexOff + batchBytes / 4;
  if ((json.tablesOff === undefined) !== (json.tablesBytes === undefined)) {
    throw new ModuleMetadataError(json.tablesOff === undefined ? 'tablesOff' : 'tablesBytes', 'tablesOff and tablesBytes come together');
  }
  const tablesOff = int('tablesOff', end, memBytes, true);
  const tablesBytes = tablesOff === undefined ? undefined : int('tablesBytes', 0, memBytes - tablesOff)!;
  const snaplen = int('snaplen', 0, 0xffffffff, true);
  if (json.language !== undefined && (typeof json.language !== 'string' || json.language.length > 64)) {
    throw new ModuleMetadataError('language', 'not a short string');
  }
  const externs = checkExterns(json.externs, memoryCells);
  return {
    abi: ABI_VERSION, linkType, registers, memoryCells, fuel, memOff, stateOff, stateBytes, batchOff, batchBytes, resultsOff,
    ...(indexOff !== undefined ? { indexOff } : {}),
    ...(tablesOff !== undefined ? { tablesOff, tablesBytes: tablesBytes! } : {}),
    pages, externs,
    ...(typeof json.language === 'string' ? { language: json.language } : {}),
    ...(snaplen !== undefined ? { snaplen } : {}),
  };
}

function checkExterns(v: unknown, memoryCells: number): ModuleMeta['externs'] {
  if (!Array.isArray(v)) throw new ModuleMetadataError('externs', v === undefined ? 'missing' : 'not an array');
  if (v.length > META_LIMITS.externs) throw new ModuleMetadataError('externs', `${v.length} entries, more than ${META_LIMITS.externs}`);
  return v.map((x: unknown, i) => {
    const at = `externs[${i}]`;
    if (!isObject(x)) throw new ModuleMetadataError(at, 'not an object');
    for (const k of Object.keys(x)) if (!['name', 'config', 'inCell', 'outCell'].includes(k)) throw new ModuleMetadataError(`${at}.${k}`, 'not a field of an extern');
    if (typeof x.name !== 'string' || x.name === '' || x.name.length > 256) throw new ModuleMetadataError(`${at}.name`, 'not a name (a string of 1 to 256 characters)');
    if (!Array.isArray(x.config)) throw new ModuleMetadataError(`${at}.config`, x.config === undefined ? 'missing' : 'not an array');
    if (x.config.length > META_LIMITS.configItems) throw new ModuleMetadataError(`${at}.config`, `${x.config.length} items, more than ${META_LIMITS.configItems}`);
    x.config.forEach((c: unknown, j) => {
      const ok = typeof c === 'string' ? c.length <= META_LIMITS.stringBytes : typeof c === 'number' && Number.isFinite(c);
      if (!ok) throw new ModuleMetadataError(`${at}.config[${j}]`, 'not a finite number or a string of at most 1 MiB');
    });
    const out: ModuleMeta['externs'][number] = { name: x.name, config: x.config as (string | number)[] };
    for (const k of ['inCell', 'outCell'] as const) {
      const c = x[k];
      if (c === undefined) continue;
      if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0 || c >= memoryCells) throw new ModuleMetadataError(`${at}.${k}`, `not a cell of M[0..${memoryCells})`);
      out[k] = c;
    }
    return out;
  });
}
