#!/usr/bin/env node
/**
 * Writes samples/ftp.pcap, the trace of the FTP monitor (samples/ftp-monitor.mjs): two FTP
 * sessions whose transfers use every way of announcing a data connection — PASV (227), PORT,
 * EPSV (229) and EPRT — with full TCP conversations (handshake, data, ACKs, FIN/ACK close),
 * interleaved with unrelated traffic: web, SSH, DNS, ARP, and TCP on the data ports between
 * other hosts. Deterministic (xorshift32): re-running gives the same bytes.
 *
 *   node samples/make-ftp-trace.mjs
 *
 * `ftpTrace()` also returns the data connections it negotiated, so that a test can count the
 * FTP packets independently (tcpdump expressions built from them).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ascii, packetKit } from './packet-kit.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SYN = 0x02, ACK = 0x10, PSH_ACK = 0x18, FIN_ACK = 0x11;

export function ftpTrace() {
  const kit = packetKit(0x0f7d2024);
  const { rand, ether, ipv4, tcp, udp, arp } = kit;
  const frames = [];
  const dataConnections = [];

  const host = () => `172.16.${rand(4)}.${1 + rand(254)}`;
  /** Unrelated traffic, sometimes on a recently negotiated data port but between other hosts. */
  function noise() {
    const r = rand(100);
    const recent = dataConnections[dataConnections.length - 1];
    if (r < 30) frames.push(ether(0x800, ipv4(6, host(), '93.184.216.34', tcp(1024 + rand(60000), 80, ascii('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n')))));
    else if (r < 45) frames.push(ether(0x800, ipv4(6, host(), '10.9.9.9', tcp(1024 + rand(60000), 22, new Array(48).fill(0x41)))));
    else if (r < 60) frames.push(ether(0x800, ipv4(17, host(), '8.8.8.8', udp(1024 + rand(60000), 53, [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]))));
    else if (r < 70) frames.push(ether(0x806, arp(host(), host())));
    else if (r < 85 && recent) frames.push(ether(0x800, ipv4(6, host(), host(), tcp(recent.serverPort, 1024 + rand(60000), new Array(30).fill(0x42)))));
    else frames.push(ether(0x800, ipv4(6, host(), '10.9.9.9', tcp(2121, 21000 + rand(100), ascii('PORT 10,9,9,9,4,1\r\n')))));   // FTP-like text off port 21
  }
  const emit = (frame) => {
    frames.push(frame);
    if (rand(3) === 0) noise();
  };

  /** A TCP conversation between a (client side) and b; seq/ack numbers follow the bytes sent. */
  function conversation(a, aport, b, bport, macA, macB) {
    let seqA = rand(0x7fffffff), seqB = rand(0x7fffffff);
    const fromA = (flags, payload = []) => { emit(ether(0x800, ipv4(6, a, b, tcp(aport, bport, payload, flags, seqA, seqB)), macA, macB)); seqA += payload.length; };
    const fromB = (flags, payload = []) => { emit(ether(0x800, ipv4(6, b, a, tcp(bport, aport, payload, flags, seqB, seqA)), macB, macA)); seqB += payload.length; };
    return {
      open() { fromA(SYN); seqA++; fromB(SYN | ACK); seqB++; fromA(ACK); },
      /** `text` from a (or from b), acknowledged by the other side. */
      send(byA, bytes) {
        for (let i = 0; i < bytes.length; i += 1000) {
          const chunk = bytes.slice(i, i + 1000);
          if (byA) { fromA(PSH_ACK, chunk); fromB(ACK); } else { fromB(PSH_ACK, chunk); fromA(ACK); }
        }
      },
      /** FIN/ACK from the side that finished sending, its ACK, FIN/ACK back, the final ACK. */
      close(byA) {
        const [first, second] = byA ? [fromA, fromB] : [fromB, fromA];
        first(FIN_ACK); if (byA) seqA++; else seqB++;
        second(ACK);
        second(FIN_ACK); if (byA) seqB++; else seqA++;
        first(ACK);
      },
    };
  }

  const file = (n, size) => ascii(Array.from({ length: size }, (_, i) => String.fromCharCode(0x61 + ((i * 7 + n) % 26))).join(''));

  function session(client, server, controlPort, transfers) {
    const ctl = conversation(client, controlPort, server, 21, 1, 2);
    const say = (byClient, line) => ctl.send(byClient, ascii(`${line}\r\n`));
    ctl.open();
    say(false, '220 sample FTP server ready');
    say(true, 'USER anonymous');
    say(false, '331 Guest login ok, send your e-mail address as password.');
    say(true, 'PASS guest@');
    say(false, '230 Guest login ok, access restrictions apply.');
    transfers.forEach(({ mode, size }, n) => {
      const clientPort = 40000 + rand(20000);
      const serverPort = mode === 'PORT' || mode === 'EPRT' ? 20 : 50000 + rand(10000);
      const q = serverPort >> 8, r = serverPort & 0xff;
      const [c1, c2] = [clientPort >> 8, clientPort & 0xff];
      if (mode === 'PASV') { say(true, 'PASV'); say(false, `227 Entering Passive Mode (${server.replaceAll('.', ',')},${q},${r}).`); }
      if (mode === 'EPSV') { say(true, 'EPSV'); say(false, `229 Entering Extended Passive Mode (|||${serverPort}|)`); }
      if (mode === 'PORT') { say(true, `PORT ${client.replaceAll('.', ',')},${c1},${c2}`); say(false, '200 PORT command successful.'); }
      if (mode === 'EPRT') { say(true, `EPRT |1|${client}|${clientPort}|`); say(false, '200 EPRT command successful.'); }
      const upload = n % 2 === 1;
      say(true, upload ? `STOR upload${n}.txt` : `RETR file${n}.txt`);
      say(false, '150 Opening BINARY mode data connection.');
      // Passive modes: the client connects to the server; active modes: the server (port 20) to the client.
      const passive = mode === 'PASV' || mode === 'EPSV';
      const data = passive ? conversation(client, clientPort, server, serverPort, 1, 2) : conversation(server, 20, client, clientPort, 2, 1);
      dataConnections.push({ client, clientPort, server, serverPort, mode });
      data.open();
      const senderIsA = passive ? upload : !upload;   // a is the side that connected
      data.send(senderIsA, file(n, size));
      data.close(senderIsA);
      say(false, '226 Transfer complete.');
    });
    say(true, 'QUIT');
    say(false, '221 Goodbye.');
    ctl.close(true);
  }

  for (let i = 0; i < 5; i++) noise();
  session('192.168.1.10', '198.51.100.21', 51001, [{ mode: 'PASV', size: 3500 }, { mode: 'PORT', size: 2200 }, { mode: 'EPSV', size: 1500 }]);
  session('10.0.0.7', '203.0.113.5', 52002, [{ mode: 'EPRT', size: 4100 }, { mode: 'PASV', size: 900 }]);
  for (let i = 0; i < 5; i++) noise();
  return { bytes: kit.pcap(frames, { start: 1_600_000_000 * 1e6, step: [200, 2000] }), dataConnections };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(join(here, 'ftp.pcap'), ftpTrace().bytes);
  console.log('wrote samples/ftp.pcap');
}
