#!/usr/bin/env node
/**
 * The FTP monitor of the MAPI paper: packets and bytes of FTP traffic — the control
 * connections and the data connections they negotiate on dynamic ports — found by TRACK_FTP
 * and counted by PKT_COUNTER and BYTE_COUNTER, in three flows on one device (all FTP, control
 * only, data only), so the trace is read once.
 *
 *   node samples/ftp-monitor.mjs samples/ftp.pcap
 *
 * `monitor` takes the API as a parameter so the tests run it against the sources.
 */
export async function monitor(mapi, path) {
  const dev = await mapi.Device.offline(path);
  const flows = {};
  for (const [name, extra] of [['ftp', undefined], ['control', 'tcp port 21'], ['data', 'not tcp port 21']]) {
    const flow = dev.flow();
    flow.apply('TRACK_FTP');
    if (extra) flow.apply('BPF_FILTER', extra);
    flows[name] = { flow, packets: flow.apply('PKT_COUNTER'), bytes: flow.apply('BYTE_COUNTER') };
  }
  for (const f of Object.values(flows)) await f.flow.connect();
  await dev.start();
  await dev.finished();
  const counts = {};
  for (const [name, f] of Object.entries(flows)) counts[name] = { packets: f.flow.read(f.packets), bytes: f.flow.read(f.bytes) };
  counts.total = { packets: dev.packets };
  dev.delete();
  return counts;
}

export const report = (c) => [
  `trace packets      ${c.total.packets}`,
  `FTP packets        ${c.ftp.packets}  bytes ${c.ftp.bytes}`,
  `  control packets  ${c.control.packets}  bytes ${c.control.bytes}`,
  `  data packets     ${c.data.packets}  bytes ${c.data.bytes}`,
].join('\n') + '\n';

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path = 'samples/ftp.pcap'] = process.argv.slice(2);
  process.stdout.write(report(await monitor(await import('fplc'), path)));
}
