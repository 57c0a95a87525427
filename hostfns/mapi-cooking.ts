/**
 * COOKING(int threshold, int timeout, int ret_once, int collect) — extraflib's IPv4
 * defragmentation and TCP stream reassembly (spec §2.2). MAPI says it "modifies packets": in
 * fplc the functions after COOKING in its flow see the reassembled data.
 *
 * Per packet that reaches it:
 *   - IPv4 TCP segments and IPv4 fragments are taken by the reassembler (hostfns/cooking-
 *     reassembly.ts, in JavaScript) and leave the flow;
 *   - every other packet (UDP, ICMP, IPv6, ARP …) goes on through the flow unchanged, in IR.
 * What the reassembler emits — TCP stream data in units of `threshold` bytes per direction, and
 * defragmented non-TCP datagrams — is run through the rest of the flow after each batch (the
 * device compiles the steps after COOKING a second time, into a module run on cooked units).
 * A unit carries the timestamp of the packet that completed it.
 *
 * Arguments: threshold, bytes per unit, 1–65495, −1 for 32000; timeout, idle seconds after
 * which a stream or a datagram being reassembled is ended (its data emitted), −1 for 30, 0 for
 * never; ret_once 0/1, emit only the first unit of each direction; collect CLIENT_SIDE 1,
 * SERVER_SIDE 2, BOTH_SIDE 3. Bytes held per instance are limited to MEMORY_LIMIT: past it,
 * the least recently active stream or datagram is ended. Still-held data is emitted when the
 * trace ends.
 */
import { bin, c, lor, load, seq } from '../lang/ir/ir.js';
import { linkTypeInfo } from '../lang/ir/linktypes.js';
import { Cooker, MAX_UNIT } from './lib/cooking-reassembly.js';
import { isIpv4 } from './mapi-protinfo.js';
import { isInt, type MapiCookedOutput, type MapiFunctionDef } from './lib/types.js';

export const CLIENT_SIDE = 1;
export const SERVER_SIDE = 2;
export const BOTH_SIDE = 3;
export const DEFAULT_THRESHOLD = 32000;
export const DEFAULT_TIMEOUT_SECONDS = 30;
export const MEMORY_LIMIT = 32 << 20;

/** Cooked units as ABI records in one growable buffer, reused between batches. */
class RecordQueue implements MapiCookedOutput {
  private buf = new Uint8Array(1 << 16);
  private used = 0;
  constructor(readonly cooker: () => Cooker) {}

  push(frame: Uint8Array, sec: number, frac: number): void {
    const need = this.used + 16 + frame.length;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    const dv = new DataView(this.buf.buffer, this.used, 16);
    dv.setUint32(0, sec, true); dv.setUint32(4, frac, true); dv.setUint32(8, frame.length, true); dv.setUint32(12, frame.length, true);
    this.buf.set(frame, this.used + 16);
    this.used = need;
  }

  take(): Uint8Array | undefined {
    if (this.used === 0) return undefined;
    const out = this.buf.subarray(0, this.used);
    this.used = 0;
    return out;
  }

  flush(): void { this.cooker().flushAll(); }
  clear(): void { this.used = 0; }
}

export interface CookingConfig {
  threshold: number;
  timeoutSec: number;
  retOnce: boolean;
  collect: number;
  l3: number;
  cooker: Cooker;
  queue: RecordQueue;
}

export const COOKING: MapiFunctionDef<CookingConfig> = {
  name: 'COOKING',
  argdescr: 'iiii',
  filters: true,
  library: 'extraflib',
  summary: 'IPv4 defragmentation and TCP stream reassembly; the rest of the flow sees the reassembled data',
  instance: (args, ctx) => {
    const [threshold, timeout, retOnce, collect] = args;
    if (!isInt(threshold) || (threshold !== -1 && (threshold < 1 || threshold > MAX_UNIT))) {
      return { ok: false, code: 7001, message: `COOKING: argument 1 (threshold) must be 1-${MAX_UNIT} bytes or -1 (${DEFAULT_THRESHOLD}), not ${String(threshold)}` };
    }
    if (!isInt(timeout) || timeout < -1) return { ok: false, code: 7002, message: `COOKING: argument 2 (timeout) must be seconds >= 0, or -1 (${DEFAULT_TIMEOUT_SECONDS}), not ${String(timeout)}` };
    if (retOnce !== 0 && retOnce !== 1) return { ok: false, code: 7003, message: `COOKING: argument 3 (ret_once) must be 0 or 1, not ${String(retOnce)}` };
    if (collect !== CLIENT_SIDE && collect !== SERVER_SIDE && collect !== BOTH_SIDE) {
      return { ok: false, code: 7004, message: `COOKING: argument 4 (collect) must be CLIENT_SIDE (1), SERVER_SIDE (2) or BOTH_SIDE (3), not ${String(collect)}` };
    }
    const l3 = linkTypeInfo(ctx.linkType)?.l3;
    if (l3 === undefined) return { ok: false, code: 7006, message: `COOKING: link type ${ctx.linkType} has no fixed network-layer offset` };
    const opts = {
      threshold: threshold === -1 ? DEFAULT_THRESHOLD : threshold, timeoutSec: timeout === -1 ? DEFAULT_TIMEOUT_SECONDS : timeout,
      retOnce: retOnce === 1, collect, memoryLimit: MEMORY_LIMIT, l3,
    };
    const queue: RecordQueue = new RecordQueue(() => cooker);
    const cooker = new Cooker(opts, (frame, sec, frac) => queue.push(frame, sec, frac), ctx.nanoseconds ? 1e9 : 1e6);
    return { ok: true, config: { ...opts, cooker, queue } };
  },
  stateWords: () => 1,
  lower: (config, at) => {
    const { l3 } = config;
    const feed = at.externCall('COOKING', (ctx) => (config.cooker.push(ctx.packet, ctx.tsSec, ctx.tsFrac) ? 1 : 0), []);
    const takes = lor(bin('eq', load(l3 + 9, 1), c(6)), bin('ne', bin('and', load(l3 + 6, 2), c(0x3fff)), c(0)));
    return {
      k: 'if', cond: isIpv4(at.linkType),
      then: {
        k: 'if', cond: takes,
        then: seq({ k: 'eval', e: feed }, at.exitFlow),
      },
    };
  },
  cooked: (config) => config.queue,
  cleanup: (config) => config.queue.clear(),
};

