/** The MAPI functions fplc ships, by name (what `mapi_apply_function` may name), one file each in hostfns/mapi-*.ts. */
import { BPF_FILTER } from '../mapi-bpf-filter.js';
import { BYTE_COUNTER } from '../mapi-byte-counter.js';
import { FPL_FILTER } from '../mapi-fpl-filter.js';
import { GAP } from '../mapi-gap.js';
import { HASH } from '../mapi-hash.js';
import { PKT_COUNTER } from '../mapi-pkt-counter.js';
import { PKT_INFO, PKTINFO } from '../mapi-pktinfo.js';
import { SAMPLE } from '../mapi-sample.js';
import { STR_SEARCH } from '../mapi-str-search.js';
import { TO_BUFFER } from '../mapi-to-buffer.js';
import { BINOP } from '../mapi-binop.js';
import { STATS } from '../mapi-stats.js';
import { DIST } from '../mapi-dist.js';
import { PROTINFO } from '../mapi-protinfo.js';
import { REGEXP } from '../mapi-regexp.js';
import { TO_FILE } from '../mapi-to-file.js';
import { TOP } from '../mapi-top.js';
import { STARTSTOP } from '../mapi-startstop.js';
import { HASHSAMP } from '../mapi-hashsamp.js';
import { BUCKET } from '../mapi-bucket.js';
import { THRESHOLD } from '../mapi-threshold.js';
import { RES2FILE } from '../mapi-res2file.js';
import { TRACK_FTP } from '../mapi-track-ftp.js';
import { COOKING } from '../mapi-cooking.js';
import type { MapiFunctionDef } from './types.js';

export const MAPI_FUNCTIONS: readonly MapiFunctionDef<any>[] = [
  BPF_FILTER, PKT_COUNTER, BYTE_COUNTER, PKTINFO, PKT_INFO, GAP, HASH, SAMPLE, STR_SEARCH, TO_BUFFER, FPL_FILTER,
  BINOP, STATS, DIST, PROTINFO, REGEXP, TO_FILE,
  TOP, STARTSTOP, HASHSAMP, BUCKET, THRESHOLD, RES2FILE,
  TRACK_FTP, COOKING,
];

/** Libraries in lookup order (MAPI's `libs=`); a definition without `library` is in stdflib. */
export const MAPI_LIBRARIES: readonly string[] = ['stdflib', 'trackflib', 'extraflib', 'fplcflib'];

/** Definitions added by the application (hardware-specific variants, its own functions), searched first. */
const registered: MapiFunctionDef<any>[] = [];
/** Every definition in library order, registered ones first within a library; kept until the next (un)registration (a device applies 20,000 functions for 10,000 flows). */
let sorted: readonly MapiFunctionDef<any>[] | undefined;

/** Adds a function definition (e.g. one for devtype "1.3"); a definition with the same name, library and devtype is replaced. */
export function registerMapiFunction(def: MapiFunctionDef<any>): void {
  const i = registered.findIndex((d) => d.name === def.name && libraryOf(d) === libraryOf(def) && devtypeOf(d) === devtypeOf(def));
  if (i >= 0) registered.splice(i, 1);
  registered.push(def);
  sorted = undefined;
}

/** Removes a definition added with registerMapiFunction. */
export function unregisterMapiFunction(def: MapiFunctionDef<any>): void {
  const i = registered.indexOf(def);
  if (i >= 0) registered.splice(i, 1);
  sorted = undefined;
}

export const libraryOf = (d: MapiFunctionDef<any>): string => d.library ?? 'stdflib';
export const devtypeOf = (d: MapiFunctionDef<any>): string => d.devtype ?? '1';

function allDefinitions(): readonly MapiFunctionDef<any>[] {
  const libIndex = (d: MapiFunctionDef<any>) => { const i = MAPI_LIBRARIES.indexOf(libraryOf(d)); return i < 0 ? MAPI_LIBRARIES.length : i; };
  sorted ??= [...registered, ...MAPI_FUNCTIONS].sort((a, b) => libIndex(a) - libIndex(b));   // stable
  return sorted;
}

/** A MAPI function by name (`[lib:]NAME[!oid]`), for the software device. */
export function mapiFunction(name: string): MapiFunctionDef<any> | undefined {
  const r = selectMapiFunction(name, '1');
  return r.ok ? r.def : undefined;
}

export type Selected =
  | { ok: true; def: MapiFunctionDef<any>; devtype: string; forced: boolean }
  | { ok: false; message: string };

/**
 * Picks the definition of `[lib:]NAME[!oid]` for a device of type `devOID` (spec §4.3): from the
 * device's OID, drop one level at a time ("1.3.1" → "1.3" → "1") and take the first library (in
 * MAPI_LIBRARIES order, or only `lib`) with a definition of exactly that name and devtype. `!oid`
 * forces the subtree: levels shorter than the forced OID are not searched.
 */
export function selectMapiFunction(name: string, devOID: string): Selected {
  const m = /^(?:([A-Za-z0-9_]+):)?([A-Za-z0-9_]+)(?:!([0-9]+(?:\.[0-9]+)*))?$/.exec(name);
  if (!m) return { ok: false, message: `${JSON.stringify(name)} is not a function name of the form [lib:]NAME[!oid]` };
  const [, lib, bare, forced] = m;
  if (forced !== undefined && !(devOID === forced || devOID.startsWith(`${forced}.`))) {
    return { ok: false, message: `${bare}!${forced}: the device's type ${devOID} is not under OID ${forced}` };
  }
  const defs = allDefinitions().filter((d) => d.name === bare && (lib === undefined || libraryOf(d) === lib));
  if (defs.length === 0) {
    return { ok: false, message: `no MAPI function ${JSON.stringify(bare)}${lib ? ` in library ${lib}` : ''}` };
  }
  const levels = devOID.split('.');
  for (let n = levels.length; n >= 1; n--) {
    const oid = levels.slice(0, n).join('.');
    if (forced !== undefined && oid.length < forced.length) break;
    const def = defs.find((d) => devtypeOf(d) === oid);
    if (def) return { ok: true, def, devtype: oid, forced: forced !== undefined };
  }
  return { ok: false, message: `no implementation of ${bare} for device type ${devOID}${forced ? ` under ${forced}` : ''}` };
}
