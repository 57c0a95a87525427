/** The MAPI functions fplc ships, by name (what `mapi_apply_function` may name). */
import { BPF_FILTER } from './mapi-bpf-filter.js';
import { BYTE_COUNTER } from './mapi-byte-counter.js';
import { FPL_FILTER } from './mapi-fpl-filter.js';
import { GAP } from './mapi-gap.js';
import { HASH } from './mapi-hash.js';
import { PKT_COUNTER } from './mapi-pkt-counter.js';
import { PKT_INFO, PKTINFO } from './mapi-pktinfo.js';
import { SAMPLE } from './mapi-sample.js';
import { STR_SEARCH } from './mapi-str-search.js';
import { TO_BUFFER } from './mapi-to-buffer.js';
import type { MapiFunctionDef } from './mapi-types.js';

export const MAPI_FUNCTIONS: readonly MapiFunctionDef<any>[] = [
  BPF_FILTER, PKT_COUNTER, BYTE_COUNTER, PKTINFO, PKT_INFO, GAP, HASH, SAMPLE, STR_SEARCH, TO_BUFFER, FPL_FILTER,
];

const BY_NAME = new Map(MAPI_FUNCTIONS.map((f) => [f.name, f]));

/** A MAPI function by name (`[lib:]NAME[!oid]`: the library and devOID parts are accepted and ignored). */
export function mapiFunction(name: string): MapiFunctionDef<any> | undefined {
  const bare = name.replace(/^[A-Za-z0-9_]+:/, '').replace(/![0-9.]*$/, '');
  return BY_NAME.get(bare);
}
