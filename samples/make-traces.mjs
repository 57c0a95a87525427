#!/usr/bin/env node
/**
 * Writes the small sample traces in samples/ (deterministic, so re-running gives the same
 * bytes). Plain Node, no dependencies: `node samples/make-traces.mjs`.
 *
 *   web.pcap   mixed Ethernet traffic: HTTP (port 80) both ways, other TCP, DNS over UDP,
 *              ICMP, ARP, IPv6/TCP, an IPv4 fragment and packets cut short by the snaplen.
 *   rtsp.pcap  an RTSP session negotiating dynamic ports (SETUP on TCP 554 with a
 *              `Transport:` header), then TCP packets to the negotiated ports and to others.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// A small deterministic generator (xorshift32) so the traces never change between runs.
let seed = 0x2545f491;
function rand(n) {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}

const mac = (n) => [0x02, 0x00, 0x00, 0x00, 0x00, n];
const ip4 = (s) => s.split('.').map(Number);
const u16 = (v) => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const ascii = (s) => [...Buffer.from(s, 'latin1')];

function checksum(bytes) {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ether(type, payload, src = 1, dst = 2) {
  return [...mac(dst), ...mac(src), ...u16(type), ...payload];
}

function ipv4(proto, src, dst, payload, { id = rand(65536), frag = 0, ttl = 64 } = {}) {
  const h = [0x45, 0, ...u16(20 + payload.length), ...u16(id), ...u16(frag), ttl, proto, 0, 0, ...ip4(src), ...ip4(dst)];
  const c = checksum(h);
  h[10] = c >> 8; h[11] = c & 0xff;
  return [...h, ...payload];
}

function tcp(sport, dport, payload = [], flags = 0x18, seq = rand(0xffffffff)) {
  return [...u16(sport), ...u16(dport), ...u32(seq), ...u32(rand(0xffffffff)), 0x50, flags, ...u16(65535), 0, 0, 0, 0, ...payload];
}

function udp(sport, dport, payload = []) {
  return [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
}

function ipv6(nxt, payload) {
  const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
  const dst = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2];
  return [0x60, 0, 0, 0, ...u16(payload.length), nxt, 64, ...src, ...dst, ...payload];
}

function arp(spa, tpa) {
  return [0, 1, 8, 0, 6, 4, 0, 1, ...mac(1), ...ip4(spa), 0, 0, 0, 0, 0, 0, ...ip4(tpa)];
}

/** pcap file, little-endian, microsecond timestamps; `snaplen` cuts packets short. */
function pcap(packets, { snaplen = 65535, linkType = 1 } = {}) {
  const parts = [Buffer.from(new Uint32Array([0xa1b2c3d4, 0x00040002, 0, 0, snaplen, linkType]).buffer)];
  parts[0].writeUInt16LE(2, 4); parts[0].writeUInt16LE(4, 6);
  let t = 1_700_000_000 * 1e6;
  for (const p of packets) {
    t += 1000 + rand(5000);
    const cap = Math.min(p.length, snaplen, p.cut ?? Infinity);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(t / 1e6), 0);
    h.writeUInt32LE(t % 1e6, 4);
    h.writeUInt32LE(cap, 8);
    h.writeUInt32LE(p.length, 12);
    parts.push(h, Buffer.from(p.slice(0, cap)));
  }
  return Buffer.concat(parts);
}

function cut(packet, n) {
  packet.cut = n;
  return packet;
}

function webTrace() {
  const pkts = [];
  const client = '192.168.1.10';
  const server = '93.184.216.34';
  for (let i = 0; i < 60; i++) {
    const sport = 40000 + rand(20000);
    pkts.push(ether(0x800, ipv4(6, client, server, tcp(sport, 80, ascii('GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n')))));
    pkts.push(ether(0x800, ipv4(6, server, client, tcp(80, sport, ascii('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'))), 2, 1));
    if (i % 3 === 0) pkts.push(ether(0x800, ipv4(6, client, '10.1.2.3', tcp(sport, 22, new Array(48).fill(0x41)))));
    if (i % 4 === 0) pkts.push(ether(0x800, ipv4(17, client, '8.8.8.8', udp(sport, 53, [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]))));
    if (i % 10 === 0) pkts.push(ether(0x806, arp(client, '192.168.1.1')));
    if (i % 7 === 0) pkts.push(ether(0x86dd, ipv6(6, tcp(sport, 80, ascii('GET / HTTP/1.1\r\n\r\n')))));
    if (i % 9 === 0) pkts.push(ether(0x800, ipv4(1, client, server, [8, 0, 0, 0, 0, 1, 0, i, ...new Array(32).fill(0)])));
    if (i % 11 === 0) pkts.push(ether(0x800, ipv4(6, client, server, tcp(sport, 80, new Array(64).fill(0x42)), { frag: 0x2000 | 100 })));
    if (i % 8 === 0) pkts.push(cut(ether(0x800, ipv4(6, client, server, tcp(sport, 80, ascii('GET /big HTTP/1.1\r\n\r\n')))), 14 + 20 + 1));
  }
  return pcap(pkts);
}

function rtspTrace() {
  const pkts = [];
  const client = '10.0.0.5';
  const server = '10.0.0.9';
  const cport = 51000;
  const sessions = [[5000, 6970], [5002, 6972], [5004, 6974]];
  for (const [rtp, srtp] of sessions) {
    const setup = `SETUP rtsp://10.0.0.9/media.mp4/streamid=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;client_port=${rtp}-${rtp + 1}\r\n\r\n`;
    pkts.push(ether(0x800, ipv4(6, client, server, tcp(cport, 554, ascii(setup)))));
    const reply = `RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;client_port=${rtp}-${rtp + 1};server_port=${srtp}-${srtp + 1}\r\nSession: 12345678\r\n\r\n`;
    pkts.push(ether(0x800, ipv4(6, server, client, tcp(554, cport, ascii(reply))), 2, 1));
    // A keep-alive request on 554 without a Transport header: the extern finds no port (0).
    pkts.push(ether(0x800, ipv4(6, client, server, tcp(cport, 554, ascii('OPTIONS * RTSP/1.0\r\nCSeq: 4\r\n\r\n')))));
  }
  for (let i = 0; i < 40; i++) {
    const [rtp] = sessions[i % sessions.length];
    pkts.push(ether(0x800, ipv4(6, server, client, tcp(6970, rtp, new Array(100).fill(i & 0xff))), 2, 1));
    pkts.push(ether(0x800, ipv4(6, server, client, tcp(443, 40000 + i, new Array(60).fill(0x17))), 2, 1));
    if (i % 5 === 0) pkts.push(ether(0x800, ipv4(17, server, client, udp(6970, rtp, new Array(40).fill(0x80))), 2, 1));
  }
  return pcap(pkts);
}

writeFileSync(join(here, 'web.pcap'), webTrace());
writeFileSync(join(here, 'rtsp.pcap'), rtspTrace());
console.log('wrote samples/web.pcap and samples/rtsp.pcap');
