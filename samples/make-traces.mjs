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
import { ascii, cut, packetKit } from './packet-kit.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { rand, ether, ipv4, tcp, udp, ipv6, arp, pcap } = packetKit(0x2545f491);

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
