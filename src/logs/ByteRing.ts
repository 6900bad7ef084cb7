/**
 * The bytes of one agent's kept lines: a circular buffer that each batch is copied into, and freed from oldest
 * first, as the agent's ring forgets lines. It grows (doubling) when what is kept does not fit, and is reused
 * otherwise, so that keeping a flood of output allocates nothing per chunk.
 *
 * Why copy rather than keep the pipe's own buffers: those are reused for the next read (OutputPipe); and V8 counts
 * the memory of array buffers outside its heap, and every ~64 MiB of them, dead or alive, it runs a full collection of
 * the whole heap (about 25 ms of the main thread each, plus the marking threads, in an orchestrator). An agent
 * writing 100 MB caused two or three of them when its read buffers were kept.
 */

export class ByteRing {
  bytes: Buffer = Buffer.allocUnsafe(0)
  /** Where the oldest kept byte is. */
  private head = 0
  /** How many bytes from `head` on are taken, counting the unused end of the buffer a wrap skipped. */
  private used = 0

  /**
   * Copies `source[from, to)` in. Returns where it went and how much of the ring it takes (its `footprint`, to give
   * back to `free` once it is forgotten). When the ring has to grow, everything in it moves first: `moved` is told
   * how to find an old offset in the new buffer.
   */
  put(source: Uint8Array, from: number, to: number, moved: (relocate: (offset: number) => number) => void): {
    readonly offset: number
    readonly footprint: number
  } {
    const length = to - from
    // Empty lines take nothing, wherever they are said to be.
    if (length === 0) return { offset: 0, footprint: 0 }
    const place = this.place(length) ?? (this.grow(length, moved), this.place(length))
    if (place === undefined) throw new Error(`no room for ${length} bytes in a ring grown to hold them`)
    this.bytes.set(source.subarray(from, to), place.offset)
    this.used += place.footprint
    return place
  }

  /** The oldest `footprint` bytes taken are free again. */
  free(footprint: number): void {
    this.used -= footprint
    this.head = this.used === 0 ? 0 : (this.head + footprint) % this.bytes.length
  }

  /** Where `length` bytes fit now, right after the newest or, past the buffer's end, at its start; else nowhere. */
  private place(length: number): { readonly offset: number; readonly footprint: number } | undefined {
    const capacity = this.bytes.length
    if (this.used + length > capacity) return undefined
    const tail = (this.head + this.used) % capacity
    const wrapped = this.used > 0 && tail <= this.head
    if (wrapped) return tail + length <= this.head ? { offset: tail, footprint: length } : undefined
    if (tail + length <= capacity) return { offset: tail, footprint: length }
    // Skipping the buffer's end: that gap is taken too, and freed with these bytes.
    return length <= this.head ? { offset: 0, footprint: capacity - tail + length } : undefined
  }

  private grow(length: number, moved: (relocate: (offset: number) => number) => void): void {
    const capacity = this.bytes.length
    const grown = Buffer.allocUnsafe(Math.max(4096, 2 * capacity, 2 * (this.used + length)))
    // What is taken moves to the start in order, gaps and all, so that every footprint stays right.
    const first = Math.min(this.used, capacity - this.head)
    this.bytes.copy(grown, 0, this.head, this.head + first)
    this.bytes.copy(grown, first, 0, this.used - first)
    const head = this.head
    this.bytes = grown
    this.head = 0
    moved((offset) => (offset - head + capacity) % capacity)
  }
}
