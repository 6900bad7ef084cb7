/**
 * Bytes gathered to be written at once: agents' lines, each with a prefix (a log file's `<time> <stream> `, a
 * terminal's `name | `) and a "\n", copied from the bytes they arrived in, plus any text. Writing a million lines
 * then costs a few thousand writes of large buffers, and no string per line.
 *
 * A line is moved with `copyWithin`, the fastest way Node has to move bytes without allocating (a view per line,
 * or `Buffer.copy`, cost more): a batch is first copied in whole past where its formatted lines will end, and each
 * line is moved into place from there. The prefix is set from one buffer (`set` of a whole typed array is cheaper
 * than `copyWithin`). About 50 ns a line of 100 bytes, measured; the rest of a line's cost is the write.
 */
import type { ByteLines } from "./ByteLines.ts"

const NEWLINE = 0x0a

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

  /** Appends each of `lines` as `prefix`, the line's bytes and "\n". */
  appendPrefixed(lines: ByteLines, prefix: string): void {
    const { bytes, starts, ends } = lines
    const count = starts.length
    if (count === 0) return
    const first = starts[0] ?? 0
    // The byte after the last line too: the "\n" that ended it, copied with it.
    const last = Math.min(bytes.length, (ends[count - 1] ?? 0) + 1)
    const prefixBytes = Buffer.from(prefix, "utf8")
    // At most the prefix and one "\n" a line more than the range (its ranges do not overlap, ByteLines says).
    const formatted = count * (prefixBytes.length + 1) + last - first
    this.reserve(formatted + last - first)
    const target = this.bytes
    const source = this.length + formatted - first
    bytes.copy(target, source + first, first, last)
    let at = this.length
    for (let index = 0; index < count; index++) {
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

  /** Forgets what was gathered; a buffer grown past `keep` bytes by a burst is let go. */
  clear(keep: number): void {
    this.length = 0
    if (this.bytes.length > keep) this.bytes = Buffer.allocUnsafe(keep)
  }
}
