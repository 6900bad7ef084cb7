/**
 * One agent's log file, written behind the main thread: lines are formatted into a buffer (LineBuffer), and a full
 * buffer (or, at a flush, whatever there is) is handed to a write in libuv's thread pool while the main thread goes on
 * reading pipes. One write at a time, of every buffer waiting (a `writev`) once WRITE_BATCH waits or at a flush, so
 * that lines stay in order and a write that took long is followed by a larger one; rotation runs between two writes.
 * Why not write in place: the writes took a fifth of the main thread's time with files on in benchmark 8
 * (bench/README.md), and a write can block (a busy disk, dirty pages being throttled) for longer still, holding every
 * agent's pipe.
 *
 * Every line in a buffer ends with the one "\n" it has, so line boundaries (for rotation, and for counting what a
 * failed write lost) are found in the bytes themselves. A write may take only part of what it was given (a file-size
 * limit, a disk filling up): the rest is written next, and a write that takes nothing is a failure. A failure drops
 * what was left of that buffer, counted in lines, and closes the file; the next buffer opens it again.
 *
 * A write that does not end (a disk that stopped answering) cannot be cancelled: `abandon` gives up on every line
 * not written yet, so that a stop need not wait for it. The write still holds its descriptor, and closes it if it
 * ever ends; what was appended meanwhile is written then.
 */
import * as Fs from "node:fs"
import { makeDirectoriesSync } from "../makeDirectories.ts"
import type { ByteLines } from "./ByteLines.ts"
import { LineBuffer } from "./LineBuffer.ts"
import { giveBackSlot, isSlot, SLOT_BYTES, takeSlot } from "./LineKernel.ts"

/** A buffer goes to a write once it holds this much: a few hundred writes for 100 MB of lines. */
const WRITE_BYTES = 256 * 1024
/**
 * The buffers of an agent that fills them: room for WRITE_BYTES and a chunk's lines more, so that they never grow,
 * and are reused. A new buffer for every write (fresh pages, counted against V8's external memory) cost more than
 * the writes saved. Slots of LineKernel's memory while there are free ones (lines are formatted straight into them),
 * else buffers of their own.
 */
const BUFFER_BYTES = SLOT_BYTES
/**
 * Buffers are written once this much waits (or at a flush): writes of the page cache end fast, and a write per
 * buffer cost a hand-off to the thread pool and a callback each, 500 of them per 100 MB.
 */
const WRITE_BATCH = 1024 * 1024
/** Bytes of one agent's lines waiting for the disk before the agent is held back (LogFiles). */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024
/**
 * Buffers kept for reuse: as many as can wait for the disk at once. Fewer, and a disk that fell behind had new
 * buffers made and dropped for every write, and the memory they took outside V8's heap set off full collections of
 * it (a third more CPU with files on in benchmark 8). An agent writing a flood holds up to about 8 MiB of them
 * while its disk is behind, 2 MiB while it keeps up, none once it is idle.
 */
const SPARES = Math.ceil(MAX_QUEUED_BYTES / WRITE_BYTES) + 2

const NEWLINE = 0x0a

/** Renames `from` to `to`, if there is a `from`. */
const renameIfThere = (from: string, to: string): void => {
  try {
    Fs.renameSync(from, to)
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "ENOENT")) throw error
  }
}

/** How many lines (each ending with "\n") `bytes[from, to)` holds. */
const countLines = (bytes: Buffer, from: number, to: number): number => {
  let count = 0
  for (let index = bytes.indexOf(NEWLINE, from); index !== -1 && index < to; index = bytes.indexOf(NEWLINE, index + 1)) count++
  return count
}

/** A buffer handed to the writes: `bytes[0, length)`, of which `written` are on disk. */
interface Write {
  readonly bytes: Buffer
  readonly length: number
  written: number
}

export interface AgentLogFileOptions {
  readonly dir: string
  /** The file is rotated before a line would take it past this size. */
  readonly maxBytes: number
  /** Rotated files kept; the oldest beyond this are deleted. */
  readonly keep: number
  /** Lines that could not be written, and why; `first` for the first failure since the last write that worked. */
  readonly lost: (lines: number, cause: unknown, first: boolean) => void
  /**
   * A write (or a removal) has ended, written or not: whatever waits for the file to have room, or to be idle, may
   * look again.
   */
  readonly settled: () => void
}

export class AgentLogFile {
  readonly path: string
  private readonly options: AgentLogFileOptions
  private fd: number | undefined
  /** Bytes in the file. */
  private size = 0
  /** Formatted lines not handed to a write yet. */
  private readonly pending = new LineBuffer()
  /** Oldest first; the first is the one being written. */
  private readonly writes: Array<Write> = []
  private writing = false
  private failing = false
  /** A flush asked for everything handed off to be written, however little. */
  private draining = false
  /** Removals of files past `keep` under way. */
  private removing = 0
  /** Buffers finished writes gave back, for the next ones. */
  private readonly spares: Array<Buffer> = []
  /** LineKernel's slots this file holds, wherever they are (buffered into, written, spare): given back once idle. */
  private readonly slots: Array<Buffer> = []
  /** Bytes handed to writes and not written yet. */
  queued = 0
  /** Counts `abandon`s: a write or removal begun before the last one ends without touching what came after. */
  private epoch = 0
  /** `close` was asked for while a write was under way: the file is closed once it is idle. */
  private closed = false

  constructor(path: string, options: AgentLogFileOptions) {
    this.path = path
    this.options = options
  }

  /** Nothing buffered, nothing being written or removed. */
  get idle(): boolean {
    return this.pending.length === 0 && this.writes.length === 0 && this.removing === 0
  }

  /** Formats `lines` as `<prefix><line>\n` each; a buffer that is full goes to a write. */
  append(lines: ByteLines, prefix: string): void {
    // What is buffered goes first if these lines would make the buffer grow.
    if (this.pending.length > 0 && !this.pending.fits(lines, prefix)) this.handOff(true)
    this.pending.appendPrefixed(lines, prefix)
    if (this.pending.length >= WRITE_BYTES) this.handOff(true)
  }

  /** Hands what is buffered to a write. */
  flush(): void {
    this.handOff(false)
    this.draining = true
    this.pump()
  }

  /**
   * Hands the buffer to a write, and goes on in another: one of full size for an agent that is `busy` filling
   * them (reused), else one the size of what was there (an agent that writes little keeps little).
   */
  private handOff(busy: boolean): void {
    const { length } = this.pending
    if (length === 0) return
    const next = busy ? (this.spares.pop() ?? this.newBuffer()) : Buffer.allocUnsafe(Math.min(BUFFER_BYTES, 2 * length))
    const bytes = this.pending.swap(next)
    this.writes.push({ bytes, length, written: 0 })
    this.queued += length
    this.pump()
  }

  private giveBack(slot: Buffer): void {
    const index = this.slots.indexOf(slot)
    if (index >= 0) this.slots.splice(index, 1)
    giveBackSlot(slot)
  }

  private newBuffer(): Buffer {
    const slot = takeSlot()
    if (slot === undefined) return Buffer.allocUnsafe(BUFFER_BYTES)
    this.slots.push(slot)
    return slot
  }

  /**
   * Gives up on the lines not on disk yet (buffered, or handed to writes), and on the removals under way, so that
   * the file is idle at once; returns how many lines that is. A write in flight may still take some of them.
   */
  abandon(): number {
    let lines = countLines(this.pending.bytes, 0, this.pending.length)
    for (const write of this.writes) lines += countLines(write.bytes, write.written, write.length)
    this.pending.clear(4096)
    this.writes.length = 0
    this.queued = 0
    this.draining = false
    this.removing = 0
    this.epoch++
    return lines
  }

  /**
   * Lets go of the buffers a burst left, once the file is idle; its slots once no write is in flight either (one
   * that was abandoned may still read them).
   */
  shrink(): void {
    if (!this.idle) return
    this.spares.length = 0
    this.pending.clear(4096)
    if (this.writing) return
    for (const slot of this.slots) giveBackSlot(slot)
    this.slots.length = 0
  }

  /**
   * Closes the file; only once it is idle, as a write in flight still uses the descriptor (an abandoned one closes
   * it when it ends: closed earlier, the number could be reused for another file before the write starts).
   */
  close(): void {
    this.closed = true
    if (this.writes.length > 0 || this.writing) {
      // Closed once what is handed off is written, however little (an abandoned write's end lets that go on).
      this.draining = true
      this.pump()
      return
    }
    // Its slots go back for other files (and for a LogFiles made after this one, in the same process).
    this.shrink()
    if (this.fd === undefined) return
    Fs.closeSync(this.fd)
    this.fd = undefined
  }

  private open(inDirectory = false): number {
    if (!inDirectory) makeDirectoriesSync(this.options.dir, 0o750)
    const fd = Fs.openSync(this.path, "a", 0o640)
    this.fd = fd
    this.size = Fs.fstatSync(fd).size
    return fd
  }

  /**
   * Rotates the file: the oldest rotated file is renamed past `keep` (`<agent>.log.<keep + 1>`) and removed in the
   * thread pool, every other one renamed one up, the file renamed to `.1`, and a new one opened. All but the removal
   * are done here, at once. In the thread pool each of those steps waited for the main thread to come round to it
   * (a busy one reads up to 32 chunks a turn): 3-5 ms a rotation in benchmark 8, during which nothing was written and
   * the agent was held back, against about 0.4 ms of the main thread here (a rename waits for the file system's
   * journal; a data write, which may wait for the disk, stays in the pool). The removal is the one step whose cost
   * grows with the file (its pages are freed); a file past `keep` left by a process that died is removed by the next
   * rotation. No rename replaces a file: ext4 (auto_da_alloc) writes a file renamed over another out to disk at once,
   * 3-9 ms of the rotation each time.
   */
  private rotate(fd: number): void {
    this.fd = undefined
    // The file's lines are all written: what closing it could still report (a late write-back error) is nothing
    // this process could act on.
    Fs.close(fd, () => {})
    const { keep } = this.options
    const path = this.path
    const past = `${path}.${keep + 1}`
    renameIfThere(keep > 0 ? `${path}.${keep}` : path, past)
    for (let index = keep - 1; index >= 1; index--) renameIfThere(`${path}.${index}`, `${path}.${index + 1}`)
    if (keep > 0) Fs.renameSync(path, `${path}.1`)
    // Removing it cannot lose a line; should it fail, the next rotation renames another over it. A flush waits for
    // it (`idle`), so that once the files are closed only `keep` rotated files are left.
    this.removing++
    const epoch = this.epoch
    Fs.rm(past, { force: true }, () => {
      if (epoch === this.epoch) this.removing--
      this.options.settled()
    })
    this.open(true)
  }

  /**
   * Where the part of `write` to write next ends when it does not fit whole under the size limit: after its last
   * line that fits (a file still empty takes one line however long, or nothing would ever be written); undefined
   * when the file has to be rotated first.
   */
  private pieceEnd(write: Write): number | undefined {
    const room = this.options.maxBytes - this.size
    let end = room > 0 ? write.bytes.lastIndexOf(NEWLINE, write.written + room - 1) + 1 : 0
    if (end <= write.written && this.size === 0) end = write.bytes.indexOf(NEWLINE, write.written) + 1
    return end > write.written ? end : undefined
  }

  /**
   * What to write next, in one call: every buffer waiting that fits whole under the size limit (a write that took
   * long leaves several, written together), else the part of the first that fits; nothing when the file has to be
   * rotated first.
   */
  private nextPieces(): Array<Buffer> {
    const room = this.options.maxBytes - this.size
    const pieces: Array<Buffer> = []
    let taken = 0
    for (const write of this.writes) {
      const left = write.length - write.written
      if (taken + left > room) break
      pieces.push(write.bytes.subarray(write.written, write.length))
      taken += left
    }
    const first = this.writes[0]
    if (pieces.length > 0 || first === undefined) return pieces
    const end = this.pieceEnd(first)
    return end === undefined ? [] : [first.bytes.subarray(first.written, end)]
  }

  /**
   * Starts the next write, unless one is under way, or what waits is less than WRITE_BATCH and no flush asked for it
   * (a flush has it all written).
   */
  private pump(): void {
    if (this.writes.length === 0) this.draining = false
    while (!this.writing && this.writes.length > 0 && (this.draining || this.queued >= WRITE_BATCH)) {
      try {
        const fd = this.fd ?? this.open()
        const pieces = this.nextPieces()
        if (pieces.length === 0) {
          this.rotate(fd)
          continue
        }
        this.writing = true
        const epoch = this.epoch
        Fs.writev(fd, pieces, (error, written) => {
          this.writing = false
          if (epoch !== this.epoch) this.reopen(fd)
          else if (error === null && written > 0) this.wrote(written)
          else {
            const cause = error ?? new Error(`a write of ${pieces.reduce((sum, piece) => sum + piece.length, 0)} bytes wrote nothing`)
            for (let index = 0; index < pieces.length; index++) this.drop(cause)
          }
          this.pump()
          if (this.closed) this.close()
          this.options.settled()
        })
      } catch (cause) {
        this.drop(cause)
      }
    }
  }

  /**
   * An abandoned write has ended: what it took is not known any more, so the file is opened again (and its size
   * read) for what was appended since.
   */
  private reopen(fd: number): void {
    if (this.fd === fd) this.fd = undefined
    Fs.close(fd, () => {})
  }

  /** `bytes` more are on disk: the buffers they complete are done. */
  private wrote(bytes: number): void {
    this.size += bytes
    let left = bytes
    for (let write = this.writes[0]; write !== undefined && left > 0; write = this.writes[0]) {
      const taken = Math.min(left, write.length - write.written)
      write.written += taken
      left -= taken
      if (write.written < write.length) return
      this.finish(write)
    }
  }

  private finish(write: Write): void {
    this.writes.shift()
    this.queued -= write.length
    this.failing = false
    if (this.spares.length < SPARES && write.bytes.length === BUFFER_BYTES) this.spares.push(write.bytes)
    else if (isSlot(write.bytes)) this.giveBack(write.bytes)
  }

  /**
   * What is left of the first buffer is lost: every line whose "\n" is not on disk, one cut short by the failure
   * among them.
   */
  private drop(cause: unknown): void {
    const write = this.writes.shift()
    if (write === undefined) return
    this.queued -= write.length
    if (this.fd !== undefined) {
      try {
        Fs.closeSync(this.fd)
      } catch {
        // Closing a broken descriptor can fail too; it is gone either way.
      }
    }
    this.fd = undefined
    const first = !this.failing
    this.failing = true
    this.options.lost(countLines(write.bytes, write.written, write.length), cause, first)
    this.options.settled()
  }
}
