#!/usr/bin/env node
/**
 * TCP analysis of a trace with MAPI functions: packets/s and bits/s over the trace, the jitter
 * of packet gaps (GAP read by STATS: mean and standard deviation), and the server's bytes in
 * flight — an estimate of its congestion window — from PROTINFO (server sequence numbers and
 * client acknowledgements, in two flows) combined by BINOP.
 *
 * With `series`, RES2FILE writes the time series: one row per interval with the packets and
 * bytes of the interval (its counters are reset each interval), the gap statistics so far
 * (STATS: count, sum, sum of squares, max, min, in 2^-32 s) and the current bytes in flight.
 *
 *   node samples/mapi-tcpanalyze.mjs samples/web.pcap [port] [series.txt] [interval]
 *
 * `analyze` takes the API as a parameter so the tests run it against the sources.
 */
const TCP_SEQ = 12, TCP_ACK = 13;
const TICKS = 2 ** 32;

export async function analyze(mapi, path, port = 80, { series, interval = '100ms' } = {}) {
  const { Device, PKT_TS, BINOP_SUB, TOPX_TCP, R2F_ULLSTR, R2F_STATS } = mapi;
  const dev = await Device.offline(path);

  const all = dev.flow();
  const pkts = all.apply('PKT_COUNTER');
  const bytes = all.apply('BYTE_COUNTER');
  const first = all.apply('STATS', all.fd, all.apply('PKTINFO', PKT_TS), '0');   // min of the timestamps = the first one
  const gap = all.apply('GAP');
  const jitter = all.apply('STATS', all.fd, gap, '1');                              // every gap but the first packet's 0

  const server = dev.flow();
  server.apply('BPF_FILTER', `tcp src port ${port}`);
  const seq = server.apply('PROTINFO', TOPX_TCP, TCP_SEQ);
  const client = dev.flow();
  client.apply('BPF_FILTER', `tcp dst port ${port} and tcp[tcpflags] & tcp-ack != 0`);
  const ack = client.apply('PROTINFO', TOPX_TCP, TCP_ACK);
  const inflight = client.apply('BINOP', BINOP_SUB, server.fd, seq, client.fd, ack);
  const window = client.apply('STATS', client.fd, inflight, '0');

  if (series) {
    // per-interval counters of their own (RES2FILE resets them), written before the packet that ends an interval is counted
    const ipkts = all.apply('PKT_COUNTER');
    const ibytes = all.apply('BYTE_COUNTER');
    all.apply('RES2FILE', [R2F_ULLSTR, R2F_ULLSTR, R2F_STATS, R2F_ULLSTR].join(','),
      `${ipkts}@${all.fd},${ibytes}@${all.fd},${jitter}@${all.fd},${inflight}@${client.fd}`,
      `# tcpanalyze ${path} every ${interval}: packets bytes gap-count gap-sum gap-sum2 gap-max gap-min inflight`, series, interval, 1);
  }

  for (const f of [all, server, client]) await f.connect();
  await dev.start();
  await dev.finished();

  const t = all.read(first);
  const seconds = Number(t.max - t.min) / TICKS;
  const count = Number(all.read(pkts));
  const bits = Number(all.read(bytes)) * 8;
  const g = all.read(jitter);
  const n = Number(g.count);
  const meanGap = n ? Number(g.sum) / n / TICKS : 0;
  const varGap = n ? Math.max(0, Number(g.sum2) / n / TICKS ** 2 - meanGap ** 2) : 0;
  const w = client.read(window);
  // BINOP subtracts mod 2^64: a sample where the client's ack is past the server's last sequence
  // number (it acknowledged that segment; or the two belong to different connections) is a
  // negative difference, i.e. a value >= 2^63, and so becomes STATS' max. Such a max is no byte
  // count (folding it to 32 bits, as this sample once did, printed 4174876146): report none.
  const inflightMax = w.count && w.max < 2n ** 31n ? Number(w.max) : null;
  dev.delete();
  return {
    packets: count, seconds, packetsPerSecond: seconds > 0 ? count / seconds : 0, bitsPerSecond: seconds > 0 ? bits / seconds : 0,
    gaps: n, meanGapSeconds: meanGap, jitterSeconds: Math.sqrt(varGap), inflightSamples: Number(w.count), inflightMaxBytes: inflightMax,
  };
}

/** The report as lines of `name value` (a header line first, as RES2FILE writes). */
export const report = (r) => ['# tcpanalyze', ...Object.entries(r).map(([k, v]) => `${k} ${v}`)].join('\n') + '\n';

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path = 'samples/web.pcap', port = '80', series, interval] = process.argv.slice(2);
  const r = await analyze(await import('fplc'), path, Number(port), { series, interval });
  process.stdout.write(report(r));
}
