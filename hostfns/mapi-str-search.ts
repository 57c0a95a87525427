/**
 * STR_SEARCH(char *pattern, int offset, int depth) — passes packets whose bytes contain the
 * pattern in the region [offset, offset + depth) of the link frame (depth 0: to the captured
 * end). Snort syntax: `|61 62|` hex bytes (spaces ignored), `\|` a literal pipe (a backslash
 * escapes any character), `||` separates alternatives; every alternative that fits the region
 * is tried (spec §7). Lowers to the IR's `search` node, which runs inside the WebAssembly module
 * (codegen/wasm/search.ts); `strSearchMatches` below is the function's reference decision.
 */
import { c, lnot, search, type Expr } from '../lang/ir/ir.js';
import { isInt, type MapiFunctionDef } from './lib/types.js';

export const STR_UNTERMINATED_PIPE = 3503;
export const STR_DEPTH_TOO_SMALL = 3504;
export const STR_INVALID = 3505;

/** Parses a Snort-style pattern into its alternatives, or returns the MAPI error. */
export function parseSnortPattern(pattern: string): { ok: true; alternatives: Uint8Array[] } | { ok: false; code: number; message: string } {
  const alternatives: Uint8Array[] = [];
  let current: number[] = [];
  const bad = (code: number, message: string) => ({ ok: false as const, code, message: `STR_SEARCH: argument 1 (pattern) ${message}` });
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) { current.push(...utf8(ch)); continue; }
      current.push(...utf8(next));
      i++;
    } else if (ch === '|') {
      if (pattern[i + 1] === '|') {
        if (current.length === 0) return bad(STR_INVALID, `has an empty alternative before the "||" at character ${i + 1}`);
        alternatives.push(Uint8Array.from(current));
        current = [];
        i++;
        continue;
      }
      const end = pattern.indexOf('|', i + 1);
      if (end < 0) return bad(STR_UNTERMINATED_PIPE, `has an unterminated "|" at character ${i + 1}`);
      const digits = pattern.slice(i + 1, end).replace(/\s+/g, '');
      if (!/^([0-9a-fA-F]{2})+$/.test(digits)) {
        return bad(STR_INVALID, `has "|${pattern.slice(i + 1, end)}|" at character ${i + 1}: expected pairs of hex digits between the pipes`);
      }
      for (let k = 0; k < digits.length; k += 2) current.push(parseInt(digits.slice(k, k + 2), 16));
      i = end;
    } else {
      current.push(...utf8(ch));
    }
  }
  if (current.length === 0) return bad(STR_INVALID, alternatives.length ? 'ends with an empty alternative' : 'is empty after parsing');
  alternatives.push(Uint8Array.from(current));
  return { ok: true, alternatives };
}

const encoder = new TextEncoder();
const utf8 = (ch: string): Uint8Array => encoder.encode(ch);

/** Whether `needle` occurs in hay[from, to). */
export function occursIn(hay: Uint8Array, from: number, to: number, needle: Uint8Array): boolean {
  const first = needle[0]!;
  const last = to - needle.length;
  outer: for (let i = from; i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

export interface StrSearchConfig { alternatives: Uint8Array[]; offset: number; depth: number }

/** The function's decision for one packet (also the tests' reference for the region rule). */
export function strSearchMatches(config: StrSearchConfig, packet: Uint8Array): boolean {
  const { offset, depth } = config;
  if (offset >= packet.length) return false;
  const end = depth > 0 ? Math.min(packet.length, offset + depth) : packet.length;
  for (const alt of config.alternatives) if (occursIn(packet, offset, end, alt)) return true;
  return false;
}

/**
 * The decision as an IR expression: the region [offset, offset + depth) clipped by `search` to
 * the captured bytes (depth 0: no end but the captured one), which also gives 0 for an offset at
 * or past the captured end, as strSearchMatches does.
 */
export function strSearchExpr(config: StrSearchConfig): Expr {
  const to = config.depth > 0 ? Math.min(0xffffffff, config.offset + config.depth) : 0xffffffff;
  return search(c(config.offset), c(to), config.alternatives);
}

export const STR_SEARCH: MapiFunctionDef<StrSearchConfig> = {
  name: 'STR_SEARCH',
  argdescr: 'sii',
  filters: true,
  summary: 'passes packets containing a (Snort-syntax) pattern within [offset, offset+depth)',
  instance: (args) => {
    const [pattern, offset, depth] = args;
    if (typeof pattern !== 'string' || pattern === '') return { ok: false, code: 7001, message: 'STR_SEARCH: argument 1 (pattern) must be a non-empty string' };
    if (!isInt(offset) || offset < 0) return { ok: false, code: 7002, message: `STR_SEARCH: argument 2 (offset) must be an integer >= 0, not ${String(offset)}` };
    if (!isInt(depth) || depth < 0) return { ok: false, code: 7003, message: `STR_SEARCH: argument 3 (depth) must be an integer >= 0, not ${String(depth)}` };
    const parsed = parseSnortPattern(pattern);
    if (!parsed.ok) return parsed;
    const longest = Math.max(...parsed.alternatives.map((a) => a.length));
    if (depth > 0 && depth < longest) {
      return { ok: false, code: STR_DEPTH_TOO_SMALL, message: `STR_SEARCH: argument 3 (depth) is ${depth}, shorter than the pattern (${longest} bytes)` };
    }
    return { ok: true, config: { alternatives: parsed.alternatives, offset, depth } };
  },
  stateWords: () => 0,
  lower: (config, at) => ({
    k: 'if',
    cond: lnot(strSearchExpr(config)),
    then: at.exitFlow,
  }),
};
