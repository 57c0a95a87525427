/**
 * An output file of a MAPI function (TO_FILE, RES2FILE) that is opened when the program first
 * writes to it, not when the function is applied: compiling, checking or dumping a program
 * (`fpl check`, `fpl dump --ir`, a call in dead code) must leave the file system untouched. At
 * apply time only whether the file could be written is checked, which changes nothing.
 */
import { accessSync, closeSync, constants, openSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LazyFile {
  readonly path: string;
  /** Written first when the file is opened. */
  readonly header: Uint8Array | string;
  fd: number | undefined;
  /** Closed by cleanup: never opened again (that would truncate what was written). */
  closed?: boolean;
}

/** Why `path` could not be created or overwritten, or undefined when it could (nothing is created). */
export function unwritable(path: string): string | undefined {
  try {
    let st;
    try { st = statSync(path); } catch { st = undefined; }
    if (st?.isDirectory()) return 'it is a directory';
    if (st) accessSync(path, constants.W_OK);
    else {
      if (!statSync(dirname(path)).isDirectory()) return 'its directory is not a directory';
      accessSync(dirname(path), constants.W_OK);
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The file's descriptor, opening (truncating) it and writing its header on first use; undefined once closed. */
export function openLazy(f: LazyFile): number | undefined {
  if (f.fd !== undefined || f.closed) return f.fd;
  f.fd = openSync(f.path, 'w');
  writeSync(f.fd, typeof f.header === 'string' ? Buffer.from(f.header) : f.header);
  return f.fd;
}

export function closeLazy(f: LazyFile): void {
  if (f.fd !== undefined) closeSync(f.fd);
  f.fd = undefined;
  f.closed = true;
}
