/**
 * STARTSTOP(char* start, char* stop) — passes the packets of a time window (spec §2.1).
 *   Relative: start `"+<time>"` (a time string with a leading +, e.g. "+5s"): the window is
 *   [first + start, first + start + stop], `first` the time of the first packet that reaches the
 *   function; stop is a duration after start (`"+10s"` or `"10s"`).
 *   Absolute: start `"YYYY-MM-DD HH:MM:SS"` in local time (the process's TZ, as mktime); stop is
 *   another such date, or `"+<time>"`/`"<time>"`, a duration after start.
 * Both bounds are inclusive. A relative start with an absolute stop → 7000; a start that is
 * neither form → 7001; a bad stop → 7002; an absolute stop before the start → 7002.
 * Result `{ first, first_processed, last }` (u64, 32.32 packet times; 0 until set): the first
 * packet that reached the function, the first it passed and the last it passed.
 */
import { bin, c, seq, type Expr, type Stmt } from '../lang/ir/ir.js';
import { parseTimeString } from './lib/time.js';
import { add64, const64, locals64, lt64, ntpFromRecord, state64, store64, type U64 } from './lib/u64.js';
import { read64, s, setS, type MapiFunctionDef } from './lib/types.js';

export interface StartStopConfig {
  /** Window bounds in 32.32 ticks: absolute, or offsets from the first packet. */
  from: bigint;
  to: bigint;
  relative: boolean;
}

// State words: first, first passed, last passed (u64 each), then flags, then the window (u64 × 2).
const FIRST = 0, FIRST_PASSED = 2, LAST = 4, SEEN = 6, PASSED = 7, LOW = 8, HIGH = 10, WORDS = 12;

const DATE = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})\s*$/;

/** A local-time date as 32.32 ticks (mktime's reading), or undefined when it is not a valid date. */
export function parseLocalDate(text: string): bigint | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return undefined;
  const ms = new Date(y, mo - 1, d, h, mi, sec).getTime();
  if (!Number.isFinite(ms) || ms < 0 || ms / 1000 >= 2 ** 32) return undefined;
  return BigInt(Math.floor(ms / 1000)) << 32n;
}

const fail = (code: number, message: string) => ({ ok: false as const, code, message: `STARTSTOP: ${message}` });

export const STARTSTOP: MapiFunctionDef<StartStopConfig> = {
  name: 'STARTSTOP',
  argdescr: 'ss',
  filters: true,
  summary: 'passes the packets of a time window (relative to the first packet, or absolute local times)',
  instance: (args) => {
    const [start, stop] = args as [string, string];
    const rel = start.trim().startsWith('+') ? parseTimeString(start) : undefined;
    const abs = rel ? undefined : parseLocalDate(start);
    if (!rel && abs === undefined) {
      return fail(7001, `argument 1 (start) must be "+<time>" (e.g. "+5s", after the first packet) or a local time "YYYY-MM-DD HH:MM:SS", not ${JSON.stringify(start)}`);
    }
    const stopDate = parseLocalDate(stop);
    if (stopDate !== undefined) {
      if (rel) return fail(7000, `a relative start (${JSON.stringify(start)}) cannot have an absolute stop (${JSON.stringify(stop)})`);
      if (stopDate < abs!) return fail(7002, `argument 2 (stop) ${JSON.stringify(stop)} is before the start ${JSON.stringify(start)}`);
      return { ok: true, config: { from: abs!, to: stopDate, relative: false } };
    }
    const dur = parseTimeString(stop);
    if (!dur) return fail(7002, `argument 2 (stop) must be a duration ("+10s", "500ms") or a local time "YYYY-MM-DD HH:MM:SS", not ${JSON.stringify(stop)}`);
    const from = rel ? rel.ticks : abs!;
    const to = from + dur.ticks;
    if (to >= 1n << 64n) return fail(7002, `argument 2 (stop): the window ends after the end of 32.32 time`);
    return { ok: true, config: { from, to, relative: !!rel } };
  },
  stateWords: () => WORDS,
  lower: (config, at) => {
    const b = at.stateBase;
    const tlo = at.local(), thi = at.local(), lo = at.local(), hi = at.local();
    const ts: U64 = locals64(tlo, thi);
    const low: U64 = config.relative ? state64(b + LOW) : const64(config.from);
    const high: U64 = config.relative ? state64(b + HIGH) : const64(config.to);
    const onFirst: Stmt[] = [setS(b + SEEN, c(1)), store64(b + FIRST, ts)];
    if (config.relative) {
      onFirst.push(
        add64(ts, const64(config.from), lo, hi), store64(b + LOW, locals64(lo, hi)),
        add64(ts, const64(config.to), lo, hi), store64(b + HIGH, locals64(lo, hi)),
      );
    }
    const outside: Expr = { k: 'lor', a: lt64(ts, low), b: lt64(high, ts) };
    return seq(
      ntpFromRecord({ k: 'meta', m: 'tssec' }, { k: 'meta', m: 'tsfrac' }, at.nanoseconds ?? false, tlo, thi, at.local),
      { k: 'if', cond: bin('eq', s(b + SEEN), c(0)), then: seq(...onFirst) },
      { k: 'if', cond: outside, then: at.exitFlow },
      { k: 'if', cond: bin('eq', s(b + PASSED), c(0)), then: seq(setS(b + PASSED, c(1)), store64(b + FIRST_PASSED, ts)) },
      store64(b + LAST, ts),
    );
  },
  result: (_config, state) => ({ res: { first: read64(state, FIRST), first_processed: read64(state, FIRST_PASSED), last: read64(state, LAST) }, size: 24 }),
};


