/**
 * Splits an agent's output into lines as its pipe delivers it, chunk by chunk, without decoding it: a line ends at
 * "\n" (a "\r" just before it is dropped), and the lines of a chunk come out together as ranges of its bytes.
 *
 * A line longer than MAX_LINE_LENGTH characters (UTF-16 units, as JavaScript counts them) is split into pieces of
 * at most that many, as soon as it is that long, so that a line without an end (a runaway progress bar) cannot
 * exhaust memory. A piece never ends inside a character, wherever the pipe's reads cut one: a piece is one unit
 * shorter where a character outside the BMP (two units) would straddle the limit, and a byte that is not part of
 * well-formed UTF-8 counts as one unit (a decoder shows at most one U+FFFD for it).
 *
 * Line breaks are found by LineKernel, a window of the chunk at a time; what is left here is what crosses chunks
 * (a line begun in an earlier one, a long line). Not `Stream.splitLines`: it has no bound, and it makes a string of
 * every line.
 */
import { ByteLines } from "./ByteLines.ts"
import { scanLines, WINDOW } from "./LineKernel.ts"

/** Longest line kept whole, in UTF-16 units; longer ones are split. */
export const MAX_LINE_LENGTH = 8192

const NEWLINE = 0x0a
const RETURN = 0x0d

/** How many bytes a character led by `lead` takes (1 for a byte that leads none); Unicode's table 3-7. */
const leadLength = (lead: number): number => lead < 0xc2 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 1

/**
 * Whether `byte` may be byte `position` (1 to 3) of a character led by `lead`: the second byte's range excludes
 * overlong forms, surrogates and code points past U+10FFFF.
 */
const continues = (lead: number, position: number, byte: number | undefined): boolean => {
  if (byte === undefined) return false
  const low = position > 1 ? 0x80 : lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80
  const high = position > 1 ? 0xbf : lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf
  return byte >= low && byte <= high
}

/**
 * The length in bytes of the well-formed UTF-8 character at `index` that ends by `end`, or 1 for a byte that
 * begins none: an ill-formed byte, or the start of a character cut off at `end`.
 */
const characterLength = (bytes: Uint8Array, index: number, end: number): number => {
  const lead = bytes[index] ?? 0
  const size = leadLength(lead)
  if (size === 1 || index + size > end) return 1
  for (let position = 1; position < size; position++) if (!continues(lead, position, bytes[index + position])) return 1
  return size
}

/** The UTF-16 units a character of `length` bytes takes. */
const unitsOf = (length: number): number => length === 4 ? 2 : 1

/**
 * How many of the first `length` bytes a line may be split within: not a character whose last bytes may still
 * come (every byte of it so far fit), nor a final "\r" that may be the first half of a line break.
 */
const splittable = (bytes: Uint8Array, length: number): number => {
  let lead = length - 1
  while (lead > 0 && lead > length - 3 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) lead--
  const first = bytes[lead] ?? 0
  let incomplete = lead >= 0 && leadLength(first) > length - lead
  for (let index = lead + 1; incomplete && index < length; index++) incomplete = continues(first, index - lead, bytes[index])
  const whole = incomplete ? lead : length
  return whole > 0 && bytes[whole - 1] === RETURN ? whole - 1 : whole
}

/**
 * Walks a line up to `end` from a piece that begins at `piece.from` and is known to take `piece.units` up to
 * `piece.index`. Each piece that the next character would take past the limit is pushed to `starts` and `ends`;
 * `piece` is left describing the last one, which still has room.
 */
const cut = (
  bytes: Uint8Array,
  piece: { from: number; index: number; units: number },
  end: number,
  starts: Array<number>,
  ends: Array<number>
): void => {
  while (piece.index < end) {
    const length = characterLength(bytes, piece.index, end)
    if (piece.units + unitsOf(length) > MAX_LINE_LENGTH) {
      starts.push(piece.from)
      ends.push(piece.index)
      piece.from = piece.index
      piece.units = 0
    }
    piece.units += unitsOf(length)
    piece.index += length
  }
}

/** Line `[start, end)` of `bytes` as pieces of at most MAX_LINE_LENGTH units; an empty line is one empty piece. */
const pieces = (bytes: Buffer, start: number, end: number): ByteLines => {
  const starts: Array<number> = []
  const ends: Array<number> = []
  const last = { from: start, index: start, units: 0 }
  cut(bytes, last, end, starts, ends)
  starts.push(last.from)
  ends.push(end)
  return new ByteLines(bytes, Int32Array.from(starts), Int32Array.from(ends))
}

export class LineSplitter {
  /** The beginning of a line whose end has not come yet, in a buffer with room to grow. */
  private held = Buffer.allocUnsafe(256)
  private heldLength = 0
  /** How much of the held line's first piece is known to fit, and in how many units: a long line is walked once. */
  private walked = 0
  private walkedUnits = 0

  /** The lines `chunk` completes, oldest first: those it ends, and the pieces of a line it makes too long. */
  push(chunk: Buffer): Array<ByteLines> {
    const found: Array<ByteLines> = []
    let from = 0
    if (this.heldLength > 0) {
      const newline = chunk.indexOf(NEWLINE)
      if (newline === -1) {
        this.hold(chunk, 0, chunk.length, found)
        return found
      }
      // The line began in an earlier chunk; so did its "\r" when the "\n" comes first in this one.
      this.hold(chunk, 0, newline > 0 && chunk[newline - 1] === RETURN ? newline - 1 : newline, found)
      found.push(this.takeHeld(newline === 0))
      from = newline + 1
    }
    while (from < chunk.length) {
      const to = Math.min(chunk.length, from + WINDOW)
      // Fewer bytes than the limit are fewer units too: only a line with more bytes may need splitting.
      const scan = scanLines(chunk, from, to, MAX_LINE_LENGTH)
      if (scan.starts.length > 0) found.push(new ByteLines(chunk, scan.starts, scan.ends))
      from = scan.next
      if (scan.stop === "full" || from === chunk.length) continue
      const long = scan.stop === "long" || to - from > MAX_LINE_LENGTH
      // A short line that crossed the window's end: the next window starts with it.
      if (!long && to < chunk.length) continue
      // Where the line ends: where the scan saw it, or further on for a long one; nowhere in this chunk, and it goes on
      // in the next one.
      const newline = scan.stop === "long" ? scan.newline : long ? chunk.indexOf(NEWLINE, to) : -1
      if (newline === -1) {
        this.hold(chunk, from, chunk.length, found)
        return found
      }
      found.push(pieces(chunk, from, newline > from && chunk[newline - 1] === RETURN ? newline - 1 : newline))
      from = newline + 1
    }
    return found
  }

  /** The last line, when the output ended without a line break after it. */
  end(): Array<ByteLines> {
    return this.heldLength === 0 ? [] : [this.takeHeld(false)]
  }

  /** Adds `chunk[from, to)` to the held line, giving its first pieces away once it holds more than the limit. */
  private hold(chunk: Buffer, from: number, to: number, found: Array<ByteLines>): void {
    const length = this.heldLength + to - from
    if (length > this.held.length) {
      const held = Buffer.allocUnsafe(Math.max(length, this.held.length * 2))
      this.held.copy(held, 0, 0, this.heldLength)
      this.held = held
    }
    chunk.copy(this.held, this.heldLength, from, to)
    this.heldLength = length
    if (length > MAX_LINE_LENGTH) this.splitHeld(found)
  }

  /** Gives away the held line's pieces while more than a piece's worth of whole characters remains. */
  private splitHeld(found: Array<ByteLines>): void {
    const whole = splittable(this.held, this.heldLength)
    const starts: Array<number> = []
    const ends: Array<number> = []
    const last = { from: 0, index: this.walked, units: this.walkedUnits }
    cut(this.held, last, whole, starts, ends)
    this.walked = whole - last.from
    this.walkedUnits = last.units
    if (last.from === 0) return
    // A copy: the held buffer is reused for what remains.
    found.push(new ByteLines(Buffer.from(this.held.subarray(0, last.from)), Int32Array.from(starts), Int32Array.from(ends)))
    this.held.copyWithin(0, last.from, this.heldLength)
    this.heldLength -= last.from
  }

  /** The held line, ended; `dropReturn` when its last byte is the "\r" of the line break that ended it. */
  private takeHeld(dropReturn: boolean): ByteLines {
    const line = Buffer.from(this.held.subarray(0, this.heldLength))
    const end = dropReturn && line[line.length - 1] === RETURN ? line.length - 1 : line.length
    this.heldLength = 0
    this.walked = 0
    this.walkedUnits = 0
    // A runaway line's chunk-sized buffer goes with it.
    if (this.held.length > 64 * 1024) this.held = Buffer.allocUnsafe(256)
    return pieces(line, 0, end)
  }
}

/**
 * One splitter for every text: each push ends with a line break, so it never holds anything between calls, and
 * the lines it returns own their ranges. A splitter made per call (8 KiB of ranges) cost about 6 µs a log line of
 * an Effect agent's, against under 1 µs this way (measured over half a million 45-character lines).
 */
const textSplitter = new LineSplitter()

/**
 * Lines that were text already (an Effect agent's own logs, the orchestrator's notes), by the same rules as an
 * agent's output: a text with line breaks is several lines, and a long one is split.
 */
export const linesOfTexts = (texts: ReadonlyArray<string>): Array<ByteLines> =>
  textSplitter.push(Buffer.from(texts.map((text) => `${text}\n`).join(""), "utf8"))
