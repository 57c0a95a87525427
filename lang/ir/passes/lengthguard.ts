/**
 * A pass: one length test up front for a filter that returns `C ? A : 0` first thing.
 *
 *   return C ? A : 0     ⇒     return caplen >= N && C ? A : 0
 *
 * where N is the fewest captured bytes with which C can come out true: every evaluation of C
 * that ends true reads bytes at constant offsets up to at least N. The guard is exact: on a
 * packet of fewer bytes C is false, or one of its loads faults, which ends the packet with 0,
 * so the original returns 0 too, and C has no side effects to skip (no externs). On longer
 * packets both run C alike.
 *
 * The gain is in the backend, which takes `caplen >= N` as a fact: the loads of C below N need
 * no length check of their own, so `tcp dst port 80` tests the length once (24 bytes, the IPv4
 * protocol byte) where it tested it at 14 for the ethertype and again at 24.
 */
import type { Expr, Program, Stmt } from '../ir.js';
import { bin, land } from '../ir.js';
import { lengthNeeded } from '../facts.js';
import { callsExtern } from '../walk.js';
import type { Pass } from './pass.js';

export function lengthGuard(p: Program): Program {
  const first = firstStatement(p.body);
  if (!first || first.value.k !== 'cond' || first.value.b.k !== 'const' || first.value.b.v !== 0) return p;
  const { c: cond, a, b } = first.value;
  if (callsExtern(cond)) return p;
  const n = lengthNeeded(cond, p.linkType).whenTrue;
  // A load ending at 2^32 or beyond (`ether[0xffffffff:4]`) can never succeed, and N would not be a u32: leave those alone.
  if (n <= 0 || n >= 2 ** 32) return p;
  const guarded: Stmt = { k: 'return', value: { k: 'cond', c: land(bin('ge', { k: 'meta', m: 'caplen' }, { k: 'const', v: n }), cond), a, b } };
  return { ...p, body: replaceFirst(p.body, guarded) };
}

/** The statement that runs first, if it is a return. */
function firstStatement(s: Stmt): Extract<Stmt, { k: 'return' }> | undefined {
  if (s.k === 'return') return s;
  if (s.k === 'seq' && s.body.length) return firstStatement(s.body[0]!);
  return undefined;
}

function replaceFirst(s: Stmt, by: Stmt): Stmt {
  if (s.k === 'seq') return { ...s, body: [replaceFirst(s.body[0]!, by), ...s.body.slice(1)] };
  return by;
}

export const lengthguardPass: Pass = {
  name: 'lengthguard',
  run: lengthGuard,
  doc: 'a filter returning `C ? A : 0` first tests caplen once against the fewest bytes with which C can be true',
};
