/**
 * The reassembly behind COOKING (hostfns/mapi-cooking.ts): IPv4 defragmentation and TCP
 * stream reassembly, with timeouts and a memory limit. Plain JavaScript: it keeps per-stream
 * buffers, and runs only for the packets that reach COOKING.
 *
 * Input: IPv4 packets (whole frames of the device's link type, L3 at `l3`). Output ("cooked
 * units", through `emit`): frames of the same link type —
 *   - a defragmented datagram that is not TCP: link header + IPv4 header (flags and offset
 *     cleared) + the whole payload;
 *   - TCP stream data, one direction at a time, in sequence order without duplicates: link
 *     header + a 20-byte IPv4 header + a 20-byte TCP header (ports of that direction, seq of
 *     the unit's first byte, PSH|ACK) + up to `threshold` bytes of the stream.
 * TCP segments themselves (handshake, ACKs, data) are consumed.
 *
 * Streams: the client is the side that sent the SYN (without one, the sender of the first
 * segment seen, or the receiver when that is a SYN/ACK). A direction emits a unit each time
 * `threshold` in-order bytes are collected, and the rest when it is complete (FIN reached with
 * no gap left), on RST, when the stream has been idle for `timeoutSec`, when the memory limit
 * evicts it, and at the end of the trace. Out-of-order data waits for the gap to fill; data
 * behind a gap that never fills is dropped when the stream ends. With `retOnce`, only the
 * first unit of each direction is emitted. Overlapping data: the bytes that arrived first win
 * (a retransmission never rewrites what was collected).
 *
 * Memory: bytes held (fragments, collected and out-of-order stream data) are limited to
 * `memoryLimit`; past it, the least recently active stream or datagram is ended (streams
 * emit what they have) until the new data fits.
 */

export interface CookOptions {
  /** Bytes per TCP unit (1 … MAX_UNIT). */
  threshold: number;
  /** Idle seconds after which a stream or a datagram being reassembled is ended; 0: never. */
  timeoutSec: number;
  retOnce: boolean;
  /** 1 client side (data the client sends), 2 server side, 3 both. */
  collect: number;
  memoryLimit: number;
  /** Offset of the IPv4 header in the frames. */
  l3: number;
}

/** A cooked unit: its frame is valid during the call only. */
export type Emit = (frame: Uint8Array, sec: number, frac: number) => void;

export const MAX_UNIT = 65535 - 40;
/** Out-of-order data further ahead than this from the next expected byte is dropped. */
export const MAX_WINDOW = 1 << 20;

const CLIENT_SIDE = 1, SERVER_SIDE = 2;
const FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10, PSH = 0x08;

interface Direction {
  /** Sequence number of the next byte expected, once known. */
  next: number | undefined;
  /** In-order bytes not yet emitted, and the seq of their first byte. */
  held: Uint8Array[];
  heldBytes: number;
  heldSeq: number;
  /** Out-of-order segments by seq (first arrival kept). */
  ahead: Map<number, Uint8Array>;
  aheadBytes: number;
  /** Sequence number just past the FIN, once seen. */
  finSeq: number | undefined;
  unitsEmitted: number;
  done: boolean;
}

interface Stream {
  key: string;
  /** Client and server addresses and ports (u32 / u16). */
  client: [number, number];
  server: [number, number];
  dirs: [Direction, Direction];   // 0: client → server, 1: server → client
  link: Uint8Array;
  ttl: number;
  lastSec: number;
  lastFrac: number;
  lastSeen: number;
}

interface Datagram {
  key: string;
  header: Uint8Array | undefined;   // link + IPv4 header of the fragment at offset 0
  pieces: { off: number; data: Uint8Array }[];
  bytes: number;
  total: number | undefined;
  lastSeen: number;
}

const newDirection = (): Direction => ({ next: undefined, held: [], heldBytes: 0, heldSeq: 0, ahead: new Map(), aheadBytes: 0, finSeq: undefined, unitsEmitted: 0, done: false });
/** a − b as a signed 32-bit sequence-number difference. */
const seqDiff = (a: number, b: number): number => (a - b) | 0;
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;

export class Cooker {
  private readonly streams = new Map<string, Stream>();
  private readonly datagrams = new Map<string, Datagram>();
  private heldBytes = 0;
  private now = 0;
  private sec = 0;
  private frac = 0;
  /** Streams and datagrams ended by the memory limit or a timeout (for tests and stats). */
  evicted = 0;
  expired = 0;

  constructor(private readonly opts: CookOptions, private readonly emit: Emit, private readonly fracUnit = 1e6) {}

  /** Bytes held now. */
  get memory(): number { return this.heldBytes; }

  /** One IPv4 packet (its frame). Returns whether it was taken (IPv4 and well formed enough). */
  push(frame: Uint8Array, sec: number, frac: number): boolean {
    this.sec = sec; this.frac = frac;
    this.now = sec + frac / this.fracUnit;
    this.expire();
    const l3 = this.opts.l3;
    if (frame.length < l3 + 20 || frame[l3]! >> 4 !== 4) return false;
    const ihl = (frame[l3]! & 15) * 4;
    const total = u16(frame, l3 + 2);
    const end = Math.min(frame.length, l3 + total);
    if (ihl < 20 || end < l3 + ihl) return false;
    const fragWord = u16(frame, l3 + 6);
    if ((fragWord & 0x3fff) !== 0) {
      this.fragment(frame, l3, ihl, end, fragWord);
      return true;
    }
    if (frame[l3 + 9] === 6) this.segment(frame.subarray(0, end), l3, ihl);
    else this.emit(frame.subarray(0, end), this.sec, this.frac);
    return true;
  }

  /** Ends every stream and datagram (end of the trace): streams emit what they hold. */
  flushAll(): void {
    for (const s of [...this.streams.values()]) this.endStream(s);
    for (const d of [...this.datagrams.values()]) this.dropDatagram(d);
  }

  // ---- IPv4 fragments ----

  private fragment(frame: Uint8Array, l3: number, ihl: number, end: number, fragWord: number): void {
    const key = `${u32(frame, l3 + 12)}>${u32(frame, l3 + 16)}/${frame[l3 + 9]}#${u16(frame, l3 + 4)}`;
    let d = this.datagrams.get(key);
    if (!d) {
      d = { key, header: undefined, pieces: [], bytes: 0, total: undefined, lastSeen: this.now };
      this.datagrams.set(key, d);
    }
    this.touch(this.datagrams, d);
    const off = (fragWord & 0x1fff) * 8;
    const data = frame.slice(l3 + ihl, end);
    if (off === 0 && !d.header) d.header = frame.slice(0, l3 + ihl);
    if (!(fragWord & 0x2000)) d.total ??= off + data.length;
    if (!this.makeRoom(data.length, d)) { this.dropDatagram(d); return; }
    d.pieces.push({ off, data });
    d.bytes += data.length;
    this.heldBytes += data.length;
    this.tryAssemble(d);
  }

  private tryAssemble(d: Datagram): void {
    if (d.total === undefined || !d.header) return;
    const total = d.total;
    if (total + d.header.length - this.opts.l3 > 65535) { this.dropDatagram(d); return; }
    // Covered without a hole? Earlier arrivals win where pieces overlap.
    const sorted = [...d.pieces].sort((a, b) => a.off - b.off);
    let covered = 0;
    for (const p of sorted) {
      if (p.off > covered) return;
      covered = Math.max(covered, p.off + p.data.length);
    }
    if (covered < total) return;
    const l3 = this.opts.l3;
    const out = new Uint8Array(d.header.length + total);
    out.set(d.header);
    const filled = new Uint8Array(total);
    for (const p of d.pieces) {
      for (let i = 0; i < p.data.length && p.off + i < total; i++) {
        if (!filled[p.off + i]) { out[d.header.length + p.off + i] = p.data[i]!; filled[p.off + i] = 1; }
      }
    }
    const ihl = d.header.length - l3;
    out[l3 + 2] = (ihl + total) >> 8; out[l3 + 3] = (ihl + total) & 0xff;
    out[l3 + 6] = 0; out[l3 + 7] = 0;
    setIpChecksum(out, l3, ihl);
    this.dropDatagram(d);
    if (out[l3 + 9] === 6) this.segment(out, l3, ihl);
    else this.emit(out, this.sec, this.frac);
  }

  private dropDatagram(d: Datagram): void {
    this.heldBytes -= d.bytes;
    this.datagrams.delete(d.key);
  }

  // ---- TCP ----

  private segment(p: Uint8Array, l3: number, ihl: number): void {
    const t = l3 + ihl;
    if (p.length < t + 20) return;
    const thl = (p[t + 12]! >> 4) * 4;
    if (thl < 20 || p.length < t + thl) return;
    const src = u32(p, l3 + 12), dst = u32(p, l3 + 16), sport = u16(p, t), dport = u16(p, t + 2);
    const seq = u32(p, t + 4), flags = p[t + 13]!;
    const forward = src < dst || (src === dst && sport <= dport);
    const key = forward ? `${src}:${sport}>${dst}:${dport}` : `${dst}:${dport}>${src}:${sport}`;
    let s = this.streams.get(key);
    if (!s) {
      if (flags & RST || (!(flags & SYN) && p.length === t + thl)) return;   // nothing to follow yet
      const senderIsServer = (flags & (SYN | ACK)) === (SYN | ACK);
      const client: [number, number] = senderIsServer ? [dst, dport] : [src, sport];
      const server: [number, number] = senderIsServer ? [src, sport] : [dst, dport];
      s = { key, client, server, dirs: [newDirection(), newDirection()], link: p.slice(0, l3), ttl: p[l3 + 8]!, lastSec: 0, lastFrac: 0, lastSeen: this.now };
      this.streams.set(key, s);
    }
    this.touch(this.streams, s);
    s.lastSec = this.sec; s.lastFrac = this.frac;
    const d = src === s.client[0] && sport === s.client[1] ? 0 : 1;
    const dir = s.dirs[d];
    if (flags & RST) { this.endStream(s); return; }
    let dataSeq = seq;
    if (flags & SYN) {
      dir.next ??= (seq + 1) >>> 0;
      dir.heldSeq = dir.next;
      dataSeq = (seq + 1) >>> 0;
    }
    const data = p.subarray(t + thl);
    if (dir.next === undefined) { dir.next = dataSeq; dir.heldSeq = dataSeq; }
    if (flags & FIN) dir.finSeq ??= (dataSeq + data.length) >>> 0;
    if (data.length > 0 && !dir.done) this.accept(s, d, dataSeq, data);
    if (dir.finSeq !== undefined && dir.next === dir.finSeq) this.completeDirection(s, d);
    if (s.dirs[0].finSeq !== undefined && s.dirs[1].finSeq !== undefined && s.dirs[0].next === s.dirs[0].finSeq && s.dirs[1].next === s.dirs[1].finSeq) this.endStream(s);
  }

  private wanted(d: number): boolean {
    return (this.opts.collect & (d === 0 ? CLIENT_SIDE : SERVER_SIDE)) !== 0;
  }

  private accept(s: Stream, d: number, seq: number, data: Uint8Array): void {
    const dir = s.dirs[d];
    let rel = seqDiff(seq, dir.next!);
    if (rel + data.length <= 0) return;                      // all seen already
    if (rel < 0) { data = data.subarray(-rel); seq = dir.next!; rel = 0; }
    if (rel > 0) {
      if (rel > MAX_WINDOW || dir.ahead.has(seq)) return;
      if (!this.makeRoom(data.length, s)) return;
      const copy = data.slice();
      dir.ahead.set(seq, copy);
      dir.aheadBytes += copy.length;
      this.heldBytes += copy.length;
      return;
    }
    this.append(s, d, data);
    // Drain the segments the gap was holding back.
    for (let moved = true; moved;) {
      moved = false;
      for (const [aseq, adata] of dir.ahead) {
        const r = seqDiff(aseq, dir.next!);
        if (r > 0) continue;
        dir.ahead.delete(aseq);
        dir.aheadBytes -= adata.length;
        this.heldBytes -= adata.length;
        if (r + adata.length > 0) this.append(s, d, adata.subarray(-r));
        moved = true;
      }
    }
  }

  /** In-order bytes for direction d: kept if wanted, emitted by whole units. */
  private append(s: Stream, d: number, data: Uint8Array): void {
    const dir = s.dirs[d];
    dir.next = (dir.next! + data.length) >>> 0;
    if (!this.wanted(d) || dir.done) { dir.heldSeq = dir.next; return; }
    if (this.makeRoom(data.length, s)) {
      dir.held.push(data.slice());
      dir.heldBytes += data.length;
      this.heldBytes += data.length;
    } else {
      this.endStream(s);   // no room even after evicting the others: the stream ends here
      return;
    }
    while (dir.heldBytes >= this.opts.threshold && !dir.done) this.emitUnit(s, d, this.opts.threshold);
  }

  private completeDirection(s: Stream, d: number): void {
    const dir = s.dirs[d];
    while (dir.heldBytes > 0 && !dir.done) this.emitUnit(s, d, Math.min(dir.heldBytes, this.opts.threshold));
    this.release(dir);
    dir.done = true;
  }

  private endStream(s: Stream): void {
    if (!this.streams.has(s.key)) return;
    this.streams.delete(s.key);
    for (const d of [0, 1]) this.completeDirection(s, d);
  }

  private release(dir: Direction): void {
    this.heldBytes -= dir.heldBytes + dir.aheadBytes;
    dir.held = []; dir.heldBytes = 0;
    dir.ahead.clear(); dir.aheadBytes = 0;
  }

  /** Emits the first `n` held bytes of direction d as one unit. */
  private emitUnit(s: Stream, d: number, n: number): void {
    const dir = s.dirs[d];
    const l3 = s.link.length;
    const out = new Uint8Array(l3 + 40 + n);
    out.set(s.link);
    const [src, sport] = d === 0 ? s.client : s.server;
    const [dst, dport] = d === 0 ? s.server : s.client;
    const ip = l3;
    out[ip] = 0x45; out[ip + 2] = (40 + n) >> 8; out[ip + 3] = (40 + n) & 0xff; out[ip + 6] = 0x40;
    out[ip + 8] = s.ttl; out[ip + 9] = 6;
    put32(out, ip + 12, src); put32(out, ip + 16, dst);
    setIpChecksum(out, ip, 20);
    const t = ip + 20;
    out[t] = sport >> 8; out[t + 1] = sport & 0xff; out[t + 2] = dport >> 8; out[t + 3] = dport & 0xff;
    put32(out, t + 4, dir.heldSeq);
    out[t + 12] = 0x50; out[t + 13] = PSH | ACK; out[t + 14] = 0xff; out[t + 15] = 0xff;
    let at = t + 20, need = n;
    while (need > 0) {
      const first = dir.held[0]!;
      if (first.length <= need) {
        out.set(first, at); at += first.length; need -= first.length; dir.held.shift();
      } else {
        out.set(first.subarray(0, need), at); dir.held[0] = first.subarray(need); need = 0;
      }
    }
    dir.heldBytes -= n;
    this.heldBytes -= n;
    dir.heldSeq = (dir.heldSeq + n) >>> 0;
    dir.unitsEmitted++;
    this.emit(out, s.lastSec, s.lastFrac);
    if (this.opts.retOnce) { this.release(dir); dir.done = true; }
  }

  // ---- time and memory ----

  /** Moves a stream or datagram to the most recent end of its map (maps keep insertion order). */
  private touch<T extends { key: string; lastSeen: number }>(map: Map<string, T>, x: T): void {
    x.lastSeen = this.now;
    map.delete(x.key);
    map.set(x.key, x);
  }

  private expire(): void {
    const limit = this.opts.timeoutSec;
    if (limit <= 0) return;
    for (const s of this.streams.values()) {
      if (this.now - s.lastSeen <= limit) break;   // oldest first
      this.expired++;
      this.endStream(s);
    }
    for (const d of this.datagrams.values()) {
      if (this.now - d.lastSeen <= limit) break;
      this.expired++;
      this.dropDatagram(d);
    }
  }

  /** Ends the least recently active streams and datagrams (never `keep`) until `bytes` more fit. */
  private makeRoom(bytes: number, keep: Stream | Datagram): boolean {
    while (this.heldBytes + bytes > this.opts.memoryLimit) {
      const s = first(this.streams, keep), d = first(this.datagrams, keep);
      if (!s && !d) return false;
      this.evicted++;
      if (s && (!d || s.lastSeen <= d.lastSeen)) this.endStream(s);
      else this.dropDatagram(d!);
    }
    return true;
  }
}

function first<T>(map: Map<string, T>, not: unknown): T | undefined {
  for (const x of map.values()) if (x !== not) return x;
  return undefined;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 0xff; b[o + 2] = (v >>> 8) & 0xff; b[o + 3] = v & 0xff;
}

function setIpChecksum(b: Uint8Array, ip: number, ihl: number): void {
  b[ip + 10] = 0; b[ip + 11] = 0;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (b[ip + i]! << 8) | b[ip + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  b[ip + 10] = c >> 8; b[ip + 11] = c & 0xff;
}
