/** Small byte helpers shared by the readers and writers (no allocation). */

export const u16le = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8);
export const u16be = (b: Uint8Array, i: number): number => (b[i] << 8) | b[i + 1];
export const u32le = (b: Uint8Array, i: number): number =>
  (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
export const u32be = (b: Uint8Array, i: number): number =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

export const u16 = (b: Uint8Array, i: number, bigEndian: boolean): number => (bigEndian ? u16be(b, i) : u16le(b, i));
export const u32 = (b: Uint8Array, i: number, bigEndian: boolean): number => (bigEndian ? u32be(b, i) : u32le(b, i));

export function putU32le(b: Uint8Array, i: number, v: number): void {
  b[i] = v; b[i + 1] = v >>> 8; b[i + 2] = v >>> 16; b[i + 3] = v >>> 24;
}
export function putU16le(b: Uint8Array, i: number, v: number): void {
  b[i] = v; b[i + 1] = v >>> 8;
}

/** Copies n bytes; short copies use a loop so the per-record path creates no subarray view. */
export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  if (n <= 64) {
    for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i];
  } else {
    dst.set(src.subarray(srcOff, srcOff + n), dstOff);
  }
}

export const hex = (b: Uint8Array, n: number): string =>
  Array.from(b.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join(' ');
