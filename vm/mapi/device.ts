/**
 * The MAPI core: offline devices, their flows and function instances, and the one WebAssembly
 * module per device that runs every connected flow.
 *
 * Per packet the device program (vm/mapi/device-program.ts) does, for each active flow F_i in
 * order, `block F_i { step_1; step_2; … }`, where a step that rejects the packet exits F_i.
 * Function instances get their S[] words, registers and M[] cells when they are applied, from
 * the device's layout (vm/mapi/layout.ts: fixed-size areas), so every recompile (on connect and
 * close) has the same layout and runs in the same WebAssembly.Memory: the other flows keep their results.
 *
 * Faults. An IR fault (a load past the captured bytes, a division by zero) inside a flow's
 * block leaves that block only (`catchFaults`): the packet leaves that flow, and the next
 * flows still see it — all inside WebAssembly, with no JavaScript per packet.
 */
import { DEVICE_PIPELINE, runPipeline } from '../../lang/ir/pipeline.js';
import type { Program } from '../../lang/ir/ir.js';
import { validateProgram } from '../../lang/ir/validate.js';
import { linkTypeInfo, linkTypeName } from '../../lang/ir/linktypes.js';
import * as pcapFrontEnd from '../../lang/pcapfilter/index.js';
import * as fplFrontEnd from '../../lang/fpl/index.js';
import type { CaptureInfo } from '../../drivers/types.js';
import { fileFeed, type CaptureFeed } from '../feed.js';
import { selectMapiFunction } from '../../hostfns/lib/library.js';
import { RING_PACKETS, TO_BUFFER, type MapiPkt, type ToBufferConfig } from '../../hostfns/mapi-to-buffer.js';
import { read64, type MapiApplyContext, type MapiFunctionDef, type MapiValue, type MapiValueContext } from '../../hostfns/lib/types.js';
import { u64Access } from '../../hostfns/lib/u64.js';
import type { ExternImpl } from '../../abi/index.js';
import { CompiledFilter } from '../filter.js';
import { FRONT_ENDS, filterCompilers, type FilterCompilers } from '../frontends.js';
import { MAPI_MAX_FUNCTIONS_PER_FLOW } from '../../lang/ir/limits.js';
import { checkArguments } from './args.js';
import {
  DEVICE_DELETED, DEVICE_FINISHED, DEVICE_READING, DEVICE_SETUP, FLOW_ACTIVE, FLOW_CLOSED, FLOW_FINISHED, FLOW_INIT,
  MapiError, type FlowStatus,
} from './constants.js';
import { buildCookedProgram, buildDeviceProgram, type DeviceProgram, type DeviceProgramTarget } from './device-program.js';
import { DEVICE_BATCH_BYTES, DEVICE_TABLES_BYTES, DeviceLayout } from './layout.js';

export { DEVICE_FUEL, DEVICE_MEMORY_CELLS, DEVICE_STATE_WORDS } from './layout.js';

let deviceCounter = 0;
/** MAPI devtype OIDs (spec §4.2). */
export const DEVOID_ALL = '1';
export const DEVOID_NIC = '1.3';
let fdCounter = 0;

export interface DeviceOptions {
  /** Seed of the probabilistic functions (SAMPLE mode 3); default a fixed value, so runs repeat. */
  seed?: number;
  /** The device type OID functions are selected by (spec §4.3); offline traces are read by the NIC driver: "1.3". */
  devOID?: string;
  /** Free text for mapi_get_device_info. */
  description?: string;
}

export class FunctionInstance {
  /** Instances whose u64 results this one reads (BINOP, STATS, …), and how many read this one. */
  readonly references: FunctionInstance[] = [];
  referencedBy = 0;
  /** Its flow was closed while other instances still read it: its words are freed with the last reader. */
  orphaned = false;
  /** Its `finish` hook ran (end of trace or flow closed). */
  finished = false;
  /**
   * The instance before it in its flow: the packets that reach this one are those the previous
   * one passed (not counted again per packet), plus what its own reached counter holds — only
   * the reassembled units a COOKING before it hands on.
   */
  previous: FunctionInstance | undefined;
  constructor(readonly fid: number, readonly def: MapiFunctionDef<any>, readonly config: any,
    readonly stateBase: number, readonly stateWords: number, readonly regBase: number, readonly registers: number,
    readonly memBase: number, readonly memoryCells: number,
    /** Four state words: packets that reached the function, packets it passed (u64 each). */
    readonly countersBase: number, readonly devtype: string) {}
}

export class MapiFlow {
  private state: FlowStatus = FLOW_INIT;
  /** An active flow reads as finished once its device has read the whole trace (no pass over N flows at the end). */
  get status(): FlowStatus {
    return this.state === FLOW_ACTIVE && this.device.status === DEVICE_FINISHED ? FLOW_FINISHED : this.state;
  }
  set status(s: FlowStatus) { this.state = s; }
  /**
   * Device packets processed before the first module that runs this flow. Every later packet
   * reaches its first function, so that count is computed, not kept per packet (with N flows,
   * N increments per packet would stop flows from being dispatched; see lang/ir/passes/dispatch.ts).
   */
  packetsBefore: bigint | undefined;
  readonly functions: FunctionInstance[] = [];
  constructor(readonly fd: number, readonly device: MapiDevice) {}

  instance(fid: number): FunctionInstance | undefined {
    return this.functions.find((f) => f.fid === fid);
  }
}

export class MapiDevice {
  readonly id: number;
  readonly name: string;
  readonly linkType: number;
  readonly snaplen: number;
  readonly nanoseconds: boolean;
  /** The trace's byte order: BPF_FILTER reads DLT_NULL's AF word in it, as libpcap does for a file. */
  private readonly fileByteOrder: 'little' | 'big';
  /** BPF_FILTER's and FPL_FILTER's compilers, for this device's snaplen (vm/frontends.ts). */
  private readonly compilers: FilterCompilers;
  status = DEVICE_SETUP;
  /** The malformed record (or link-type change) that ended reading early, if any. */
  error: Error | undefined;
  readonly flows: MapiFlow[] = [];

  /** The device's memory, its R[], M[] and S[], and who has which part of them (vm/mapi/layout.ts). */
  private readonly layout: DeviceLayout;
  /** Live view of the device's S[]. */
  readonly state: Uint32Array;
  private nextFid = 1;
  private filter: CompiledFilter | undefined;
  /** Runs the steps after COOKING-like functions on the units they emit (buildCookedProgram). */
  private cookedFilter: CompiledFilter | undefined;
  /**
   * The instances the per-batch work looks at (TO_BUFFER rings, functions emitting cooked
   * units), taken from the active flows when the module is built: a device with thousands of
   * flows does not walk them all after every batch.
   */
  private buffers: FunctionInstance[] = [];
  private cookers: FunctionInstance[] = [];
  /** Active instances with a `finish` hook (the end of the trace runs only these, not every instance). */
  private finishers: FunctionInstance[] = [];
  private compiling: Promise<void> = Promise.resolve();
  private pendingCompiles = 0;
  private queuedRebuild: Promise<void> | undefined;
  private scheduled = false;
  private done: Promise<void>;
  private resolveDone!: () => void;
  private waiters: (() => void)[] = [];
  private readonly seed: number;
  readonly devOID: string;
  readonly description: string;

  /** The trace (vm/feed.ts: read in place where it can, by the general reader otherwise); one batch per tick. */
  private readonly trace: CaptureFeed;

  private constructor(readonly path: string, trace: CaptureFeed, opts: DeviceOptions) {
    this.id = ++deviceCounter;
    this.name = `${path}@${this.id}`;
    this.trace = trace;
    const info: CaptureInfo = trace.info;
    this.linkType = info.linkType;
    this.snaplen = info.snaplen;
    this.nanoseconds = info.nanoseconds;
    this.fileByteOrder = info.bigEndian ? 'big' : 'little';
    this.compilers = filterCompilers({ pcap: FRONT_ENDS.pcap.adapt(pcapFrontEnd), fpl: FRONT_ENDS.fpl.adapt(fplFrontEnd) }, this.snaplen, { fileByteOrder: this.fileByteOrder });
    this.seed = opts.seed ?? 0x2545f491;
    this.devOID = opts.devOID ?? DEVOID_NIC;
    this.description = opts.description ?? `offline trace ${path}`;
    this.layout = new DeviceLayout(this.linkType);
    this.state = this.layout.state;
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
  }

  /** Opens a capture file as an offline device (MFF_PCAP: pcap or pcapng). */
  static offline(path: string, opts: DeviceOptions = {}): MapiDevice {
    if (typeof path !== 'string' || path === '') throw new MapiError(6157, 'argument 1 (path) must be a non-empty string');
    let trace: CaptureFeed;
    try {
      trace = fileFeed(path);
    } catch (e) {
      throw new MapiError(6155, `argument 1 (path): cannot open ${JSON.stringify(path)} as a capture: ${(e as Error).message}`);
    }
    if (!linkTypeInfo(trace.info.linkType)) {
      trace.close();
      throw new MapiError(3200, `${path}: link type ${linkTypeName(trace.info.linkType)} (${trace.info.linkType}) is not supported`);
    }
    return new MapiDevice(path, trace, opts);
  }

  createFlow(): MapiFlow {
    if (this.status === DEVICE_DELETED) throw new MapiError(3200, `device ${this.name} was deleted`);
    const flow = new MapiFlow(++fdCounter, this);
    this.flows.push(flow);
    return flow;
  }

  /**
   * Validates and allocates a function instance on a flow that is not connected yet; returns its
   * fid. The definition is picked by the device's devOID (`[lib:]NAME[!oid]`, spec §4.3); a
   * hardware definition that cannot take the arguments (7006) falls back to software unless the
   * name forced its OID with `!`.
   */
  apply(flow: MapiFlow, name: unknown, args: readonly unknown[]): number {
    if (flow.status === FLOW_CLOSED) throw new MapiError(6145, `flow ${flow.fd} is closed`);
    if (flow.status !== FLOW_INIT) throw new MapiError(7006, `flow ${flow.fd} is already connected; apply functions before mapi_connect`);
    if (typeof name !== 'string') throw new MapiError(6144, `argument 2 (function name) must be a string, not ${typeof name}`);
    if (flow.functions.length >= MAPI_MAX_FUNCTIONS_PER_FLOW) {
      throw new MapiError(7006, `${name}: flow ${flow.fd} already has ${flow.functions.length} functions, the most one flow may have (MAPI_MAX_FUNCTIONS_PER_FLOW)`);
    }
    const picked = selectMapiFunction(name, this.devOID);
    if (!picked.ok) throw new MapiError(6144, `argument 2: ${picked.message}`);
    let def = picked.def;
    let r = this.instantiate(flow, def, args);
    if (!r.ok && r.code === 7006 && !picked.forced && picked.devtype !== '1') {
      const soft = selectMapiFunction(name, '1');
      if (soft.ok) { def = soft.def; r = this.instantiate(flow, def, args); }
    }
    if (!r.ok) throw new MapiError(r.code, r.message);
    const devtype = def.devtype ?? '1';
    const references = r.references;
    const words = def.stateWords(r.config);
    const nregs = def.registers?.(r.config) ?? 0;
    const cells = def.memoryCells?.(r.config) ?? 0;
    const at = this.layout.place(words, nregs, cells);
    if (!at) {
      def.cleanup?.(r.config);
      throw new MapiError(7006, `${def.name}: the device has no room left for it (${words} state words, ${nregs} registers, ${cells} M[] cells)`);
    }
    const { stateBase } = at;
    const inst = new FunctionInstance(this.nextFid++, def, r.config, stateBase, words, at.regBase, nregs, at.memBase, cells, at.countersBase, devtype);
    for (const ref of references) { inst.references.push(ref); ref.referencedBy++; }
    inst.previous = flow.functions[flow.functions.length - 1];
    def.init?.(r.config, this.state.subarray(stateBase, stateBase + words), { seed: (this.seed ^ Math.imul(inst.fid, 0x9e3779b9)) >>> 0 });
    flow.functions.push(inst);
    return inst.fid;
  }

  /** Runs a definition's argument check; collects the instances it references. */
  private instantiate(flow: MapiFlow, def: MapiFunctionDef<any>, args: readonly unknown[]):
    { ok: true; config: unknown; references: FunctionInstance[] } | { ok: false; code: number; message: string } {
    const bad = checkArguments(def, args);
    if (bad) return { ok: false, ...bad };
    const references: FunctionInstance[] = [];
    const r = def.instance(args, this.applyContext(flow, references));
    return r.ok ? { ok: true, config: r.config, references } : r;
  }

  private applyContext(flow: MapiFlow, references: FunctionInstance[]): MapiApplyContext {
    return {
      linkType: this.linkType, snaplen: this.snaplen, nanoseconds: this.nanoseconds, fd: flow.fd,
      compilePcap: (expr) => this.compilers.compilePcap(expr, this.linkType),
      compileFpl: (src) => this.compilers.compileFpl(src, this.linkType),
      u64Source: (fd, fid) => {
        const target = this.flows.find((f) => f.fd === fd);
        if (!target) return Number.isInteger(fd) && fd > 0 ? `flow ${fd} is not a flow of device ${this.name}` : 'the flow descriptor must be an integer > 0';
        if (target.status === FLOW_CLOSED) return `flow ${fd} is closed`;
        const inst = Number.isInteger(fid) ? target.instance(fid) : undefined;
        if (!inst) return `flow ${fd} has no function ${String(fid)} (apply it first)`;
        const access = u64Access(inst.def);
        if (!access) return `${inst.def.name} has no u64 result`;
        references.push(inst);
        const at = (local: () => number): MapiValueContext => ({ stateBase: inst.stateBase, local, nanoseconds: this.nanoseconds });
        return {
          label: `${inst.def.name} (fid ${inst.fid} of flow ${fd})`,
          read: (lo, hi, local) => access.value(inst.config, at(local), lo, hi),
          reset: access.reset ? (local) => access.reset!(inst.config, at(local)) : undefined,
        };
      },
      resultOf: (fd, fid) => {
        const inst = this.flows.find((f) => f.fd === fd && f.status !== FLOW_CLOSED)?.instance(fid);
        if (!inst) return `flow ${String(fd)} of device ${this.name} has no function ${String(fid)} (apply it first)`;
        references.push(inst);
        const read = () => inst.def.result?.(inst.config, this.instanceState(inst), this.resultContext(inst)) ?? { res: null, size: 0 };
        return { label: `${inst.def.name} (fid ${inst.fid} of flow ${fd})`, name: inst.def.name, read };
      },
    };
  }

  /** Makes the flow active: the device's module is rebuilt to include it. */
  async connect(flow: MapiFlow): Promise<void> {
    if (flow.status === FLOW_CLOSED) throw new MapiError(6145, `flow ${flow.fd} is closed`);
    if (flow.status !== FLOW_INIT) throw new MapiError(3081, `flow ${flow.fd} is already connected`);
    if (this.status === DEVICE_FINISHED || this.status === DEVICE_DELETED) {
      flow.status = FLOW_FINISHED;
      return;
    }
    flow.status = FLOW_ACTIVE;
    await this.rebuild();
  }

  async close(flow: MapiFlow): Promise<void> {
    if (flow.status === FLOW_CLOSED) throw new MapiError(6145, `flow ${flow.fd} is already closed`);
    const wasActive = flow.status === FLOW_ACTIVE;
    flow.status = FLOW_CLOSED;
    this.flows.splice(this.flows.indexOf(flow), 1);
    for (const f of flow.functions) {
      if (wasActive) this.finishInstance(f);
      if (f.referencedBy > 0) f.orphaned = true;   // still read by another flow's function
      else this.releaseInstance(f);
      if (f.def === TO_BUFFER) (f.config as ToBufferConfig).queue.clear();
    }
    this.wake();
    if (wasActive) await this.rebuild();
  }

  private releaseInstance(f: FunctionInstance): void {
    this.layout.release(f);
  }

  /** Packets that reached a function and packets it passed (MAPI's funcstats). */
  functionCounts(inst: FunctionInstance): { pkts: bigint; passed: bigint } {
    const passed = read64(this.state, inst.countersBase + 2);
    if (inst.previous) return { pkts: read64(this.state, inst.previous.countersBase + 2) + read64(this.state, inst.countersBase), passed };
    const first = this.flows.find((f) => f.functions[0] === inst);
    const pkts = first?.packetsBefore !== undefined ? this.packets - first.packetsBefore : read64(this.state, inst.countersBase);
    return { pkts, passed };
  }

  /** Starts reading the trace; packets are processed in batches between other work. */
  start(): void {
    if (this.status === DEVICE_DELETED) throw new MapiError(3202, `device ${this.name} was deleted`);
    if (this.status !== DEVICE_SETUP) throw new MapiError(3202, `device ${this.name} was already started`);
    this.status = DEVICE_READING;
    this.schedule();
  }

  /** Resolves when the whole trace has been processed (or the device is deleted). */
  finished(): Promise<void> {
    return this.done;
  }

  delete(): void {
    if (this.status === DEVICE_DELETED) throw new MapiError(3202, `device ${this.name} was already deleted`);
    this.status = DEVICE_DELETED;
    for (const flow of this.flows) {
      flow.status = FLOW_CLOSED;
      for (const f of flow.functions) f.def.cleanup?.(f.config);
    }
    this.flows.length = 0;
    this.closeTrace();
    this.resolveDone();
    this.wake();
  }

  /** The result of a function instance. */
  read(flow: MapiFlow, fid: number): { res: unknown; ts: bigint; size: number } {
    const inst = this.instanceOf(flow, fid);
    const value: MapiValue = inst.def.result
      ? inst.def.result(inst.config, this.state.subarray(inst.stateBase, inst.stateBase + inst.stateWords), this.resultContext(inst))
      : { res: null, size: 0 };
    return { ...value, ts: this.lastPacketMicros() };
  }

  /** Packets the device has processed. */
  get packets(): bigint {
    return this.layout.packets;
  }

  /**
   * The next packet of a TO_BUFFER instance: waits for one (flag WAIT) or returns null at once
   * when none is buffered (NOWAIT); null at the end of the trace.
   */
  async nextPacket(flow: MapiFlow, fid: number): Promise<MapiPkt | null> {
    const inst = this.instanceOf(flow, fid);
    if (inst.def !== TO_BUFFER) throw new MapiError(6147, `argument 2 (fid): function ${fid} is ${inst.def.name}, not TO_BUFFER`);
    const config = inst.config as ToBufferConfig;
    for (;;) {
      const p = config.queue.shift();
      if (p) {
        if (config.queue.length < RING_PACKETS) this.schedule();
        return p;
      }
      if (config.flag === 1 || flow.status !== FLOW_ACTIVE || this.status !== DEVICE_READING) return null;
      this.schedule();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private finishInstance(f: FunctionInstance): void {
    if (f.finished) return;
    f.finished = true;
    f.def.finish?.(f.config, this.instanceState(f), this.resultContext(f));
  }

  private resultContext(f: FunctionInstance) {
    return { nanoseconds: this.nanoseconds, memory: this.layout.memoryOf(f) };
  }

  private instanceState(f: FunctionInstance): Uint32Array {
    return this.layout.stateOf(f);
  }

  private instanceOf(flow: MapiFlow, fid: number): FunctionInstance {
    if (flow.status === FLOW_CLOSED) throw new MapiError(6145, `flow ${flow.fd} is closed`);
    if (flow.status === FLOW_INIT) throw new MapiError(6143, `flow ${flow.fd} is not connected`);
    const inst = Number.isInteger(fid) && fid > 0 ? flow.instance(fid) : undefined;
    if (!inst) throw new MapiError(6147, `argument 2 (fid): flow ${flow.fd} has no function ${String(fid)}`);
    return inst;
  }

  /** Time of the last packet processed, µs since the epoch (0 before the first). */
  private lastPacketMicros(): bigint {
    return this.layout.lastPacketMicros(this.nanoseconds);
  }

  // ---- compiling ----

  /**
   * Recompiles the device's module after the current compile. Requests made while one is
   * already queued (and not started) share it: connecting N flows at once compiles once or twice, not N times.
   */
  private rebuild(): Promise<void> {
    if (this.queuedRebuild) return this.queuedRebuild;
    this.pendingCompiles++;
    const next = this.compiling.then(async () => {
      this.queuedRebuild = undefined;   // from here on, a new request needs a new compile
      try {
        if (this.status === DEVICE_DELETED) return;
        const built = this.buildProgram();
        const tail = this.buildCookedProgram();
        // binaryen is loaded only when a device compiles (importing fplc must not pay for it).
        const { compileWasm } = await import('../../codegen/wasm/index.js');
        // Only the device program gets the tables area; the cooked tail, a second module on the
        // same memory, keeps its tables in code (its data segments would overwrite the first's).
        const load = async ({ program, externs }: { program: Program; externs: ExternImpl[] }, memoryTables: boolean) => {
          const problems = validateProgram(program);
          if (problems.length) throw new Error(`internal error: the device program is invalid: ${problems.slice(0, 3).join('; ')}`);
          // The device pipeline's IR passes (lang/ir/pipeline.ts), then the backend.
          const mod = compileWasm(runPipeline(program, DEVICE_PIPELINE),
            { batchBytes: DEVICE_BATCH_BYTES, tablesReserve: DEVICE_TABLES_BYTES, memoryTables });
          return CompiledFilter.load(mod.wasm, { memory: this.layout.memory, externs });
        };
        this.filter = await load(built, true);
        const active = this.flows.filter((f) => f.status === FLOW_ACTIVE).flatMap((f) => f.functions);
        this.buffers = active.filter((f) => f.def === TO_BUFFER);
        this.cookers = active.filter((f) => f.def.cooked);
        this.finishers = active.filter((f) => f.def.finish);
        this.cookedFilter = tail ? await load(tail, false) : undefined;
      } finally {
        this.pendingCompiles--;
        this.schedule();
      }
    });
    this.compiling = next.catch(() => undefined);
    this.queuedRebuild = next;
    return next;
  }

  /** The device program (vm/mapi/device-program.ts): every active flow's chain, in flow order. */
  buildProgram(): DeviceProgram {
    const active = this.flows.filter((f) => f.status === FLOW_ACTIVE);
    // No packet runs between this build and its module's start (the device waits for compiles).
    for (const flow of active) flow.packetsBefore ??= this.packets;
    return buildDeviceProgram(active.map((f) => f.functions), this.programTarget());
  }

  /** The program run on the units COOKING-like functions emit (vm/mapi/device-program.ts). */
  buildCookedProgram(): DeviceProgram | undefined {
    return buildCookedProgram(this.flows.filter((f) => f.status === FLOW_ACTIVE).map((f) => f.functions), this.programTarget());
  }

  private programTarget(): DeviceProgramTarget {
    return { linkType: this.linkType, nanoseconds: this.nanoseconds, deviceId: this.id, deviceName: this.name };
  }

  /**
   * Runs the units that functions such as COOKING emitted during the last batch through the
   * rest of their flows. Units emitted while doing so (a COOKING after a COOKING) run in the next round.
   */
  private drainCooked(): void {
    for (let round = 0; round < 16; round++) {
      let ran = false;
      for (const f of this.cookers) {
        const records = f.def.cooked!(f.config).take();
        if (!records) continue;
        ran = true;
        if (!this.cookedFilter) continue;
        this.state[f.stateBase] = 1;
        try {
          this.cookedFilter.runRecords(records);
        } finally {
          this.state[f.stateBase] = 0;
        }
      }
      if (!ran) return;
    }
  }

  // ---- processing ----

  private schedule(): void {
    if (this.scheduled || this.status !== DEVICE_READING) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.tick();
    });
  }

  /** Paused while the module is being rebuilt, or while a TO_BUFFER holds a full ring. */
  private paused(): boolean {
    if (this.pendingCompiles > 0) return true;
    return this.buffers.some((f) => (f.config as ToBufferConfig).queue.length >= RING_PACKETS);
  }

  /** Processes one batch. */
  private tick(): void {
    if (this.status !== DEVICE_READING || this.paused()) return;
    if (!this.filter) {
      // Nothing connected yet: compile the empty device program (keeps the timestamps, counts packets).
      void this.rebuild();
      return;
    }
    try {
      if (!this.runBatch(this.filter)) {
        this.finish();
        return;
      }
      this.drainCooked();
    } catch (e) {
      this.error = e as Error;
      this.finish();
      return;
    }
    this.wake();
    this.schedule();
  }

  /** Runs the next batch of the trace (one per tick: readers and connects run in between); false at its end. */
  private runBatch(filter: CompiledFilter): boolean {
    const step = this.trace.step(filter, ignoreBatch);
    if (step.error) this.error = step.error;
    return !step.end;
  }

  private closeTrace(): void {
    this.trace.close();
  }

  private finish(): void {
    if (this.status !== DEVICE_READING) return;
    this.status = DEVICE_FINISHED;
    this.closeTrace();
    try {
      for (const f of this.cookers) f.def.cooked!(f.config).flush();
      this.drainCooked();
    } catch (e) {
      this.error ??= e as Error;
    }
    // Instances without a finish hook have nothing to do, and active flows now read as finished (MapiFlow.status).
    for (const f of this.finishers) this.finishInstance(f);
    this.resolveDone();
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}

/** The device reads results from its state words, not from the per-packet verdicts. */
const ignoreBatch = (): undefined => undefined;
