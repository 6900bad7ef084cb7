/**
 * Lines kept as ranges of the bytes they arrived in, rather than as a string and an object each. An agent's output
 * comes up to 256 KiB at a time (OutputPipe), thousands of lines per read; keeping them costs one scan of those bytes
 * (LineKernel) and two offsets a line, and a line becomes a string only when someone reads it (a `logs` page, a
 * follower, a probe).
 * Benchmark 8 in bench/README.md says what keeping a flood of output costs, and what it cost with a string and an
 * object per line.
 */

/**
 * Lines of UTF-8 text: line `i` is `bytes[starts[i], ends[i])`, without its line break. The ranges come in order and
 * never overlap, and no line holds a "\n" (LineSplitter makes them so).
 */
export class ByteLines {
  readonly bytes: Buffer
  readonly starts: Int32Array
  readonly ends: Int32Array

  constructor(bytes: Buffer, starts: Int32Array, ends: Int32Array) {
    this.bytes = bytes
    this.starts = starts
    this.ends = ends
  }

  get count(): number {
    return this.starts.length
  }

  /** Line `index` as text; bytes that are not UTF-8 read as U+FFFD, as any decoder would show them. */
  text(index: number): string {
    return this.bytes.toString("utf8", this.starts[index] ?? 0, this.ends[index] ?? 0)
  }
}
