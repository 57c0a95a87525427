/**
 * TO_BUFFER(int flag) — hands the packets that reach it to the application, read with
 * `mapi_get_next_pkt` / `mapi_loop`. Always passes. flag WAIT (0): reading waits for a packet;
 * NOWAIT (1): reading returns null when the buffer is empty. On an offline device nothing is
 * lost: the device pauses reading while a buffer holds RING_PACKETS packets or more.
 * The copy is made in JavaScript for the packets that reach the function only.
 */
import { ntpTimestamp, isInt, type MapiFunctionDef } from './lib/types.js';

export const WAIT = 0;
export const NOWAIT = 1;
/** MAPI sizes the ring for about 50 packets. */
export const RING_PACKETS = 50;

/** A delivered packet, as MAPI's struct mapipkt. */
export interface MapiPkt {
  /** 32.32 fixed point. */
  ts: bigint;
  ifindex: number;
  caplen: number;
  wlen: number;
  pkt: Uint8Array;
}

/** A FIFO of packets (array plus head index; compacted when half consumed). */
export class PacketQueue {
  private items: MapiPkt[] = [];
  private head = 0;
  get length(): number { return this.items.length - this.head; }
  push(p: MapiPkt): void { this.items.push(p); }
  shift(): MapiPkt | undefined {
    if (this.head >= this.items.length) return undefined;
    const p = this.items[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    return p;
  }
  clear(): void { this.items = []; this.head = 0; }
}

export interface ToBufferConfig { flag: number; nanoseconds: boolean; queue: PacketQueue; onPush?: () => void }

export const TO_BUFFER: MapiFunctionDef<ToBufferConfig> = {
  name: 'TO_BUFFER',
  argdescr: 'i',
  filters: false,
  summary: 'delivers packets to the application (mapi_get_next_pkt)',
  instance: (args, ctx) => {
    const flag = args[0];
    if (!isInt(flag) || (flag !== WAIT && flag !== NOWAIT)) {
      return { ok: false, code: 7001, message: `TO_BUFFER: argument 1 (flag) must be WAIT (0) or NOWAIT (1), not ${String(flag)}` };
    }
    return { ok: true, config: { flag, nanoseconds: ctx.nanoseconds, queue: new PacketQueue() } };
  },
  stateWords: () => 0,
  lower: (config, at) => ({
    k: 'eval',
    e: at.externCall('TO_BUFFER', (ctx, args) => {
      config.queue.push({
        ts: ntpTimestamp(args[0]!, args[1]!, config.nanoseconds), ifindex: 0,
        caplen: ctx.packet.length, wlen: ctx.wirelen, pkt: ctx.packet.slice(),
      });
      config.onPush?.();
      return 1;
    }, [{ k: 'meta', m: 'tssec' }, { k: 'meta', m: 'tsfrac' }]),
  }),
  result: () => ({ res: null, size: 0 }),
};
