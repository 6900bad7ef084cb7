/**
 * Bytes gathered to be written at once: agents' lines, each with a prefix (a log file's `<time> <stream> `, a
 * terminal's `name | `) and a "\n", copied from the bytes they arrived in, plus any text. Writing a million lines
 * then costs a few hundred writes of large buffers, and no string per line.
 *
 * Lines are formatted in WebAssembly (LineKernel: two copies a line, about 15 ns for a line of 100 bytes). Without
 * it, a line is moved with `copyWithin`, the fastest way JavaScript has to move bytes without allocating (a view per
 * line, or `Buffer.copy`, cost more): a batch is first copied in whole past where its formatted lines will end, and
 * each line is moved into place from there, about 30 ns a line.
 */
import type { ByteLines } from "./ByteLines.ts"
import { formatLines, formatRunEnd, formattedBound, MAX_PREFIX, runsInWebAssembly, spanOf } from "./LineKernel.ts"

const NEWLINE = 0x0a

/** The most bytes of lines formatted at once in JavaScript. */
const JAVASCRIPT_RUN = 64 * 1024

export class LineBuffer {
  /** What has been gathered is `bytes[0, length)`. */
  bytes: Buffer
  length = 0

  constructor(capacity = 0) {
    this.bytes = Buffer.allocUnsafe(capacity)
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.length + extra, this.bytes.length * 2))
    this.bytes.copy(grown, 0, 0, this.length)
    this.bytes = grown
  }

  /** Whether `appendPrefixed(lines, prefix)` fits in the buffer as it is, without growing it. */
  fits(lines: ByteLines, prefix: string): boolean {
    const count = lines.count
    const prefixLength = Buffer.byteLength(prefix)
    // Formatting in JavaScript first copies a run of the lines' bytes past where its formatted lines will end.
    const copy = runsInWebAssembly && prefixLength <= MAX_PREFIX ? 0 : Math.min(spanOf(lines, 0, count), JAVASCRIPT_RUN) + 1
    return this.length + formattedBound(lines, 0, count, prefixLength) + copy <= this.bytes.length
  }

  /** Appends each of `lines` as `prefix`, the line's bytes and "\n". */
  appendPrefixed(lines: ByteLines, prefix: string): void {
    const count = lines.count
    if (count === 0) return
    const prefixBytes = Buffer.from(prefix, "utf8")
    for (let from = 0; from < count;) {
      const to = formatRunEnd(lines, from, prefixBytes.length)
      this.reserve(formattedBound(lines, from, to, prefixBytes.length))
      const written = formatLines(lines, from, to, prefixBytes, this.bytes, this.length)
      if (written === undefined) return this.appendPrefixedInJavaScript(lines, prefixBytes)
      this.length += written
      from = to
    }
  }

  /**
   * `appendPrefixed` in JavaScript: where WebAssembly cannot run (LineKernel), and for the tests, which compare. A
   * run of lines at a time, so that the room it takes beyond what it writes stays within JAVASCRIPT_RUN.
   */
  appendPrefixedInJavaScript(lines: ByteLines, prefixBytes: Uint8Array): void {
    for (let from = 0; from < lines.count;) {
      const to = formatRunEnd(lines, from, prefixBytes.length, JAVASCRIPT_RUN)
      this.appendRunInJavaScript(lines, from, to, prefixBytes)
      from = to
    }
  }

  private appendRunInJavaScript(lines: ByteLines, from: number, to: number, prefixBytes: Uint8Array): void {
    const { bytes, starts, ends } = lines
    const first = starts[from] ?? 0
    // The byte after the last line too: the "\n" that ended it, copied with it.
    const last = Math.min(bytes.length, (ends[to - 1] ?? 0) + 1)
    // At most the prefix and one "\n" a line more than the range (its ranges do not overlap, ByteLines says).
    const formatted = (to - from) * (prefixBytes.length + 1) + last - first
    this.reserve(formatted + last - first)
    const target = this.bytes
    const source = this.length + formatted - first
    bytes.copy(target, source + first, first, last)
    let at = this.length
    for (let index = from; index < to; index++) {
      target.set(prefixBytes, at)
      at += prefixBytes.length
      const start = starts[index] ?? 0
      const end = ends[index] ?? 0
      // With the "\n" that followed the line where it arrived, when it was one (not "\r\n", not the end).
      if (bytes[end] === NEWLINE) {
        target.copyWithin(at, source + start, source + end + 1)
        at += end + 1 - start
      } else {
        target.copyWithin(at, source + start, source + end)
        at += end - start
        target[at++] = NEWLINE
      }
    }
    this.length = at
  }

  appendText(text: string): void {
    const length = Buffer.byteLength(text)
    this.reserve(length)
    this.length += this.bytes.write(text, this.length, "utf8")
  }

  /** Gives away the buffer and what it holds (`[0, length)`), and goes on in `next`, empty. */
  swap(next: Buffer): Buffer {
    const taken = this.bytes
    this.bytes = next
    this.length = 0
    return taken
  }

  /** Forgets what was gathered; a buffer grown past `keep` bytes by a burst is let go. */
  clear(keep: number): void {
    this.length = 0
    if (this.bytes.length > keep) this.bytes = Buffer.allocUnsafe(keep)
  }
}
