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
import { ascii, cut, packetKit } from './packet-kit.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const kit = packetKit(0x1badb002);
const { rand, ether, tcp, udp } = kit;

const host = () => [10, rand(4), rand(256), 1 + rand(254)];
// Don't-fragment set, checksum left 0.
const ipv4 = (proto, src, dst, payload) => kit.ipv4(proto, src, dst, payload, { frag: 0x4000, withChecksum: false });
const arp = () => kit.arp(host(), host());

const EXPLOIT = 'GET /default.ida?' + 'N'.repeat(224) + '%u9090%u6858%ucbd3%u7801 HTTP/1.0\r\n\r\n';
const web = (payload) => ether(0x800, ipv4(6, host(), [192, 168, 0, 80], tcp(1024 + rand(60000), 80, ascii(payload))));

function trace() {
  const pkts = [];
  for (let i = 0; i < 400; i++) {
    const r = rand(100);
    if (r < 30) pkts.push(web(`GET /page${rand(1000)}.html HTTP/1.1\r\nHost: example.org\r\n\r\n`));
    else if (r < 42) pkts.push(web(EXPLOIT));
    else if (r < 47) pkts.push(web('GET /default.idx?x HTTP/1.0\r\n\r\n'));                 // looks alike, is not
    else if (r < 52) pkts.push(cut(web(EXPLOIT), 14 + 20 + 20 + 10));            // exploit cut off by the snaplen
    else if (r < 57) pkts.push(ether(0x800, ipv4(6, host(), [192, 168, 0, 25], tcp(1024 + rand(60000), 8080, ascii(EXPLOIT)))));
    else if (r < 75) pkts.push(ether(0x800, ipv4(6, [192, 168, 0, 80], host(), tcp(80, 1024 + rand(60000), ascii('HTTP/1.1 200 OK\r\n\r\nGET /default.ida? quoted')))));
    else if (r < 85) pkts.push(ether(0x800, ipv4(6, host(), host(), tcp(1024 + rand(60000), 22, new Array(40 + rand(40)).fill(0x41)))));
    else if (r < 95) pkts.push(ether(0x800, ipv4(17, host(), [8, 8, 8, 8], udp(1024 + rand(60000), 53, new Array(20).fill(1)))));
    else pkts.push(ether(0x806, arp()));
  }
  return kit.pcap(pkts, { start: 1_010_000_000 * 1e6, step: [500, 3000] });
}

writeFileSync(join(here, 'worm.pcap'), trace());
console.log('wrote samples/worm.pcap');
