// PKT_COUNTER applied N times to one flow, then connect: node bench/sizes/apply.mjs N CAPTURE
import { Device } from '../../dist/vm/mapi/index.js';
const n = Number(process.argv[2]);
const dev = await Device.offline(process.argv[3]);
const flow = dev.flow();
let t0 = performance.now();
for (let i = 0; i < n; i++) flow.apply('PKT_COUNTER');
const applied = performance.now() - t0;
t0 = performance.now();
await flow.connect();
console.log(`${n} applies ${applied.toFixed(0)} ms, connect ${(performance.now() - t0).toFixed(0)} ms`);
await dev.start(); await dev.finished();
dev.delete();
