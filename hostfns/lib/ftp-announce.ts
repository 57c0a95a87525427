/**
 * Finds the data endpoint an FTP control segment announces, reading its bytes in place (no
 * strings, no allocation: TRACK_FTP calls it for every control segment with a payload).
 *
 * Forms (RFC 959, RFC 2428), one per line, the first one found wins:
 *   client → server   `PORT h1,h2,h3,h4,p1,p2`            endpoint h1.h2.h3.h4 : p1·256+p2
 *                     `EPRT |1|a.b.c.d|port|`             (any delimiter; family 2, IPv6, is ignored)
 *   server → client   `227 … (h1,h2,h3,h4,p1,p2)`         the first six-number group on the line
 *                     `229 … (|||port|)`                  the address is the server's own (the sender)
 * Keywords are case-insensitive; a port must be 1–65535 and every address byte 0–255.
 */

export interface FtpEndpoint {
  /** IPv4 address, as the u32 of its four bytes in network order. */
  addr: number;
  port: number;
}

const CR = 0x0d, LF = 0x0a, COMMA = 0x2c, DOT = 0x2e, SPACE = 0x20, OPEN = 0x28;
const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;

/**
 * Parses bytes[from, to) as an FTP control payload sent by the client (`fromServer` false:
 * PORT/EPRT) or by the server (227/229). `sender` is the packet's source address (229 uses it).
 * Fills `out` and returns true when an endpoint is announced.
 */
export function parseFtpAnnouncement(bytes: Uint8Array, from: number, to: number, fromServer: boolean, sender: number, out: FtpEndpoint): boolean {
  let line = from;
  while (line < to) {
    let end = line;
    while (end < to && bytes[end] !== LF) end++;
    const stop = end > line && bytes[end - 1] === CR ? end - 1 : end;
    if (fromServer ? parseReply(bytes, line, stop, sender, out) : parseCommand(bytes, line, stop, out)) return true;
    line = end + 1;
  }
  return false;
}

function parseCommand(b: Uint8Array, at: number, stop: number, out: FtpEndpoint): boolean {
  if (keyword(b, at, stop, 'PORT')) return sixNumbers(b, skipSpaces(b, at + 4, stop), stop, out);
  if (keyword(b, at, stop, 'EPRT')) return extendedPort(b, skipSpaces(b, at + 4, stop), stop, out);
  return false;
}

function parseReply(b: Uint8Array, at: number, stop: number, sender: number, out: FtpEndpoint): boolean {
  if (!keyword(b, at, stop, '227') && !keyword(b, at, stop, '229')) return false;
  if (b[at + 2] === 0x37) {   // 227: the first group of six numbers on the line
    for (let i = at + 3; i < stop; i++) {
      if (isDigit(b[i]) && !isDigit(b[i - 1]) && sixNumbers(b, i, stop, out)) return true;
    }
    return false;
  }
  // 229: "(" d d d port d, with any delimiter d
  for (let i = at + 3; i + 5 < stop; i++) {
    if (b[i] !== OPEN) continue;
    const d = b[i + 1]!;
    if (b[i + 2] !== d || b[i + 3] !== d) continue;
    const port = number(b, i + 4, stop);
    if (port && port.value >= 1 && port.value <= 65535 && b[port.end] === d) {
      out.addr = sender;
      out.port = port.value;
      return true;
    }
  }
  return false;
}

/** `keyword` at the start of the line, followed by a space, a '-' (multi-line reply) or the end. */
function keyword(b: Uint8Array, at: number, stop: number, word: string): boolean {
  if (at + word.length > stop) return false;
  for (let i = 0; i < word.length; i++) {
    const ch = b[at + i]!;
    const lower = ch >= 0x41 && ch <= 0x5a ? ch | 0x20 : ch;
    if (lower !== (word.charCodeAt(i) | 0x20) && ch !== word.charCodeAt(i)) return false;
  }
  const next = b[at + word.length];
  return at + word.length === stop || next === SPACE || next === 0x2d;
}

function skipSpaces(b: Uint8Array, at: number, stop: number): number {
  while (at < stop && b[at] === SPACE) at++;
  return at;
}

// One reusable result: `number` is called per announcement, never concurrently.
const parsed = { value: 0, end: 0 };

/** A decimal number of 1–5 digits at `at`. */
function number(b: Uint8Array, at: number, stop: number): typeof parsed | undefined {
  let v = 0, i = at;
  while (i < stop && isDigit(b[i]) && i - at < 5) v = v * 10 + b[i++]! - 0x30;
  if (i === at || isDigit(b[i])) return undefined;
  parsed.value = v;
  parsed.end = i;
  return parsed;
}

/** h1,h2,h3,h4,p1,p2 (spaces allowed after the commas). */
function sixNumbers(b: Uint8Array, at: number, stop: number, out: FtpEndpoint): boolean {
  let addr = 0, port = 0, i = at;
  for (let k = 0; k < 6; k++) {
    if (k > 0) {
      if (b[i] !== COMMA) return false;
      i = skipSpaces(b, i + 1, stop);
    }
    const n = number(b, i, stop);
    if (!n || n.value > 255) return false;
    if (k < 4) addr = ((addr << 8) | n.value) >>> 0;
    else port = (port << 8) | n.value;
    i = n.end;
  }
  if (port === 0) return false;
  out.addr = addr;
  out.port = port;
  return true;
}

/** d 1 d a.b.c.d d port d (RFC 2428), IPv4 only. */
function extendedPort(b: Uint8Array, at: number, stop: number, out: FtpEndpoint): boolean {
  const d = b[at];
  if (d === undefined || at >= stop || d < 0x21 || d > 0x7e || isDigit(d)) return false;
  if (b[at + 1] !== 0x31 || b[at + 2] !== d) return false;
  let i = at + 3, addr = 0;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (b[i] !== DOT) return false;
      i++;
    }
    const n = number(b, i, stop);
    if (!n || n.value > 255) return false;
    addr = ((addr << 8) | n.value) >>> 0;
    i = n.end;
  }
  if (b[i] !== d) return false;
  const port = number(b, i + 1, stop);
  if (!port || port.value < 1 || port.value > 65535 || b[port.end] !== d || port.end >= stop) return false;
  out.addr = addr;
  out.port = port.value;
  return true;
}
