import { describe, expect, it } from "@effect/vitest"
import type { ByteLines } from "../../src/logs/ByteLines.ts"
import { LineSplitter, linesOfTexts, MAX_LINE_LENGTH } from "../../src/logs/LineSplitter.ts"

/** A seeded generator, so that a failure can be replayed. */
const random = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

/** The lines of a valid text, spelled out naively on strings: what the splitter must find in its bytes. */
const reference = (text: string): Array<string> => {
  const parts = text.split("\n")
  const last = parts.pop() ?? ""
  const lines = [...parts.map((part) => part.endsWith("\r") ? part.slice(0, -1) : part), ...(last === "" ? [] : [last])]
  return lines.flatMap((line) => {
    const pieces: Array<string> = []
    let start = 0
    do {
      let end = Math.min(line.length, start + MAX_LINE_LENGTH)
      // Never between the two halves of a character outside the BMP.
      if (end < line.length && /[\uD800-\uDBFF]/.test(line[end - 1] ?? "")) end--
      pieces.push(line.slice(start, end))
      start = end
    } while (start < line.length)
    return pieces
  })
}

/** Feeds `bytes` to a splitter in chunks of the sizes `size` picks; every line found, as raw bytes. */
const split = (bytes: Buffer, size: () => number): Array<Buffer> => {
  const splitter = new LineSplitter()
  const found: Array<ByteLines> = []
  for (let at = 0; at < bytes.length;) {
    const next = Math.min(bytes.length, at + size())
    // A copy, as each read of a pipe is a buffer of its own.
    found.push(...splitter.push(Buffer.from(bytes.subarray(at, next))))
    at = next
  }
  found.push(...splitter.end())
  return found.flatMap((lines) => Array.from({ length: lines.count }, (_, i) => lines.bytes.subarray(lines.starts[i], lines.ends[i])))
}

const ALPHABET = ["a", "b", " ", "\n", "\r", "\r\n", "é", "€", "😀", "x".repeat(3000), "€".repeat(3000), "😀".repeat(2000), "\r".repeat(3)]

describe("LineSplitter", () => {
  it("finds the lines of a text, whatever the chunks cut: characters, line breaks, long lines", () => {
    const next = random(7)
    for (let trial = 0; trial < 600; trial++) {
      let text = ""
      for (let i = Math.floor(next() * 30); i > 0; i--) text += ALPHABET[Math.floor(next() ** 1.5 * ALPHABET.length)]
      // A byte at a time now and then; mostly reads of any size, as a pipe gives them.
      const tiny = trial % 3 === 0 && text.length < 10_000
      const lines = split(Buffer.from(text), tiny ? () => 1 + Math.floor(next() * 4) : () => 1 + Math.floor(next() ** 3 * 20_000))
      expect(lines.map((line) => line.toString("utf8")), JSON.stringify(text.slice(0, 80))).toEqual(reference(text))
    }
  })

  it("keeps bytes that are not UTF-8 as they came, the same whatever the chunks, each piece at most the limit once decoded", () => {
    const next = random(11)
    const byte = () => {
      const pick = next()
      return pick < 0.05 ? 0x0a : pick < 0.08 ? 0x0d : pick < 0.5 ? 0x80 + Math.floor(next() * 0x80) : Math.floor(next() * 0x100)
    }
    for (let trial = 0; trial < 200; trial++) {
      // Now and then long enough, without a line break, to be split.
      const length = trial % 10 === 0 ? 20_000 + Math.floor(next() * 20_000) : Math.floor(next() * 200)
      const bytes = Buffer.from(Array.from({ length }, () => trial % 10 === 0 && next() < 0.999 ? 0x80 + Math.floor(next() * 0x80) : byte()))
      const whole = split(bytes, () => bytes.length + 1)
      expect(split(bytes, () => 1 + Math.floor(next() * (length > 1000 ? 200 : 9)))).toEqual(whole)
      expect(split(bytes, () => 1 + Math.floor(next() * 5000))).toEqual(whole)
      for (const line of whole) expect(line.toString("utf8").length).toBeLessThanOrEqual(MAX_LINE_LENGTH)
      // Nothing lost or changed but the line breaks: the lines are what lies between them, in order.
      const rejoined = Buffer.concat(whole)
      const withoutBreaks = Buffer.from([...bytes].filter((value, i) => value !== 0x0a && !(value === 0x0d && bytes[i + 1] === 0x0a)))
      expect(rejoined).toEqual(withoutBreaks)
    }
  })

  it("gives a line without an end away piece by piece as it grows, holding less than two pieces of it", () => {
    const splitter = new LineSplitter()
    const chunk = Buffer.from("€".repeat(20_000))
    let given = 0
    for (let i = 1; i <= 50; i++) {
      for (const lines of splitter.push(chunk)) {
        for (let line = 0; line < lines.count; line++) {
          expect(lines.text(line)).toBe("€".repeat(MAX_LINE_LENGTH))
          given += (lines.ends[line] ?? 0) - (lines.starts[line] ?? 0)
        }
      }
      expect(i * chunk.length - given).toBeLessThan(2 * 3 * MAX_LINE_LENGTH)
    }
    const [rest] = splitter.end()
    expect(rest?.count).toBe(1)
    expect(given + Buffer.byteLength(rest?.text(0) ?? "")).toBe(50 * chunk.length)
  })

  it("splits texts as it splits output: a text with line breaks is several lines, an empty one is one empty line", () => {
    const lines = linesOfTexts(["one\ntwo\r\nthree", "", "x".repeat(MAX_LINE_LENGTH + 1)])
    const texts = lines.flatMap((run) => Array.from({ length: run.count }, (_, i) => run.text(i)))
    expect(texts).toEqual(["one", "two", "three", "", "x".repeat(MAX_LINE_LENGTH), "x"])
  })
})
