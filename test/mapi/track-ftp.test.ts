/**
 * TRACK_FTP on crafted packets: every announcement form in its direction, data in both
 * directions, lookalikes that must not pass, idle expiry at the 60 s boundary, the FIN/ACK ×2
 * close, table replacement; and the announcement parser on its own.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Device } from '../../vm/mapi/index.js';
import { parseFtpAnnouncement } from '../../hostfns/lib/ftp-announce.js';
import { DATA_SLOTS } from '../../hostfns/mapi-track-ftp.js';
import { ipv4Frame, tempDir, writePcap } from './helpers.js';

const SYN = 0x02, ACK = 0x10, PSH_ACK = 0x18, FIN_ACK = 0x11;
const CLIENT = '192.168.7.2', SERVER = '198.51.100.9', OTHER = '10.1.1.1';

const ipBytes = (a: string) => a.split('.').map(Number);
const ipU32 = (a: string) => ipBytes(a).reduce((x, b) => ((x << 8) | b) >>> 0, 0);

/** Ethernet/IPv4/TCP; the IPv4 id carries the packet's index so the test can tell packets apart. */
function tcpFrame(id: number, src: string, dst: string, sport: number, dport: number, flags: number, text = ''): Uint8Array {
  return ipv4Frame(6, Buffer.from(text, 'latin1'), { id, src: ipBytes(src), dst: ipBytes(dst), sport, dport, flags });
}

interface Step { at: number; src: string; dst: string; sport: number; dport: number; flags?: number; text?: string; pass: boolean }

const dir = tempDir();
let traces = 0;

/** Runs TRACK_FTP over the steps (µs resolution times, in seconds) and returns the ids that passed and the ids that should have. */
async function passed(steps: Step[]): Promise<{ got: number[]; want: number[] }> {
  const base = 1_700_000_000;
  const path = writePcap(join(dir, `t${traces++}.pcap`), steps.map((s, i) => {
    const us = Math.round(s.at * 1e6);
    return { sec: base + Math.floor(us / 1e6), usec: us % 1e6, bytes: tcpFrame(i, s.src, s.dst, s.sport, s.dport, s.flags ?? PSH_ACK, s.text) };
  }));
  const dev = await Device.offline(path);
  const flow = dev.flow();
  flow.apply('TRACK_FTP');
  const buf = flow.apply('TO_BUFFER', 0);
  await flow.connect();
  await dev.start();
  const got: number[] = [];
  for await (const p of flow.packets(buf)) got.push((p.pkt[18]! << 8) | p.pkt[19]!);
  dev.delete();
  return { got, want: steps.flatMap((s, i) => (s.pass ? [i] : [])) };
}

const control = (at: number, fromClient: boolean, text: string): Step =>
  fromClient ? { at, src: CLIENT, dst: SERVER, sport: 40000, dport: 21, text: `${text}\r\n`, pass: true }
    : { at, src: SERVER, dst: CLIENT, sport: 21, dport: 40000, text: `${text}\r\n`, pass: true };
const data = (at: number, src: string, sport: number, dst: string, dport: number, pass: boolean, flags = PSH_ACK): Step =>
  ({ at, src, dst, sport, dport, flags, text: flags === PSH_ACK ? 'payload' : '', pass });

describe('TRACK_FTP announcements', () => {
  it('PASV (227): the client connects to the announced server endpoint; both directions pass', async () => {
    const r = await passed([
      data(0, CLIENT, 41000, SERVER, 50123, false),                  // before the announcement
      control(1, true, 'PASV'),
      control(2, false, '227 Entering Passive Mode (198,51,100,9,195,203).'),
      data(3, CLIENT, 41000, SERVER, 50123, true, SYN),
      data(3.1, SERVER, 50123, CLIENT, 41000, true, SYN | ACK),
      data(3.2, CLIENT, 41000, SERVER, 50123, true, ACK),
      data(3.3, SERVER, 50123, CLIENT, 41000, true),
      data(3.4, OTHER, 41000, SERVER, 50123, false),                 // another host to the same endpoint
      data(3.5, SERVER, 50124, CLIENT, 41000, false),                // a neighbouring port
      data(3.6, SERVER, 50123, OTHER, 41000, false),
      data(4, SERVER, 53, CLIENT, 53, false),                        // unrelated
    ]);
    expect(r.got).toEqual(r.want);
  });

  it('PORT: the server (port 20) connects to the announced client endpoint', async () => {
    const r = await passed([
      control(0, true, 'PORT 192,168,7,2,156,64'),
      data(1, SERVER, 20, CLIENT, 40000, true, SYN),                 // 156·256+64 = 40000
      data(1.1, CLIENT, 40000, SERVER, 20, true, SYN | ACK),
      data(1.2, SERVER, 20, CLIENT, 40001, false),
      data(1.3, OTHER, 20, CLIENT, 40000, false),
    ]);
    expect(r.got).toEqual(r.want);
  });

  it('EPRT and EPSV (229), lower-case keywords, any delimiter', async () => {
    const r = await passed([
      control(0, true, 'eprt !1!192.168.7.2!6275!'),
      data(1, SERVER, 20, CLIENT, 6275, true),
      data(1.1, CLIENT, 6275, SERVER, 20, true),
      control(2, false, '229 Entering Extended Passive Mode (|||6446|)'),
      data(3, CLIENT, 51000, SERVER, 6446, true),
      data(3.1, SERVER, 6446, CLIENT, 51000, true),
      data(3.2, CLIENT, 51000, OTHER, 6446, false),                  // EPSV's address is the server's own
    ]);
    expect(r.got).toEqual(r.want);
  });

  it('announcements count only in their direction, and only on port 21', async () => {
    const r = await passed([
      control(0, false, 'PORT 192,168,7,2,20,0'),                    // a "PORT" sent by the server
      data(1, SERVER, 20, CLIENT, 5120, false),
      control(2, true, '227 Entering Passive Mode (198,51,100,9,20,1).'),   // a "227" sent by the client
      data(3, CLIENT, 41000, SERVER, 5121, false),
      { at: 4, src: CLIENT, dst: SERVER, sport: 40000, dport: 2121, text: 'PORT 192,168,7,2,20,2\r\n', pass: false },
      data(5, SERVER, 20, CLIENT, 5122, false),
      control(6, true, 'EPRT |2|::1|5123|'),                          // IPv6: not tracked
      data(7, SERVER, 20, CLIENT, 5123, false),
      control(8, true, 'PORT 192,168,7,2,0,0'),                       // port 0
      control(9, true, 'PORT 192,168,7,300,20,4'),                    // not an address
      data(10, SERVER, 20, CLIENT, 5124, false),
    ]);
    expect(r.got).toEqual(r.want);
  });
});

describe('TRACK_FTP expiry', () => {
  it('an entry idle for exactly 60 s still matches; one idle for longer does not', async () => {
    const r = await passed([
      control(0, true, 'PORT 192,168,7,2,31,64'),                    // 8000
      control(0.5, true, 'PORT 192,168,7,2,31,65'),                  // 8001
      data(60, SERVER, 20, CLIENT, 8000, true),                      // 60 s after the announcement
      data(120.000001, SERVER, 20, CLIENT, 8000, false),             // 60.000001 s idle
      data(60.500001, SERVER, 20, CLIENT, 8001, false),
      data(61, SERVER, 20, CLIENT, 8000, false),                     // the entry is gone, not revived
    ]);
    expect(r.got).toEqual(r.want);
  });

  it('FIN from each side closes the connection after its final ACK; one side\'s FIN twice does not', async () => {
    const r = await passed([
      control(0, true, 'PORT 192,168,7,2,31,64'),
      data(1, SERVER, 20, CLIENT, 8000, true, FIN_ACK),
      data(1.1, SERVER, 20, CLIENT, 8000, true, FIN_ACK),            // retransmitted FIN, same side
      data(1.2, CLIENT, 8000, SERVER, 20, true, ACK),
      data(1.3, CLIENT, 8000, SERVER, 20, true, FIN_ACK),
      data(1.4, SERVER, 20, CLIENT, 8000, true, ACK),                // the final ACK passes …
      data(1.5, CLIENT, 8000, SERVER, 20, false, ACK),               // … and ends the entry
      control(2, true, 'PORT 192,168,7,2,31,64'),                    // announced again: tracked again
      data(2.1, SERVER, 20, CLIENT, 8000, true, SYN),
    ]);
    expect(r.got).toEqual(r.want);
  });

  it(`with ${DATA_SLOTS} entries in use, a new announcement replaces the least recently seen`, async () => {
    const steps: Step[] = [];
    for (let i = 0; i < DATA_SLOTS; i++) steps.push(control(i, true, `PORT 192,168,7,2,100,${i}`));
    for (let i = 1; i < DATA_SLOTS; i++) steps.push(data(40 + i * 0.01, SERVER, 20, CLIENT, 25600 + i, true));   // all but port 25600 seen again
    steps.push(control(41, true, 'PORT 192,168,7,2,200,0'));
    steps.push(data(42, SERVER, 20, CLIENT, 51200, true));
    steps.push(data(42.1, SERVER, 20, CLIENT, 25600, false));
    for (let i = 1; i < DATA_SLOTS; i++) steps.push(data(43, SERVER, 20, CLIENT, 25600 + i, true));
    const r = await passed(steps);
    expect(r.got).toEqual(r.want);
  });
});

describe('FTP announcement parser', () => {
  const parse = (text: string, fromServer: boolean, sender = ipU32(SERVER)) => {
    const out = { addr: 0, port: 0 };
    const b = Buffer.from(text, 'latin1');
    return parseFtpAnnouncement(b, 0, b.length, fromServer, sender, out) ? out : undefined;
  };
  it('reads each form', () => {
    expect(parse('PORT 10,0,0,1,4,1\r\n', false)).toEqual({ addr: ipU32('10.0.0.1'), port: 1025 });
    expect(parse('PORT 10, 0, 0, 1, 4, 1', false)).toEqual({ addr: ipU32('10.0.0.1'), port: 1025 });
    expect(parse('227 Entering Passive Mode (10,0,0,2,255,255)', true)).toEqual({ addr: ipU32('10.0.0.2'), port: 65535 });
    expect(parse('227 =10,0,0,2,0,21', true)).toEqual({ addr: ipU32('10.0.0.2'), port: 21 });
    expect(parse('EPRT |1|10.0.0.3|65535|', false)).toEqual({ addr: ipU32('10.0.0.3'), port: 65535 });
    expect(parse('229 Extended (!!!1!)', true, 7)).toEqual({ addr: 7, port: 1 });
    expect(parse('NOOP\r\nPORT 1,2,3,4,0,9\r\n', false)).toEqual({ addr: ipU32('1.2.3.4'), port: 9 });
  });
  it('rejects malformed and out-of-range announcements', () => {
    for (const [text, fromServer] of [
      ['PORT 10,0,0,1,4', false], ['PORT 10,0,0,1,4,1000', false], ['PORT 256,0,0,1,4,1', false], ['PORTS 10,0,0,1,4,1', false],
      ['xPORT 10,0,0,1,4,1', false], ['EPRT |1|10.0.0.3|65536|', false], ['EPRT |1|10.0.0.3|0|', false], ['EPRT |1|10.0.0|80|', false],
      ['EPRT |1|10.0.0.3|80', false], ['229 (|||0|)', true], ['229 (||80|)', true], ['2270 (1,2,3,4,5,6)', true],
      ['227 (1,2,3,4,5)', true], ['PORT 1,2,3,4,5,6', true], ['227 (1,2,3,4,5,6)', false], ['', false], ['227', true],
    ] as [string, boolean][]) {
      expect(parse(text, fromServer), text).toBeUndefined();
    }
  });
  it('never reads outside its range', () => {
    const b = Buffer.from('xxPORT 1,2,3,4,5,6\r\nyy', 'latin1');
    const out = { addr: 0, port: 0 };
    expect(parseFtpAnnouncement(b, 2, 2 + 'PORT 1,2,3,4,5'.length, false, 0, out)).toBe(false);
    expect(parseFtpAnnouncement(b, 2, b.length, false, 0, out)).toBe(true);
  });
});
