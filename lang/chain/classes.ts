/**
 * FFPF class names → MAPI functions. A class name is matched without regard to case; a name
 * that is not in this table is taken as a MAPI function name as it is (`(PKT_COUNTER)`,
 * `(TO_BUFFER, 0)`), its arguments typed by how they are written (numbers, words, strings).
 *
 * | class                              | MAPI function | parameters (default)                  |
 * |------------------------------------|---------------|---------------------------------------|
 * | device                             | —  the source | name (the capture replaces it)        |
 * | sampler, sample                    | SAMPLE        | value, mode (PERIODIC = 2)            |
 * | bpf, bpf_filter                    | BPF_FILTER    | expr (a libpcap expression)           |
 * | fpl, fpl_filter                    | FPL_FILTER    | program (FPL source)                  |
 * | packetcount, pktcount, pkt_counter | PKT_COUNTER   | —                                     |
 * | bytecount, byte_counter            | BYTE_COUNTER  | —                                     |
 * | strsearch, str_search              | STR_SEARCH    | pattern, offset (0), depth (0: to end)|
 * | hash                               | HASH          | layer (0)                             |
 * | gap                                | GAP           | —                                     |
 * | pktinfo, pkt_info                  | PKTINFO       | info (PKT_TS = 0, PKT_SIZE = 1)       |
 */
export type ParamKind = 'int' | 'string';

export interface ChainParam { name: string; kind: ParamKind; default?: string | number }

export interface ChainClass { fn: string; params: readonly ChainParam[] }

const int = (name: string, def?: number): ChainParam => (def === undefined ? { name, kind: 'int' } : { name, kind: 'int', default: def });
const str = (name: string): ChainParam => ({ name, kind: 'string' });

const TABLE: [string[], ChainClass][] = [
  [['sampler', 'sample'], { fn: 'SAMPLE', params: [int('value'), int('mode', 2)] }],
  [['bpf', 'bpf_filter'], { fn: 'BPF_FILTER', params: [str('expr')] }],
  [['fpl', 'fpl_filter'], { fn: 'FPL_FILTER', params: [str('program')] }],
  [['packetcount', 'pktcount', 'pkt_counter'], { fn: 'PKT_COUNTER', params: [] }],
  [['bytecount', 'byte_counter'], { fn: 'BYTE_COUNTER', params: [] }],
  [['strsearch', 'str_search'], { fn: 'STR_SEARCH', params: [str('pattern'), int('offset', 0), int('depth', 0)] }],
  [['hash'], { fn: 'HASH', params: [int('layer', 0)] }],
  [['gap'], { fn: 'GAP', params: [] }],
  [['pktinfo', 'pkt_info'], { fn: 'PKTINFO', params: [int('info')] }],
];

const BY_NAME = new Map<string, ChainClass>(TABLE.flatMap(([names, cls]) => names.map((n) => [n, cls] as [string, ChainClass])));

/** The class of a name (case-insensitive), or undefined: then the name is a MAPI function name. */
export function chainClass(name: string): ChainClass | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Every class name, for messages. */
export const CHAIN_CLASS_NAMES: readonly string[] = ['device', ...TABLE.flatMap(([names]) => names)];

/** MAPI constants an integer argument may be written as. */
export const CHAIN_CONSTANTS: Readonly<Record<string, number>> = {
  PERIODIC: 2, PROBABILISTIC: 3, PKT_TS: 0, PKT_SIZE: 1, WAIT: 0, NOWAIT: 1,
};
