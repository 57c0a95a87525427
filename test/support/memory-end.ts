/**
 * Runs a program's module on one packet whose record ends exactly at the end of the module's
 * memory: where a scan that reads ahead (SIMD loads) would run off the memory.
 */
import { compileWasm } from '../../codegen/wasm/index.js';
import type { Program } from '../../lang/ir/ir.js';
import { CTRL_RECORD_LIMIT, MEM_OFF, PAGE_BYTES, RECORD_HEADER_BYTES } from '../../abi/index.js';
import { toRecords } from './records.js';

/** A runner: the packet's result, its record placed at the memory's end (the result lands in M[0]). */
export function atMemoryEnd(program: Program): (packet: Uint8Array, ts: readonly [number, number]) => number {
  const { wasm, meta } = compileWasm(program);
  const memory = new WebAssembly.Memory({ initial: meta.pages, maximum: meta.pages });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), { env: { memory } });
  const run = instance.exports.run as (start: number, end: number, out: number) => number;
  const bytes = new Uint8Array(memory.buffer);
  const words = new Uint32Array(memory.buffer);
  words[CTRL_RECORD_LIMIT / 4] = 1 << 20;
  const memEnd = meta.pages * PAGE_BYTES;
  return (packet, ts) => {
    const start = memEnd - RECORD_HEADER_BYTES - packet.length;
    bytes.set(toRecords([{ bytes: packet, wirelen: packet.length, ts }]), start);
    if (run(start, memEnd, MEM_OFF) !== 1) throw new Error('the record at the memory\'s end did not run');
    return words[MEM_OFF / 4]!;
  };
}
