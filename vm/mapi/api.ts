/**
 * The MAPI API twice over the same core (device.ts): the C-shaped names for people porting MAPI
 * programs (errors: -1 / null plus `mapi_read_error`), and an idiomatic TypeScript API (Device,
 * Flow; errors thrown as MapiError). Calls that compile or wait return promises.
 */
import type { MapiPkt } from '../../hostfns/mapi-to-buffer.js';
import { FLOW_INIT, MapiError, MFF_PCAP, type FlowStatus } from './constants.js';
import { hostname } from 'node:os';
import { libraryOf } from '../../hostfns/lib/library.js';
import { FunctionInstance, MapiDevice, MapiFlow, type DeviceOptions } from './device.js';

// ---- process-wide tables (MAPI's client library state) ----

const devices = new Map<string, MapiDevice>();
const flows = new Map<number, MapiFlow>();
let lastError: { code: number; message: string } = { code: 0, message: '' };

function fail(e: unknown): void {
  if (e instanceof MapiError) lastError = { code: e.code, message: e.message };
  else lastError = { code: 7000, message: `internal error: ${(e as Error)?.message ?? String(e)}` };
}

/** Runs a call, turning a MapiError into the pending error and `failed`. */
function guard<T, F>(failed: F, body: () => T): T | F {
  try {
    return body();
  } catch (e) {
    fail(e);
    return failed;
  }
}

async function guardAsync<T, F>(failed: F, body: () => Promise<T>): Promise<T | F> {
  try {
    return await body();
  } catch (e) {
    fail(e);
    return failed;
  }
}

function flowOf(fd: unknown, badCode = 6145): MapiFlow {
  const flow = typeof fd === 'number' && Number.isInteger(fd) && fd > 0 ? flows.get(fd) : undefined;
  if (!flow) throw new MapiError(badCode, `argument 1 (fd): ${String(fd)} is not an open flow`);
  return flow;
}

function deviceOf(name: unknown): MapiDevice {
  if (typeof name !== 'string') throw new MapiError(6157, 'argument 1 (device) must be a device name string');
  const dev = devices.get(name);
  if (!dev) throw new MapiError(3200, `argument 1 (device): no device ${JSON.stringify(name)}`);
  return dev;
}

function forget(dev: MapiDevice): void {
  devices.delete(dev.name);
  for (const [fd, f] of flows) if (f.device === dev) flows.delete(fd);
}

/**
 * Applies a function, then moves it if it asks to run before another function of its flow
 * (RES2FILE, periodic BUCKET): just before the function with that id (spec §7: an id, not a list index).
 */
function applyInPlace(flow: MapiFlow, name: unknown, args: readonly unknown[]): number {
  const fid = flow.device.apply(flow, name, args);
  const inst = flow.instance(fid)!;
  const before = inst.def.moveBefore?.(inst.config);
  const target = before === undefined ? -1 : flow.functions.findIndex((f) => f.fid === before);
  if (target >= 0) {
    flow.functions.splice(flow.functions.indexOf(inst), 1);
    flow.functions.splice(target, 0, inst);
  }
  return fid;
}

// ---- C-shaped API ----

/** Opens a capture file as an offline device; returns its name `"<path>@<n>"`, or null. */
export function mapi_create_offline_device(path: string, format: number = MFF_PCAP, opts: DeviceOptions = {}): string | null {
  return guard(null, () => {
    if (format !== MFF_PCAP) throw new MapiError(3200, `argument 2 (format): no driver for format ${String(format)}; MFF_PCAP (0) reads pcap and pcapng`);
    const dev = MapiDevice.offline(path, opts);
    devices.set(dev.name, dev);
    return dev.name;
  });
}

export function mapi_start_offline_device(dev: string): number {
  return guard(-1, () => { deviceOf(dev).start(); return 0; });
}

export function mapi_delete_offline_device(dev: string): number {
  return guard(-1, () => {
    const d = deviceOf(dev);
    d.delete();
    forget(d);
    return 0;
  });
}

/** Creates a flow on a device; returns its fd, or -1. */
export function mapi_create_flow(dev: string): number {
  return guard(-1, () => {
    const flow = deviceOf(dev).createFlow();
    flows.set(flow.fd, flow);
    return flow.fd;
  });
}

/** Applies a function to a flow that is not connected; returns its fid, or -1. */
export function mapi_apply_function(fd: number, name: string, ...args: unknown[]): number {
  return guard(-1, () => {
    return applyInPlace(flowOf(fd), name, args);
  });
}

/** Connects a flow (the device's module is rebuilt with it); resolves to 0, or -1. */
export function mapi_connect(fd: number): Promise<number> {
  return guardAsync(-1, async () => {
    const flow = flowOf(fd);
    await flow.device.connect(flow);
    return 0;
  });
}

export function mapi_close_flow(fd: number): Promise<number> {
  return guardAsync(-1, async () => {
    const flow = flowOf(fd);
    flows.delete(fd);
    await flow.device.close(flow);
    return 0;
  });
}

export interface MapiResults { res: unknown; ts: bigint; size: number }

/**
 * A function's result: `res` (u64 results as bigint), `ts` the time of the last packet the
 * device processed (µs since the epoch), `size` the result's size in bytes. null on error.
 */
export function mapi_read_results(fd: number, fid: number): MapiResults | null {
  return guard(null, () => {
    if (!(typeof fid === 'number' && Number.isInteger(fid) && fid > 0)) throw new MapiError(6145, `argument 2 (fid): ${String(fid)} is not a function id`);
    const flow = flowOf(fd);
    return flow.device.read(flow, fid);
  });
}

/** The next packet of a TO_BUFFER function; null at the end of the trace, when empty with NOWAIT, or on error. */
export function mapi_get_next_pkt(fd: number, fid: number): Promise<MapiPkt | null> {
  return guardAsync(null, async () => {
    if (!(typeof fd === 'number' && fd > 0) || !(typeof fid === 'number' && fid > 0)) {
      throw new MapiError(6147, `fd and fid must be positive integers, not ${String(fd)} and ${String(fid)}`);
    }
    const flow = flowOf(fd);
    return flow.device.nextPacket(flow, fid);
  });
}

/** Calls `cb` for `cnt` packets (every packet when cnt <= 0); resolves to 0 at the end, or -1. */
export function mapi_loop(fd: number, fid: number, cnt: number, cb: (pkt: MapiPkt) => void): Promise<number> {
  return guardAsync(-1, async () => {
    if (typeof cb !== 'function') throw new MapiError(7004, 'argument 4 (callback) must be a function');
    const flow = flowOf(fd, 6147);
    for (let i = 0; cnt <= 0 || i < cnt; i++) {
      const p = await flow.device.nextPacket(flow, fid);
      if (!p) break;
      cb(p);
    }
    return 0;
  });
}

/** The last error (code 0 when none) and its text; clears it. */
export function mapi_read_error(): { code: number; message: string } {
  const e = lastError;
  lastError = { code: 0, message: '' };
  return e;
}

export interface MapiFlowInfo { fd: number; devid: number; device: string; num_functions: number; status: FlowStatus }

export function mapi_get_flow_info(fd: number): MapiFlowInfo | null {
  return guard(null, () => {
    const flow = flowOf(fd);
    return { fd: flow.fd, devid: -flow.device.id, device: flow.device.name, num_functions: flow.functions.length, status: flow.status };
  });
}

/** `mapi_get_next_flow_info`: the open flow with the smallest fd greater than `fd`. */
export function mapi_get_next_flow_info(fd: number): MapiFlowInfo | null {
  return guard(null, () => {
    const next = [...flows.keys()].filter((k) => k > fd).sort((x, y) => x - y)[0];
    if (next === undefined) throw new MapiError(6145, `argument 1 (fd): no open flow after ${String(fd)}`);
    return mapi_get_flow_info(next) ?? (() => { throw new MapiError(6145, `flow ${next} vanished`); })();
  });
}

export interface MapiFunctionInfo {
  fid: number; name: string; libname: string; devtype: string;
  /** Packets that reached the function and packets it passed on (MAPI's funcstats). */
  pkts: bigint; passed_pkts: bigint; result_size: number;
}

function functionInfo(flow: MapiFlow, inst: FunctionInstance): MapiFunctionInfo {
  const counts = flow.device.functionCounts(inst);
  let size = 0;
  try { size = flow.status === FLOW_INIT ? 0 : flow.device.read(flow, inst.fid).size; } catch { size = 0; }
  return { fid: inst.fid, name: inst.def.name, libname: libraryOf(inst.def), devtype: inst.devtype, pkts: counts.pkts, passed_pkts: counts.passed, result_size: size };
}

export function mapi_get_function_info(fd: number, fid: number): MapiFunctionInfo | null {
  return guard(null, () => {
    const flow = flowOf(fd);
    const inst = flow.instance(fid);
    if (!inst) throw new MapiError(6147, `argument 2 (fid): flow ${fd} has no function ${String(fid)}`);
    return functionInfo(flow, inst);
  });
}

/** The function applied after `fid` on the flow (in apply order). */
export function mapi_get_next_function_info(fd: number, fid: number): MapiFunctionInfo | null {
  return guard(null, () => {
    const flow = flowOf(fd);
    const i = flow.functions.findIndex((f) => f.fid === fid);
    const next = i < 0 ? flow.functions.find((f) => f.fid > fid) : flow.functions[i + 1];
    if (!next) throw new MapiError(6147, `argument 2 (fid): flow ${fd} has no function after ${String(fid)}`);
    return functionInfo(flow, next);
  });
}

export interface MapiDeviceInfo {
  id: number; device: string; name: string; alias: string; description: string;
  /** The device type OID functions are selected by. */
  devtype: string; link_speed: number; mpls: number; vlan: number;
}

const deviceInfo = (d: MapiDevice): MapiDeviceInfo => ({
  id: -d.id, device: d.name, name: d.path, alias: '', description: d.description, devtype: d.devOID, link_speed: 0, mpls: 0, vlan: 0,
});

function deviceById(devid: unknown): MapiDevice {
  const d = [...devices.values()].find((x) => x.id === devid || -x.id === devid);
  if (!d) throw new MapiError(3202, `argument 1 (devid): no device ${String(devid)}`);
  return d;
}

/** A device's description; offline devices have negative ids (MAPI's −n), either sign is accepted. */
export function mapi_get_device_info(devid: number): MapiDeviceInfo | null {
  return guard(null, () => deviceInfo(deviceById(devid)));
}

/** The device after `devid` (in creation order). */
export function mapi_get_next_device_info(devid: number): MapiDeviceInfo | null {
  return guard(null, () => {
    const n = Math.abs(devid);
    const next = [...devices.values()].filter((d) => d.id > n).sort((a, b) => a.id - b.id)[0];
    if (!next) throw new MapiError(3202, `argument 1 (devid): no device after ${String(devid)}`);
    return deviceInfo(next);
  });
}

export interface MapiStat { ps_recv: bigint; ps_drop: bigint; ps_ifdrop: bigint; hostname: string; dev: string }

/** Packets a device received (processed) and dropped (an offline device drops none). */
export function mapi_stats(dev: string): MapiStat | null {
  return guard(null, () => {
    const d = deviceOf(dev);
    return { ps_recv: d.packets, ps_drop: 0n, ps_ifdrop: 0n, hostname: hostname(), dev: d.name };
  });
}

// ---- idiomatic API ----

export class Device {
  private constructor(readonly core: MapiDevice) {}

  /** Opens a pcap or pcapng file as an offline device. */
  static async offline(path: string, opts: DeviceOptions = {}): Promise<Device> {
    return new Device(MapiDevice.offline(path, opts));
  }

  get name(): string { return this.core.name; }
  /** The device type OID functions are selected by. */
  get devOID(): string { return this.core.devOID; }
  get linkType(): number { return this.core.linkType; }
  /** Packets processed so far. */
  get packets(): bigint { return this.core.packets; }
  /** The malformed record that ended the trace early, if any. */
  get error(): Error | undefined { return this.core.error; }

  flow(): Flow { return new Flow(this.core.createFlow()); }
  async start(): Promise<void> { this.core.start(); }
  finished(): Promise<void> { return this.core.finished(); }
  delete(): void { this.core.delete(); }
}

export class Flow {
  constructor(private readonly core: MapiFlow) {}

  get fd(): number { return this.core.fd; }
  get status(): FlowStatus { return this.core.status; }
  get connected(): boolean { return this.core.status !== FLOW_INIT; }

  /** Applies a function; returns its fid (throws MapiError). */
  apply(name: string, ...args: unknown[]): number { return applyInPlace(this.core, name, args); }
  connect(): Promise<void> { return this.core.device.connect(this.core); }
  close(): Promise<void> { return this.core.device.close(this.core); }
  /** A function's result value (u64 results as bigint). */
  read(fid: number): unknown { return this.core.device.read(this.core, fid).res; }
  /** The next packet of a TO_BUFFER function, null at the end of the trace. */
  nextPacket(fid: number): Promise<MapiPkt | null> { return this.core.device.nextPacket(this.core, fid); }
  /** A function's name, library, devtype and packet counts. */
  info(fid: number): MapiFunctionInfo {
    const inst = this.core.instance(fid);
    if (!inst) throw new MapiError(6147, `argument 1 (fid): flow ${this.fd} has no function ${String(fid)}`);
    return functionInfo(this.core, inst);
  }
  /** Every remaining packet of a TO_BUFFER function. */
  async *packets(fid: number): AsyncGenerator<MapiPkt> {
    for (let p = await this.nextPacket(fid); p; p = await this.nextPacket(fid)) yield p;
  }
}
