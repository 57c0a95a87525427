/**
 * Structural equality of IR nodes, with a hash memoized per node (IR nodes are never mutated):
 * passes that group terms by an equal sub-tree (passes/regroup.ts's shared rests) compare large trees
 * without printing them to strings. Two nodes are equal when they have the same fields with
 * equal values (numbers, strings, booleans, arrays, byte arrays, nodes). One IrHasher serves one
 * pass over one program: its memo is a plain Map, dropped with it (a WeakMap of millions of
 * nodes made the garbage collector's ephemeron work dominate a 60,000-term list).
 */

const mix = (h: number, v: number): number => {
  h = Math.imul(h ^ v, 0x5bd1e995);
  return (h ^ (h >>> 15)) | 0;
};

function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Field names are few (k, op, a, b, v, …): their hashes are kept. */
const keyHashes = new Map<string, number>();
function keyHash(k: string): number {
  let h = keyHashes.get(k);
  if (h === undefined) { h = stringHash(k); keyHashes.set(k, h); }
  return h;
}

export class IrHasher {
  private readonly memo = new Map<object, number>();

  /** A hash of a value that equal values share. */
  hash(v: unknown): number {
    switch (typeof v) {
      case 'number': return mix(0x27d4eb2f, Number.isInteger(v) ? v | 0 : stringHash(String(v)));
      case 'string': return stringHash(v);
      case 'boolean': return v ? 0x3c6ef372 : 0x1b873593;
      case 'object': break;
      default: return 0x165667b1;   // undefined, and what the IR does not hold
    }
    if (v === null) return 0x61c88647;
    const known = this.memo.get(v);
    if (known !== undefined) return known;
    let h: number;
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const items = v as ArrayLike<unknown>;
      h = mix(0x2545f491, items.length);
      for (let i = 0; i < items.length; i++) h = mix(h, this.hash(items[i]));
    } else {
      // Fields in any order: the sum of each field's hash.
      h = 0x7f4a7c15;
      const o = v as Record<string, unknown>;
      for (const k in o) h = (h + mix(keyHash(k), this.hash(o[k]))) | 0;
    }
    this.memo.set(v, h);
    return h;
  }

  /** Whether two IR values are structurally equal. */
  equal(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (this.hash(a) !== this.hash(b)) return false;
    const arrayA = Array.isArray(a) || ArrayBuffer.isView(a);
    if (arrayA !== (Array.isArray(b) || ArrayBuffer.isView(b))) return false;
    if (arrayA) {
      const x = a as ArrayLike<unknown>, y = b as ArrayLike<unknown>;
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!this.equal(x[i], y[i])) return false;
      return true;
    }
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
      if (!this.equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    }
    return true;
  }
}
