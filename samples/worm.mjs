#!/usr/bin/env node
/**
 * Writes samples/worm.pcap, the trace of the worm detector (samples/worm.graph, samples/worm.fpl):
 * web traffic in which some requests carry a Code Red-style exploit ("GET /default.ida?NNNN…"),
 * the same bytes on other ports (not web traffic), web responses, other TCP, DNS, ARP, requests
 * whose exploit string is cut off by the snaplen, and requests that only resemble the exploit.
 * Deterministic (xorshift32): re-running gives the same bytes. `node samples/worm.mjs`.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

let seed = 0x1badb002;
function rand(n) {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}

const mac = (n) => [0x02, 0x00, 0x00, 0x00, 0x00, n];
const u16 = (v) => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const ascii = (s) => [...Buffer.from(s, 'latin1')];
const host = () => [10, rand(4), rand(256), 1 + rand(254)];

const ether = (type, payload) => [...mac(2), ...mac(1), ...u16(type), ...payload];
function ipv4(proto, src, dst, payload) {
  return [0x45, 0, ...u16(20 + payload.length), ...u16(rand(65536)), 0x40, 0, 64, proto, 0, 0, ...src, ...dst, ...payload];
}
const tcp = (sport, dport, payload = []) =>
  [...u16(sport), ...u16(dport), ...u32(rand(0xffffffff)), ...u32(rand(0xffffffff)), 0x50, 0x18, ...u16(65535), 0, 0, 0, 0, ...payload];
const udp = (sport, dport, payload = []) => [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
const arp = () => [0, 1, 8, 0, 6, 4, 0, 1, ...mac(1), ...host(), 0, 0, 0, 0, 0, 0, ...host()];

const EXPLOIT = 'GET /default.ida?' + 'N'.repeat(224) + '%u9090%u6858%ucbd3%u7801 HTTP/1.0\r\n\r\n';
const web = (payload) => ether(0x800, ipv4(6, host(), [192, 168, 0, 80], tcp(1024 + rand(60000), 80, ascii(payload))));

function trace() {
  const pkts = [];
  for (let i = 0; i < 400; i++) {
    const r = rand(100);
    if (r < 30) pkts.push(web(`GET /page${rand(1000)}.html HTTP/1.1\r\nHost: example.org\r\n\r\n`));
    else if (r < 42) pkts.push(web(EXPLOIT));
    else if (r < 47) pkts.push(web('GET /default.idx?x HTTP/1.0\r\n\r\n'));                 // looks alike, is not
    else if (r < 52) pkts.push({ bytes: web(EXPLOIT), cut: 14 + 20 + 20 + 10 });            // exploit cut off by the snaplen
    else if (r < 57) pkts.push(ether(0x800, ipv4(6, host(), [192, 168, 0, 25], tcp(1024 + rand(60000), 8080, ascii(EXPLOIT)))));
    else if (r < 75) pkts.push(ether(0x800, ipv4(6, [192, 168, 0, 80], host(), tcp(80, 1024 + rand(60000), ascii('HTTP/1.1 200 OK\r\n\r\nGET /default.ida? quoted')))));
    else if (r < 85) pkts.push(ether(0x800, ipv4(6, host(), host(), tcp(1024 + rand(60000), 22, new Array(40 + rand(40)).fill(0x41)))));
    else if (r < 95) pkts.push(ether(0x800, ipv4(17, host(), [8, 8, 8, 8], udp(1024 + rand(60000), 53, new Array(20).fill(1)))));
    else pkts.push(ether(0x806, arp()));
  }
  const parts = [Buffer.alloc(24)];
  parts[0].writeUInt32LE(0xa1b2c3d4, 0); parts[0].writeUInt16LE(2, 4); parts[0].writeUInt16LE(4, 6);
  parts[0].writeUInt32LE(65535, 16); parts[0].writeUInt32LE(1, 20);
  let t = 1_010_000_000 * 1e6;
  for (const p of pkts) {
    const bytes = p.bytes ?? p;
    const cap = Math.min(bytes.length, p.cut ?? Infinity);
    t += 500 + rand(3000);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(t / 1e6), 0); h.writeUInt32LE(t % 1e6, 4); h.writeUInt32LE(cap, 8); h.writeUInt32LE(bytes.length, 12);
    parts.push(h, Buffer.from(bytes.slice(0, cap)));
  }
  return Buffer.concat(parts);
}

writeFileSync(join(here, 'worm.pcap'), trace());
console.log('wrote samples/worm.pcap');
