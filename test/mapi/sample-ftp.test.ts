/**
 * samples/ftp-monitor.mjs on samples/ftp.pcap, against tcpdump's counts with expressions built
 * from the data connections the trace generator negotiated (not from the monitor's output).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as mapi from '../../vm/mapi/index.js';
import { haveTcpdump, projectRoot, requires } from '../support/env.js';
import { readRecords, tcpdumpCount } from './helpers.js';
// @ts-expect-error: plain-JavaScript samples without type declarations
import { monitor, report } from '../../samples/ftp-monitor.mjs';
// @ts-expect-error: plain-JavaScript samples without type declarations
import { ftpTrace } from '../../samples/make-ftp-trace.mjs';

const FTP = resolve(projectRoot, 'samples/ftp.pcap');

interface DataConnection { client: string; clientPort: number; server: string; serverPort: number; mode: string }

/** A tcpdump expression for one data connection, both directions. */
const dataExpr = (d: DataConnection): string =>
  `(src host ${d.client} and src port ${d.clientPort} and dst host ${d.server} and dst port ${d.serverPort})` +
  ` or (src host ${d.server} and src port ${d.serverPort} and dst host ${d.client} and dst port ${d.clientPort})`;

describe('samples/ftp-monitor.mjs', () => {
  const generated = ftpTrace() as { bytes: Buffer; dataConnections: DataConnection[] };

  it('the committed trace is what the generator writes, with every announcement form', () => {
    expect(Buffer.compare(readFileSync(FTP), generated.bytes)).toBe(0);
    expect(new Set(generated.dataConnections.map((d) => d.mode))).toEqual(new Set(['PASV', 'PORT', 'EPSV', 'EPRT']));
  });

  const run = requires('tcpdump', haveTcpdump) ? it : it.skip;
  run('control, data and all FTP packets and bytes agree with tcpdump', async () => {
    const c = await monitor(mapi, FTP);
    const data = `tcp and (${generated.dataConnections.map(dataExpr).join(' or ')})`;
    const control = 'tcp port 21';
    const expected = { control: tcpdumpCount(FTP, control), data: tcpdumpCount(FTP, data), ftp: tcpdumpCount(FTP, `(${control}) or (${data})`) };
    expect(expected.data).toBeGreaterThan(40);
    expect(expected.control).toBeGreaterThan(40);
    expect(Number(c.control.packets)).toBe(expected.control);
    expect(Number(c.data.packets)).toBe(expected.data);
    expect(Number(c.ftp.packets)).toBe(expected.ftp);
    expect(Number(c.total.packets)).toBe(tcpdumpCount(FTP, ''));

    // bytes: wire lengths of the same packets, picked by the generator's endpoints in JS
    const { records } = readRecords(FTP);
    const ip = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
    let controlBytes = 0n, dataBytes = 0n;
    for (const r of records) {
      const b = r.bytes;
      if (((b[12]! << 8) | b[13]!) !== 0x800 || b[23] !== 6) continue;
      const l4 = 14 + (b[14]! & 15) * 4;
      const sport = (b[l4]! << 8) | b[l4 + 1]!, dport = (b[l4 + 2]! << 8) | b[l4 + 3]!;
      const src = ip(b, 26), dst = ip(b, 30);
      if (sport === 21 || dport === 21) controlBytes += BigInt(r.wlen);
      else if (generated.dataConnections.some((d) =>
        (src === d.client && sport === d.clientPort && dst === d.server && dport === d.serverPort) ||
        (dst === d.client && dport === d.clientPort && src === d.server && sport === d.serverPort))) dataBytes += BigInt(r.wlen);
    }
    expect(c.control.bytes).toBe(controlBytes);
    expect(c.data.bytes).toBe(dataBytes);
    expect(c.ftp.bytes).toBe(controlBytes + dataBytes);
    expect(report(c)).toMatch(/^trace packets +\d+\nFTP packets +\d+ +bytes \d+\n/);
  });
});
