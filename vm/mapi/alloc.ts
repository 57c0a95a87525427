/**
 * A first-fit range allocator over a fixed-size area (state words, registers, M[] cells).
 * Ranges are handed out once and never move, so every recompile of a device's module sees the
 * same layout; freed ranges are reused.
 */
export class RangeAllocator {
  /** Free ranges [start, end), sorted by start, never adjacent. */
  private free: { start: number; end: number }[];

  constructor(readonly what: string, start: number, end: number) {
    this.free = start < end ? [{ start, end }] : [];
  }

  /** Start of `size` units aligned to `align` (a power of two), or undefined when none is free. */
  alloc(size: number, align = 1): number | undefined {
    if (size === 0) return 0;
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i]!;
      const at = Math.ceil(r.start / align) * align;
      if (at + size > r.end) continue;
      const pieces = [];
      if (r.start < at) pieces.push({ start: r.start, end: at });
      if (at + size < r.end) pieces.push({ start: at + size, end: r.end });
      this.free.splice(i, 1, ...pieces);
      return at;
    }
    return undefined;
  }

  release(start: number, size: number): void {
    if (size === 0) return;
    this.free.push({ start, end: start + size });
    this.free.sort((a, b) => a.start - b.start);
    const merged: { start: number; end: number }[] = [];
    for (const r of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.end >= r.start) last.end = Math.max(last.end, r.end);
      else merged.push({ ...r });
    }
    this.free = merged;
  }

  /** Units still free (for tests and messages). */
  get available(): number {
    return this.free.reduce((n, r) => n + r.end - r.start, 0);
  }
}
