/** The MAPI API: C-shaped calls, the idiomatic Device/Flow API, constants and the function library. */
export * from './constants.js';
export {
  mapi_create_offline_device, mapi_start_offline_device, mapi_delete_offline_device, mapi_create_flow, mapi_apply_function,
  mapi_connect, mapi_close_flow, mapi_read_results, mapi_get_next_pkt, mapi_loop, mapi_read_error, mapi_get_flow_info,
  Device, Flow, type MapiResults, type MapiFlowInfo,
} from './api.js';
export type { DeviceOptions } from './device.js';
export type { MapiPkt } from '../../hostfns/mapi-to-buffer.js';
export { MAPI_FUNCTIONS, mapiFunction } from '../../hostfns/mapi-library.js';
export type { MapiFunctionDef } from '../../hostfns/mapi-types.js';
