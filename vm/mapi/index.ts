/** The MAPI API: C-shaped calls, the idiomatic Device/Flow API, constants and the function library. */
export * from './constants.js';
export {
  mapi_create_offline_device, mapi_start_offline_device, mapi_delete_offline_device, mapi_create_flow, mapi_apply_function,
  mapi_connect, mapi_close_flow, mapi_read_results, mapi_get_next_pkt, mapi_loop, mapi_read_error, mapi_get_flow_info,
  Device, Flow, type MapiResults, type MapiFlowInfo,
  mapi_get_next_flow_info, mapi_get_function_info, mapi_get_next_function_info, mapi_get_device_info, mapi_get_next_device_info,
  mapi_stats, type MapiFunctionInfo, type MapiDeviceInfo, type MapiStat,
} from './api.js';
export { DEVOID_ALL, DEVOID_NIC } from './device.js';
export type { DeviceOptions } from './device.js';
export type { MapiPkt } from '../../hostfns/mapi-to-buffer.js';
export { MAPI_FUNCTIONS, MAPI_LIBRARIES, mapiFunction, registerMapiFunction, unregisterMapiFunction, selectMapiFunction } from '../../hostfns/lib/library.js';
export { BINOP_ADD, BINOP_SUB } from '../../hostfns/mapi-binop.js';
export { TOPX_IP, TOPX_TCP, TOPX_UDP } from '../../hostfns/mapi-protinfo.js';
export { MFF_PCAPNG } from '../../hostfns/mapi-to-file.js';
export type { StatsResult } from '../../hostfns/mapi-stats.js';
export { parseTimeString } from '../../hostfns/lib/time.js';
export type { MapiFunctionDef } from '../../hostfns/lib/types.js';
export { runFlowGraph, formatFlowRun, formatFlowRunJson, type FlowRun, type FlowResult, type FlowFunctionResult } from './graph.js';
export { compileChain } from '../../lang/chain/index.js';
