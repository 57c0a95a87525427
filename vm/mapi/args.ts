/**
 * Checks `mapi_apply_function`'s arguments against the function's MAPI argument descriptor
 * before the function sees them: the count, and each argument's type by its letter. The error
 * names the argument (codes 7001–7005, 7011; 7000 for a wrong count).
 */
import { argErrorCode, type MapiFunctionDef } from '../../hostfns/lib/types.js';

const LETTER_MEANING: Record<string, string> = {
  s: 'a string', w: 'a file name (string)', S: 'a string of function references', i: 'a 32-bit integer',
  l: 'an unsigned 64-bit integer (number or bigint)', c: 'a character (one-character string or 0..255)',
  r: 'a flow descriptor (integer > 0)', f: 'a function id (integer > 0)',
};

function fits(letter: string, v: unknown): boolean {
  switch (letter) {
    case 's': case 'w': case 'S': return typeof v === 'string';
    case 'i': return typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff;
    case 'l': return (typeof v === 'bigint' && v >= 0n && v < 1n << 64n) || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
    case 'c': return (typeof v === 'string' && v.length === 1) || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255);
    case 'r': case 'f': return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0x7fffffff;
    default: return false;
  }
}

const describe = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return String(v);
  return v === null ? 'null' : typeof v;
};

export function checkArguments(def: MapiFunctionDef<any>, args: readonly unknown[]): { code: number; message: string } | undefined {
  const want = def.argdescr.length;
  if (args.length !== want) {
    const code = args.length < want ? argErrorCode(args.length + 1) : 7000;
    return { code, message: `${def.name} takes ${want} argument${want === 1 ? '' : 's'} ("${def.argdescr}"), not ${args.length}` };
  }
  for (let i = 0; i < want; i++) {
    const letter = def.argdescr[i]!;
    if (!fits(letter, args[i])) {
      return { code: argErrorCode(i + 1), message: `${def.name}: argument ${i + 1} must be ${LETTER_MEANING[letter] ?? letter}, not ${describe(args[i])}` };
    }
  }
  return undefined;
}
