/** MAPI constants and error codes (spec/mapi.md §1.1), with the texts MAPI programs expect. */

export const MFF_PCAP = 0;
export const MFF_RAW = 1;
export const MFF_DAG_ERF = 2;
export const MFF_COMBO6 = 3;
export const MFF_NAPATECH = 4;

export const FLOW_INIT = 0;
export const FLOW_ACTIVE = 1;
export const FLOW_FINISHED = 2;
export const FLOW_CLOSED = 3;
export type FlowStatus = typeof FLOW_INIT | typeof FLOW_ACTIVE | typeof FLOW_FINISHED | typeof FLOW_CLOSED;

export const DEVICE_ONLINE = 0;
export const DEVICE_SETUP = 1;
export const DEVICE_READING = 2;
export const DEVICE_FINISHED = 3;
export const DEVICE_DELETED = 4;

export { WAIT, NOWAIT } from '../../hostfns/mapi-to-buffer.js';
export { PKT_TS, PKT_SIZE } from '../../hostfns/mapi-pktinfo.js';
export { PERIODIC, PROBABILISTIC } from '../../hostfns/mapi-sample.js';
export {
  TOPX_ICMP, TOPX_IP_TOS, TOPX_IP_LENGTH, TOPX_IP_ID, TOPX_IP_OFFSET, TOPX_IP_TTL, TOPX_IP_PROTOCOL, TOPX_IP_CHECKSUM,
  TOPX_IP_SRCIP, TOPX_IP_DSTIP, TOPX_TCP_SRCPORT, TOPX_TCP_DSTPORT, TOPX_TCP_SEQ, TOPX_TCP_ACK, TOPX_TCP_FLAGS,
  TOPX_TCP_WIN, TOPX_TCP_CHECKSUM, TOPX_TCP_URGENT, TOPX_UDP_SRCPORT, TOPX_UDP_DSTPORT, TOPX_UDP_LENGTH,
  TOPX_UDP_CHECKSUM, SORT_BY_PACKETS, SORT_BY_BYTES, TOP_MAX_X, TOP_TABLE_ENTRIES, type TopEntry,
} from '../../hostfns/mapi-top.js';
export { R2F_RAW, R2F_ULLSTR, R2F_ULLSEC, R2F_STATS } from '../../hostfns/mapi-res2file.js';
export { HASHSAMP_RING, type HashSample } from '../../hostfns/mapi-hashsamp.js';
export { BUCKET_RING, type BucketRecord } from '../../hostfns/mapi-bucket.js';
export {
  TYPE_CHAR, TYPE_INT, TYPE_UNSIGNED_LONG_LONG, TR_POLL, TR_MW, EQUAL_BOUND, GT_BOUND, LT_BOUND, EQUAL_D_BOUND, GT_D_BOUND,
  LT_D_BOUND, type ThresholdEvent, type ThresholdResult,
} from '../../hostfns/mapi-threshold.js';

export const MAPI_ERRORS = {
  PCAP_BPF_ERROR: 1025,
  MAPID_FLOW_ACTIVE: 3081,
  MAPID_NO_DRIVER: 3200,
  MAPID_NO_FD: 3201,
  MAPID_NO_DEVICE: 3202,
  STR_UNTERMINATED_PIPE: 3503,
  STR_DEPTH_TOO_SMALL: 3504,
  STR_INVALID: 3505,
  MCOM_NOT_CONNECTED: 6143,
  MCOM_FUNCTION_NOT_FOUND: 6144,
  MCOM_INVALID_FLOW: 6145,
  MCOM_INVALID_ID: 6147,
  MCOM_NULL_ARGUMENT: 6157,
  MCOM_FILE_OPEN: 6155,
  MFUNCT_INVALID_ARGUMENT: 7000,
  MFUNCT_INVALID_ARGUMENT_1: 7001,
  MFUNCT_INVALID_ARGUMENT_2: 7002,
  MFUNCT_INVALID_ARGUMENT_3: 7003,
  MFUNCT_INVALID_ARGUMENT_4: 7004,
  MFUNCT_INVALID_ARGUMENT_5: 7005,
  MFUNCT_COULD_NOT_APPLY: 7006,
  MFUNCT_COULD_NOT_INIT: 7007,
  MFUNCT_NOT_SUPPORTED: 7009,
  MFUNCT_INVALID_ARGUMENT_DESCRIPTOR: 7010,
  MFUNCT_INVALID_ARGUMENT_6: 7011,
} as const;

/** The short text of each code (the part before the detail). */
export const MAPI_ERROR_TEXT: Readonly<Record<number, string>> = {
  1025: 'BPF filter error',
  3081: 'Flow already active',
  3200: 'No driver for the device',
  3201: 'No file descriptor',
  3202: 'No such device',
  3503: 'STR_SEARCH: unterminated pipe',
  3504: 'STR_SEARCH: depth is smaller than the pattern',
  3505: 'STR_SEARCH: invalid string',
  6143: 'Flow is not connected',
  6144: 'Function not found',
  6145: 'Invalid flow',
  6147: 'Invalid flow descriptor or function id',
  6155: 'Could not open the file',
  6157: 'Null argument',
  7000: 'Invalid function argument',
  7001: 'Invalid function argument 1',
  7002: 'Invalid function argument 2',
  7003: 'Invalid function argument 3',
  7004: 'Invalid function argument 4',
  7005: 'Invalid function argument 5',
  7006: 'Could not apply the function',
  7007: 'Could not initialise the function',
  7009: 'Not supported',
  7010: 'Invalid argument descriptor',
  7011: 'Invalid function argument 6',
};

/** A MAPI error: its code and a message that says which argument or id was wrong and why. */
export class MapiError extends Error {
  constructor(readonly code: number, message: string) {
    super(`${MAPI_ERROR_TEXT[code] ?? `MAPI error ${code}`}: ${message}`);
    this.name = 'MapiError';
  }
}
