/** The size of the largest function body in a WebAssembly binary (its code section). */
export function largestFunctionBody(wasm: Uint8Array): number {
  let p = 8;
  const leb = (): number => {
    let v = 0, shift = 0, b: number;
    do { b = wasm[p++]!; v += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return v;
  };
  while (p < wasm.length) {
    const id = wasm[p++]!;
    const size = leb();
    const end = p + size;
    if (id === 10) {
      let largest = 0;
      for (let n = leb(); n > 0; n--) { const body = leb(); largest = Math.max(largest, body); p += body; }
      return largest;
    }
    p = end;
  }
  return 0;
}
