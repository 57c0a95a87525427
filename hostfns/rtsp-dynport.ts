/**
 * GetDynTCPDPortFromRTSP — FPL's shipped extern (spec/fpl.md): finds an RTSP `Transport:`
 * header in the packet and returns the port it negotiates: the first `client_port` number,
 * else the first `server_port` number, else 0.
 *
 * It scans the captured bytes for the header name (case-insensitive, at a line start) rather
 * than decoding link, IP and TCP headers: RTSP is text, binary headers cannot hold a CRLF
 * followed by "Transport:", and the extern then works on every link type. It runs only for the
 * packets a program calls it on (port 554 in the samples), so a plain JS scan is fine.
 */
import type { ExternImpl } from '../abi/index.js';

const HEADER = 'transport:';

export function rtspTransportPort(packet: Uint8Array): number {
  const line = findTransportLine(packet);
  if (!line) return 0;
  return portAfter(line, 'client_port=') || portAfter(line, 'server_port=');
}

/** The text of the first `Transport:` header line (without its name), or undefined. */
function findTransportLine(p: Uint8Array): string | undefined {
  outer: for (let i = 0; i + HEADER.length <= p.length; i++) {
    if (i > 0 && p[i - 1] !== 0x0a) continue;
    for (let j = 0; j < HEADER.length; j++) {
      if ((p[i + j]! | 0x20) !== HEADER.charCodeAt(j)) continue outer;
    }
    let end = i + HEADER.length;
    while (end < p.length && p[end] !== 0x0d && p[end] !== 0x0a) end++;
    return String.fromCharCode(...p.subarray(i + HEADER.length, end)).toLowerCase();
  }
  return undefined;
}

function portAfter(line: string, key: string): number {
  const at = line.indexOf(key);
  if (at < 0) return 0;
  const m = /^\s*(\d{1,5})/.exec(line.slice(at + key.length));
  const port = m ? Number(m[1]) : 0;
  return port <= 65535 ? port : 0;
}

export const getDynTcpDPortFromRtsp: ExternImpl = {
  name: 'GetDynTCPDPortFromRTSP',
  summary: 'port negotiated by an RTSP Transport: header (client_port, else server_port; 0 if none)',
  inCells: 0,
  outCells: 0,
  call: (ctx) => rtspTransportPort(ctx.packet),
};
