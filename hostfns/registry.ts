/**
 * The externs fplc ships: what an FPL `EXTERN("NAME", …)` may name without the application
 * registering anything. Applications add their own through compileFilter's `externs` option.
 */
import type { ExternImpl } from '../abi/index.js';
import { getDynTcpDPortFromRtsp } from './rtsp-dynport.js';

export const BUILTIN_EXTERNS: readonly ExternImpl[] = [getDynTcpDPortFromRtsp];

/** Built-ins plus `extra`; an extra extern of the same name replaces the built-in. */
export function externTable(extra: readonly ExternImpl[] = []): Map<string, ExternImpl> {
  const table = new Map<string, ExternImpl>();
  for (const x of [...BUILTIN_EXTERNS, ...extra]) table.set(x.name, x);
  return table;
}
