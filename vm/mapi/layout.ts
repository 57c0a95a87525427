/**
 * A MAPI device's layout: its one WebAssembly.Memory, the views of R[], M[] and S[] in it, and
 * the allocators that give each function instance its S[] words, registers and M[] cells.
 * The areas have fixed sizes, so every recompile of the device's module (on connect and close)
 * has the same layout and runs in the same memory: the other flows keep their results.
 */
import { layout, MAX_REGISTERS, PAGE_BYTES, REGS_OFF } from '../../abi/index.js';
import type { MapiFunctionDef } from '../../hostfns/lib/types.js';
import { RangeAllocator } from './alloc.js';

/** Fixed per-device sizes: the layout never changes, so memory is shared across recompiles. */
export const DEVICE_STATE_WORDS = 256 * 1024;
export const DEVICE_MEMORY_CELLS = 64 * 1024;
/** Loop iterations per packet for the whole device program (HASH walks every byte of a packet). */
export const DEVICE_FUEL = 1 << 30;
export const DEVICE_BATCH_BYTES = 1024 * 1024;
/**
 * The area after a device's layout for the hash tables of large sets (BPF_FILTER `host` lists…),
 * read without branches on a probe (codegen/wasm/memtable.ts); a device program whose tables do
 * not fit keeps them in code. Pages never written cost no memory.
 */
export const DEVICE_TABLES_BYTES = 4 * 1024 * 1024;

/** Device state words: the last packet's timestamp, the 64-bit packet count; instances get the rest. */
export const S_TSSEC = 0, S_TSFRAC = 1, S_PACKETS = 2;
const DEVICE_STATE = 4;
// The registers kept back from instances (none are used by the device program any more; kept
// so the layout of existing devices stays put).
const DEVICE_REGISTERS = 3;
/** State words the device keeps after each instance's own: MAPI's per-function packet counts. */
export const FUNCTION_COUNTER_WORDS = 4;

/** Where one function instance lives: its S[] words (then its four counter words), registers and M[] cells. */
export interface Placement {
  readonly stateBase: number;
  readonly stateWords: number;
  readonly regBase: number;
  readonly registers: number;
  readonly memBase: number;
  readonly memoryCells: number;
  /** Four state words after the instance's own: packets that reached it, packets it passed (u64 each). */
  readonly countersBase: number;
}

/** What release needs of an instance: its places, its definition, and the instances it reads. */
export interface Releasable extends Placement {
  readonly def: MapiFunctionDef<any>;
  readonly config: unknown;
  readonly references: Releasable[];
  referencedBy: number;
  /** Its flow was closed while other instances still read it: its places are freed with the last reader. */
  orphaned: boolean;
}

export class DeviceLayout {
  readonly memory: WebAssembly.Memory;
  /** Live views of the device's R[], M[] and S[]. */
  readonly regs: Uint32Array;
  readonly mem: Uint32Array;
  readonly state: Uint32Array;
  private readonly stateAlloc = new RangeAllocator('state words', DEVICE_STATE, DEVICE_STATE_WORDS);
  private readonly regAlloc = new RangeAllocator('registers', DEVICE_REGISTERS, MAX_REGISTERS);
  private readonly memAlloc = new RangeAllocator('M[] cells', 0, DEVICE_MEMORY_CELLS);

  constructor(linkType: number) {
    const meta = moduleLayout(linkType);
    this.memory = new WebAssembly.Memory({ initial: meta.pages, maximum: meta.pages });
    this.regs = new Uint32Array(this.memory.buffer, REGS_OFF, MAX_REGISTERS);
    this.mem = new Uint32Array(this.memory.buffer, meta.memOff, meta.memoryCells);
    this.state = new Uint32Array(this.memory.buffer, meta.stateOff, DEVICE_STATE_WORDS);
  }

  /**
   * Places an instance needing `words` state words, `registers` registers and `cells` M[] cells
   * (zeroed); undefined, with nothing held, when one of the areas has no room left.
   */
  place(words: number, registers: number, cells: number): Placement | undefined {
    const stateBase = this.stateAlloc.alloc(words + FUNCTION_COUNTER_WORDS);
    const regBase = stateBase === undefined ? undefined : this.regAlloc.alloc(registers);
    const memBase = regBase === undefined ? undefined : this.memAlloc.alloc(cells, Math.max(1, cells));
    if (stateBase === undefined || regBase === undefined || memBase === undefined) {
      if (stateBase !== undefined) this.stateAlloc.release(stateBase, words + FUNCTION_COUNTER_WORDS);
      if (regBase !== undefined) this.regAlloc.release(regBase, registers);
      return undefined;
    }
    this.state.fill(0, stateBase, stateBase + words + FUNCTION_COUNTER_WORDS);
    this.regs.fill(0, regBase, regBase + registers);
    this.mem.fill(0, memBase, memBase + cells);
    return { stateBase, stateWords: words, regBase, registers, memBase, memoryCells: cells, countersBase: stateBase + words };
  }

  /**
   * Frees an instance's places and runs its cleanup, then does the same for the instances it
   * read whose flow is closed and which no one else reads now.
   */
  release(f: Releasable): void {
    this.stateAlloc.release(f.stateBase, f.stateWords + FUNCTION_COUNTER_WORDS);
    this.regAlloc.release(f.regBase, f.registers);
    this.memAlloc.release(f.memBase, f.memoryCells);
    f.def.cleanup?.(f.config);
    for (const ref of f.references) {
      ref.referencedBy--;
      if (ref.orphaned && ref.referencedBy === 0) this.release(ref);
    }
    f.references.length = 0;
  }

  /** An instance's own state words. */
  stateOf(f: Placement): Uint32Array {
    return this.state.subarray(f.stateBase, f.stateBase + f.stateWords);
  }

  /** An instance's M[] cells. */
  memoryOf(f: Placement): Uint32Array {
    return this.mem.subarray(f.memBase, f.memBase + f.memoryCells);
  }

  /** Packets the device's modules have processed. */
  get packets(): bigint {
    return (BigInt(this.state[S_PACKETS + 1]!) << 32n) | BigInt(this.state[S_PACKETS]!);
  }

  /** Time of the last packet processed, µs since the epoch (0 before the first). */
  lastPacketMicros(nanoseconds: boolean): bigint {
    const sec = BigInt(this.state[S_TSSEC]!), frac = BigInt(this.state[S_TSFRAC]!);
    return sec * 1_000_000n + (nanoseconds ? frac / 1000n : frac);
  }
}

/** The layout every module of a device has (compileWasm computes the same from the program). */
function moduleLayout(linkType: number) {
  const meta = layout({ linkType, registers: MAX_REGISTERS, memoryCells: DEVICE_MEMORY_CELLS, fuel: DEVICE_FUEL,
    stateBytes: 4 * DEVICE_STATE_WORDS, batchBytes: DEVICE_BATCH_BYTES });
  if (meta.pages * PAGE_BYTES < meta.resultsOff) throw new Error('internal error: device layout');
  return { ...meta, pages: meta.pages + DEVICE_TABLES_BYTES / PAGE_BYTES };
}
