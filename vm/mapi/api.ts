/**
 * The MAPI API twice over the same core (device.ts): the C-shaped names for people porting MAPI
 * programs (errors: -1 / null plus `mapi_read_error`), and an idiomatic TypeScript API (Device,
 * Flow; errors thrown as MapiError). Calls that compile or wait return promises.
 */
import type { MapiPkt } from '../../hostfns/mapi-to-buffer.js';
import { FLOW_INIT, MapiError, MFF_PCAP, type FlowStatus } from './constants.js';
import { MapiDevice, MapiFlow, type DeviceOptions } from './device.js';

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
    const flow = flowOf(fd);
    return flow.device.apply(flow, name, args);
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

// ---- idiomatic API ----

export class Device {
  private constructor(readonly core: MapiDevice) {}

  /** Opens a pcap or pcapng file as an offline device. */
  static async offline(path: string, opts: DeviceOptions = {}): Promise<Device> {
    return new Device(MapiDevice.offline(path, opts));
  }

  get name(): string { return this.core.name; }
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
  apply(name: string, ...args: unknown[]): number { return this.core.device.apply(this.core, name, args); }
  connect(): Promise<void> { return this.core.device.connect(this.core); }
  close(): Promise<void> { return this.core.device.close(this.core); }
  /** A function's result value (u64 results as bigint). */
  read(fid: number): unknown { return this.core.device.read(this.core, fid).res; }
  /** The next packet of a TO_BUFFER function, null at the end of the trace. */
  nextPacket(fid: number): Promise<MapiPkt | null> { return this.core.device.nextPacket(this.core, fid); }
  /** Every remaining packet of a TO_BUFFER function. */
  async *packets(fid: number): AsyncGenerator<MapiPkt> {
    for (let p = await this.nextPacket(fid); p; p = await this.nextPacket(fid)) yield p;
  }
}
