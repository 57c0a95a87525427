/**
 * Packet and pcap builders shared by the scripts that write the sample traces
 * (make-traces.mjs, worm.mjs, …). Plain Node, no dependencies. Every random choice comes from
 * the kit's own deterministic generator (xorshift32), so a script re-run gives the same bytes.
 *
 *   const k = packetKit(0x2545f491);
 *   const frame = k.ether(0x800, k.ipv4(6, '10.0.0.1', '10.0.0.2', k.tcp(1234, 80, k.ascii('GET /'))));
 *   writeFileSync('x.pcap', k.pcap([frame]));
 */
export const mac = (n) => [0x02, 0x00, 0x00, 0x00, 0x00, n];
export const u16 = (v) => [(v >> 8) & 0xff, v & 0xff];
export const u32 = (v) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
export const ascii = (s) => [...Buffer.from(s, 'latin1')];
/** An IPv4 address as a dotted string or as four bytes. */
export const ip4 = (a) => (typeof a === 'string' ? a.split('.').map(Number) : a);

/** The Internet checksum of a byte array. */
export function checksum(bytes) {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Marks a frame to be captured only up to `n` bytes (its wire length stays the full length). */
export function cut(frame, n) {
  frame.cut = n;
  return frame;
}

export function packetKit(seed) {
  let s = seed >>> 0;
  /** A deterministic integer in [0, n). */
  function rand(n) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  }

  const ether = (type, payload, src = 1, dst = 2) => [...mac(dst), ...mac(src), ...u16(type), ...payload];

  /** IPv4 header + payload; `frag` is the flags/offset word (0x4000 = DF); `checksum: false` leaves it 0. */
  function ipv4(proto, src, dst, payload, { id = rand(65536), frag = 0, ttl = 64, withChecksum = true } = {}) {
    const h = [0x45, 0, ...u16(20 + payload.length), ...u16(id), ...u16(frag), ttl, proto, 0, 0, ...ip4(src), ...ip4(dst)];
    if (withChecksum) {
      const c = checksum(h);
      h[10] = c >> 8; h[11] = c & 0xff;
    }
    return [...h, ...payload];
  }

  /** TCP header (no options) + payload; seq and ack random unless given. */
  const tcp = (sport, dport, payload = [], flags = 0x18, seq = rand(0xffffffff), ack = rand(0xffffffff)) =>
    [...u16(sport), ...u16(dport), ...u32(seq), ...u32(ack), 0x50, flags, ...u16(65535), 0, 0, 0, 0, ...payload];

  const udp = (sport, dport, payload = []) => [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];

  /** IPv6 between 2001:db8::1 and 2001:db8::2. */
  function ipv6(nxt, payload) {
    const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
    const dst = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2];
    return [0x60, 0, 0, 0, ...u16(payload.length), nxt, 64, ...src, ...dst, ...payload];
  }

  /** An ARP request from mac(1). */
  const arp = (spa, tpa) => [0, 1, 8, 0, 6, 4, 0, 1, ...mac(1), ...ip4(spa), 0, 0, 0, 0, 0, 0, ...ip4(tpa)];

  /**
   * A little-endian µs pcap file of `frames` (byte arrays; see `cut`). Timestamps start at
   * `start` µs and advance by `step[0] + rand(step[1])` µs before each record.
   */
  function pcap(frames, { snaplen = 65535, linkType = 1, start = 1_700_000_000 * 1e6, step = [1000, 5000] } = {}) {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0); header.writeUInt16LE(2, 4); header.writeUInt16LE(4, 6);
    header.writeUInt32LE(snaplen, 16); header.writeUInt32LE(linkType, 20);
    const parts = [header];
    let t = start;
    for (const frame of frames) {
      t += step[0] + rand(step[1]);
      const cap = Math.min(frame.length, snaplen, frame.cut ?? Infinity);
      const h = Buffer.alloc(16);
      h.writeUInt32LE(Math.floor(t / 1e6), 0);
      h.writeUInt32LE(t % 1e6, 4);
      h.writeUInt32LE(cap, 8);
      h.writeUInt32LE(frame.length, 12);
      parts.push(h, Buffer.from(frame.slice(0, cap)));
    }
    return Buffer.concat(parts);
  }

  return { rand, ether, ipv4, tcp, udp, ipv6, arp, pcap };
}
