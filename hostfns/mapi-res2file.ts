/**
 * RES2FILE(char* types, char* fids, char* header, char* file, char* interval, int reset) — writes
 * other functions' results to a text file as rows (spec §2.1).
 *   types: comma-separated, one per function: R2F_RAW (0), R2F_ULLSTR (1), R2F_ULLSEC (2),
 *   R2F_STATS (3). fids: `"fid@fd,…"` (functions of any flow of the device).
 *   Applying it checks that the file could be written and changes nothing; the file is created
 *   with `header` and a newline when the first row is written or its flow finishes
 *   (hostfns/lib/lazy-file.ts), never when a program is only compiled or checked. Each row
 *   has one field per function, each followed by a space, and ends with a newline:
 *     ULLSTR `%llu` of a u64 result; ULLSEC `%.12Lf` of value / 2^32 (a 32.32 time, exact,
 *     rounded half to even); STATS `"%llu  %Lf %Lf %f %f"` of a STATS result (count, sum, sum of
 *     squares, max, min); RAW the result's size as a little-endian u64 then its bytes (u64 and
 *     u32 results).
 *   interval "0": a row for every packet that reaches it. "-1": one row when the trace ends or the
 *   flow is closed (spec §7: never crashes). A time string: periodic (lib/periodic.ts); when a
 *   packet ends k intervals, k − 1 rows of `0 ` fields for the intervals without packets, then
 *   the row of values, then, with reset = 1, every function that has a reset is reset (STATS has
 *   none). In this mode RES2FILE runs just before the first of its functions that is in its
 *   flow (MAPI's "move before", by id), so the packet that ends an interval counts in the next.
 * Errors: a bad type list, reference or a type the result cannot be written as → 7002 (as MAPI);
 * a bad interval → 7005; reset ∉ {0,1} → 7011; the file cannot be written → 6155.
 * The rows are written in JavaScript, only for the packets that end an interval (or every
 * packet with "0"); the interval is kept in WebAssembly. No result.
 */
import { writeSync } from 'node:fs';
import { closeLazy, openLazy, unwritable, type LazyFile } from './lib/lazy-file.js';
import { bin, c, seq, type Stmt } from '../lang/ir/ir.js';
import { parseTimeString } from './lib/time.js';
import { PERIODIC_WORDS, periodicTick } from './lib/periodic.js';
import { L } from './lib/u64.js';
import { isInt, type MapiFunctionDef, type MapiResultSource, type MapiU64Source } from './lib/types.js';
import type { StatsResult } from './mapi-stats.js';

export const R2F_RAW = 0, R2F_ULLSTR = 1, R2F_ULLSEC = 2, R2F_STATS = 3;

interface Column { type: number; source: MapiResultSource; reset?: MapiU64Source['reset']; fid: number; fd: number }
export interface Res2fileConfig extends LazyFile {
  columns: Column[]; interval: bigint; mode: 'every' | 'end' | 'periodic'; reset: boolean; before?: number;
}

/** `%.12Lf` of v / 2^32: exact, rounded half to even (glibc's printf on an exact long double). */
export function formatSeconds(v: bigint): string {
  const scaled = v * 10n ** 12n;
  let q = scaled >> 32n;
  const r = scaled & 0xffffffffn;
  if (r > 0x80000000n || (r === 0x80000000n && (q & 1n) === 1n)) q++;
  const s = q.toString().padStart(13, '0');
  return `${s.slice(0, -12)}.${s.slice(-12)}`;
}

/** `%f` of a double holding an integer (MAPI's max/min), as printf writes it. */
const doubleText = (v: bigint): string => `${BigInt(Number(v))}.000000`;

function field(col: Column): Uint8Array | string {
  const { res } = col.source.read();
  if (col.type === R2F_STATS) {
    const s = res as StatsResult;
    return `${s.count}  ${s.sum}.000000 ${s.sum2}.000000 ${doubleText(s.max)} ${doubleText(s.min)}`;
  }
  const v = typeof res === 'bigint' ? res : BigInt(res as number);
  if (col.type === R2F_ULLSTR) return v.toString();
  if (col.type === R2F_ULLSEC) return formatSeconds(v);
  const size = typeof res === 'bigint' ? 8 : 4;
  const out = new Uint8Array(8 + size);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(size), true);
  if (size === 8) dv.setBigUint64(8, v, true); else dv.setUint32(8, Number(v), true);
  return out;
}

const SPACE = new Uint8Array([0x20]);

function writeRow(config: Res2fileConfig, zeros: boolean): void {
  const fd = openLazy(config);
  if (fd === undefined) return;
  if (zeros) { writeSync(fd, `${'0 '.repeat(config.columns.length)}\n`); return; }
  for (const col of config.columns) {
    const f = field(col);
    if (typeof f === 'string') writeSync(fd, `${f} `);
    else { writeSync(fd, f); writeSync(fd, SPACE); }
  }
  writeSync(fd, '\n');
}

const bad = (code: number, message: string) => ({ ok: false as const, code, message: `RES2FILE: ${message}` });

export const RES2FILE: MapiFunctionDef<Res2fileConfig> = {
  name: 'RES2FILE',
  argdescr: 'sSswsi',
  filters: false,
  summary: 'writes other functions\' results as text rows: per packet, periodic or at the end',
  instance: (args, ctx) => {
    const [types, fids, header, path, interval, reset] = args as [string, string, string, string, string, number];
    const typeList = types.split(',').map((t) => t.trim());
    if (typeList.some((t) => !/^[0-3]$/.test(t))) return bad(7002, `argument 1 (types) must list R2F_RAW (0), R2F_ULLSTR (1), R2F_ULLSEC (2) or R2F_STATS (3) separated by commas, not ${JSON.stringify(types)}`);
    const refs = fids.split(',').map((f) => /^\s*(\d+)@(\d+)\s*$/.exec(f));
    if (refs.some((m) => !m)) return bad(7002, `argument 2 (fids) must be "fid@fd,…", not ${JSON.stringify(fids)}`);
    if (refs.length !== typeList.length) return bad(7002, `argument 2 (fids) names ${refs.length} functions but argument 1 (types) has ${typeList.length} types`);
    if (!isInt(reset) || (reset !== 0 && reset !== 1)) return bad(7011, `argument 6 (reset) must be 0 or 1, not ${String(reset)}`);
    const text = interval.trim();
    const t = text === '0' || text === '-1' ? undefined : parseTimeString(text);
    if (text !== '0' && text !== '-1' && (!t || t.ticks === 0n)) return bad(7005, `argument 5 (interval) must be "0", "-1" or a time string such as "1s", not ${JSON.stringify(interval)}`);
    const columns: Column[] = [];
    for (let i = 0; i < refs.length; i++) {
      const fid = Number(refs[i]![1]), fd = Number(refs[i]![2]), type = Number(typeList[i]);
      const source = ctx.resultOf ? ctx.resultOf(fd, fid) : 'this device cannot resolve function references';
      if (typeof source === 'string') return bad(7002, `argument 2 (fids), ${fid}@${fd}: ${source}`);
      const res = source.read().res;
      if (type === R2F_STATS ? source.name !== 'STATS' : typeof res !== 'bigint' && typeof res !== 'number') {
        return bad(7002, `argument 1 (types): ${source.label} cannot be written as ${['R2F_RAW', 'R2F_ULLSTR', 'R2F_ULLSEC', 'R2F_STATS'][type]}`);
      }
      const u64 = ctx.u64Source?.(fd, fid);
      columns.push({ type, source, reset: typeof u64 === 'object' ? u64.reset : undefined, fid, fd });
    }
    const why = unwritable(path);
    if (why) return bad(6155, `argument 4 (file): cannot write ${JSON.stringify(path)}: ${why}`);
    const mine = columns.filter((col) => col.fd === ctx.fd).map((col) => col.fid);
    return { ok: true, config: {
      columns, interval: t?.ticks ?? 0n, mode: text === '0' ? 'every' : text === '-1' ? 'end' : 'periodic', reset: reset === 1, path, header: `${header}\n`, fd: undefined,
      before: text !== '0' && text !== '-1' && mine.length ? Math.min(...mine) : undefined,
    } };
  },
  stateWords: () => PERIODIC_WORDS,
  registers: (config) => (config.mode === 'periodic' ? 1 : 0),
  moveBefore: (config) => config.before,
  lower: (config, at) => {
    if (config.mode === 'end') return { k: 'eval', e: c(0) };
    const fired = at.local();
    const rows = (n: number | undefined) => at.externCall('RES2FILE', (_x, a) => {
      const k = n ?? a[0]!;
      for (let i = 1; i < k; i++) writeRow(config, true);
      writeRow(config, false);
      return 0;
    }, n === undefined ? [L(fired)] : []);
    if (config.mode === 'every') return { k: 'eval', e: rows(1) };
    const resets: Stmt[] = config.reset ? config.columns.flatMap((col) => (col.reset ? [col.reset(at.local)] : [])) : [];
    return seq(
      periodicTick(config.interval, at.stateBase, fired, at.regBase, at.nanoseconds ?? false, at.local),
      { k: 'if', cond: bin('ne', L(fired), c(0)), then: seq({ k: 'eval', e: rows(undefined) }, ...resets) },
    );
  },
  finish: (config) => {
    if (config.mode === 'end') writeRow(config, false);
    else openLazy(config);   // the header, even without a row
  },
  cleanup: (config) => closeLazy(config),
};
