/**
 * The WebAssembly kernel against plain JavaScript: its scan against `Buffer.indexOf`, its formatting against
 * LineBuffer's own loop and a naive spelling-out, on random bytes; and the splitter on chunks larger than a scan
 * takes at once, or with more lines than one scan gives.
 */
import { describe, expect, it } from "@effect/vitest"
import { ByteLines } from "../../src/logs/ByteLines.ts"
import { LineBuffer } from "../../src/logs/LineBuffer.ts"
import {
  CAPACITY, freeSlotCount, giveBackSlot, isSlot, runsInWebAssembly, scanLines, scanLinesByIndexOf, SLOT_BYTES, takeSlot, WINDOW
} from "../../src/logs/LineKernel.ts"
import { LineSplitter, MAX_LINE_LENGTH } from "../../src/logs/LineSplitter.ts"
import { signed, unsigned } from "../../src/logs/Wasm.ts"

/** A seeded generator, so that a failure can be replayed. */
const random = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

/** Random bytes, with line breaks, "\r" and runs of them in it, and lines of every length up to a few times `long`. */
const randomBytes = (next: () => number, length: number, long: number): Buffer => {
  const bytes = Buffer.alloc(length)
  for (let at = 0; at < length;) {
    const pick = next()
    if (pick < 0.3) bytes[at++] = 0x0a
    else if (pick < 0.4) bytes[at++] = 0x0d
    else {
      const run = Math.floor(next() ** 4 * long * 3)
      for (let end = Math.min(length, at + run); at < end;) bytes[at++] = 0x20 + Math.floor(next() * 200)
    }
  }
  return bytes
}

/** The lines of `lines`, each as `prefix`, its bytes and "\n", spelled out. */
const formatted = (all: ReadonlyArray<ByteLines>, prefix: string): Buffer =>
  Buffer.concat(all.flatMap((lines) =>
    Array.from({ length: lines.count }, (_, i) => Buffer.concat([Buffer.from(prefix), lines.bytes.subarray(lines.starts[i], lines.ends[i]), Buffer.from("\n")]))
  ))

describe("LineKernel", () => {
  it("runs here, and encodes numbers as WebAssembly does", () => {
    expect(runsInWebAssembly).toBe(true)
    expect(unsigned(624485)).toEqual([0xe5, 0x8e, 0x26])
    expect(signed(-123456)).toEqual([0xc0, 0xbb, 0x78])
    expect(signed(-1)).toEqual([0x7f])
    expect(signed(64)).toEqual([0xc0, 0x00])
  })

  it("scans as Buffer.indexOf does: every window, limit and stop", () => {
    const next = random(17)
    for (let trial = 0; trial < 300; trial++) {
      const long = 1 + Math.floor(next() * 300)
      const chunk = randomBytes(next, Math.floor(next() ** 2 * 5000), long)
      const from = Math.floor(next() * chunk.length)
      const to = from + Math.floor(next() * (chunk.length - from + 1))
      const limit = Math.floor(next() * long * 2)
      const found = scanLines(chunk, from, to, limit)
      const expected = scanLinesByIndexOf(chunk, from, to, limit)
      expect({ ...found, starts: [...found.starts], ends: [...found.ends] }, `trial ${trial}`).toEqual({
        ...expected,
        starts: [...expected.starts],
        ends: [...expected.ends]
      })
    }
  })

  it("stops at CAPACITY lines, and takes a whole window", () => {
    const chunk = Buffer.alloc(WINDOW, 0x0a)
    const full = scanLines(chunk, 0, WINDOW, 10)
    expect({ count: full.starts.length, next: full.next, stop: full.stop }).toEqual({ count: CAPACITY, next: CAPACITY, stop: "full" })
    // The last byte of the window is a line break, and the one after it is not read.
    const last = Buffer.concat([Buffer.alloc(WINDOW - 1, 0x61), Buffer.from("\n\n")])
    const scan = scanLines(last, 0, WINDOW, WINDOW)
    expect({ starts: [...scan.starts], ends: [...scan.ends], next: scan.next, stop: scan.stop }).toEqual({
      starts: [0],
      ends: [WINDOW - 1],
      next: WINDOW,
      stop: "end"
    })
  })

  it("splits chunks larger than a window the same as small ones", () => {
    const next = random(23)
    for (let trial = 0; trial < 6; trial++) {
      const bytes = randomBytes(next, WINDOW * 2 + Math.floor(next() * 50_000), trial % 2 === 0 ? 40 : MAX_LINE_LENGTH)
      const lines = (size: number) => {
        const splitter = new LineSplitter()
        const found: Array<ByteLines> = []
        for (let at = 0; at < bytes.length; at += size) found.push(...splitter.push(Buffer.from(bytes.subarray(at, at + size))))
        found.push(...splitter.end())
        return found.flatMap((run) => Array.from({ length: run.count }, (_, i) => run.bytes.subarray(run.starts[i], run.ends[i]).toString("latin1")))
      }
      expect(lines(bytes.length)).toEqual(lines(1000))
    }
  })

  it("formats lines as LineBuffer's JavaScript does, and as spelled out: prefixes, \\r\\n, long batches", () => {
    const next = random(31)
    for (let trial = 0; trial < 120; trial++) {
      const splitter = new LineSplitter()
      // Now and then a batch with more lines, or more bytes, than one call of the kernel takes.
      const size = trial % 20 === 0 ? WINDOW * 2 : Math.floor(next() ** 2 * 20_000)
      const all = splitter.push(randomBytes(next, size, trial % 20 === 1 ? 2 : 200))
      const prefix = ["", "api | ", "2026-12-01T10:00:00.000Z stdout ", "é".repeat(Math.floor(next() * 200))][trial % 4] ?? ""
      const kernel = new LineBuffer()
      const javascript = new LineBuffer()
      for (const lines of all) {
        kernel.appendPrefixed(lines, prefix)
        javascript.appendPrefixedInJavaScript(lines, Buffer.from(prefix))
      }
      const expected = formatted(all, prefix)
      expect(kernel.bytes.subarray(0, kernel.length).equals(expected), `trial ${trial}`).toBe(true)
      expect(javascript.bytes.subarray(0, javascript.length).equals(expected), `trial ${trial}`).toBe(true)
    }
  })

  it("formats each chunk's lines right after its scan as spelled out, the line begun in the chunk before first", () => {
    const next = random(47)
    for (let trial = 0; trial < 40; trial++) {
      const splitter = new LineSplitter()
      const kernel = new LineBuffer()
      const all: Array<ByteLines> = []
      // As a log file gets them: each read's lines as it comes, whose first line began in an earlier read (kept in a
      // buffer of its own, formatted while the module's input holds the new chunk).
      for (let read = 0; read < 12; read++) {
        const chunk = randomBytes(next, 1 + Math.floor(next() * 150_000), trial % 2 === 0 ? 200 : 5_000)
        for (const lines of splitter.push(chunk)) {
          kernel.appendPrefixed(lines, "2026-12-01T10:00:00.000Z stdout ")
          all.push(lines)
        }
      }
      // And lines of another buffer, larger than the room set aside, between two runs of the same chunk's.
      const other = splitter.push(Buffer.from(`${"y".repeat(99)}\n`.repeat(1000)))
      const chunk = new LineSplitter().push(Buffer.from(`${"z".repeat(50)}\n`.repeat(100)))
      const [first] = chunk
      if (first === undefined) throw new Error("no lines")
      const halves = [new ByteLines(first.bytes, first.starts.slice(0, 50), first.ends.slice(0, 50)), ...other, new ByteLines(first.bytes, first.starts.slice(50), first.ends.slice(50))]
      for (const lines of halves) {
        kernel.appendPrefixed(lines, "2026-12-01T10:00:00.000Z stdout ")
        all.push(lines)
      }
      expect(kernel.bytes.subarray(0, kernel.length).equals(formatted(all, "2026-12-01T10:00:00.000Z stdout ")), `trial ${trial}`).toBe(true)
    }
  })

  it("formats into a slot of its memory in place, as into any buffer, and nothing past what it formats", () => {
    const next = random(59)
    const slot = takeSlot()
    if (slot === undefined) throw new Error("no slot")
    expect(isSlot(slot)).toBe(true)
    expect(isSlot(Buffer.allocUnsafe(SLOT_BYTES))).toBe(false)
    for (let trial = 0; trial < 30; trial++) {
      const all = new LineSplitter().push(randomBytes(next, 1 + Math.floor(next() * 150_000), trial % 2 === 0 ? 200 : 5_000))
      const prefix = trial % 3 === 0 ? "" : "2026-12-01T10:00:00.000Z stderr "
      // The slot's end holds a marker, which a format of lines that fit must leave as it is.
      slot.fill(0xee, SLOT_BYTES - 64)
      const inSlot = new LineBuffer()
      inSlot.swap(slot)
      const elsewhere = new LineBuffer()
      for (const lines of all) {
        if (!inSlot.fits(lines, prefix)) break
        inSlot.appendPrefixed(lines, prefix)
        elsewhere.appendPrefixed(lines, prefix)
      }
      expect(inSlot.bytes, `trial ${trial}`).toBe(slot)
      expect(inSlot.bytes.subarray(0, inSlot.length).equals(elsewhere.bytes.subarray(0, elsewhere.length)), `trial ${trial}`).toBe(true)
      if (inSlot.length + 16 <= SLOT_BYTES - 64) expect(slot.subarray(SLOT_BYTES - 64).every((byte) => byte === 0xee), `trial ${trial}`).toBe(true)
    }
    giveBackSlot(slot)
  })

  it("hands out each slot once, none when all are taken, and takes them back", () => {
    const free = freeSlotCount()
    const taken = Array.from({ length: free }, () => takeSlot())
    expect(taken.every((slot) => slot !== undefined && slot.length === SLOT_BYTES)).toBe(true)
    expect(new Set(taken.map((slot) => slot?.byteOffset)).size).toBe(free)
    expect(takeSlot()).toBeUndefined()
    for (const slot of taken) if (slot !== undefined) giveBackSlot(slot)
    // Given back twice, a slot is still free once.
    const [first] = taken
    if (first !== undefined) giveBackSlot(first)
    expect(freeSlotCount()).toBe(free)
  })
})
