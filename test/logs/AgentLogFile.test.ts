import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { AgentLogFile } from "../../src/logs/AgentLogFile.ts"
import { ByteLines } from "../../src/logs/ByteLines.ts"
import { freeSlotCount, giveBackSlot, takeSlot } from "../../src/logs/LineKernel.ts"
import { isOpenHere, tempDir } from "../support/files.ts"
import { eventually } from "../support/orchestrator.ts"

/** `count` lines of about 100 bytes, numbered from `from`, as they arrive from a pipe. */
const numberedLines = (from: number, count: number): { readonly lines: ByteLines; readonly texts: ReadonlyArray<string> } => {
  const texts = Array.from({ length: count }, (_, i) => `line ${String(from + i).padStart(7, "0")} ${"x".repeat(88)}`)
  const bytes = Buffer.from(texts.map((text) => `${text}\n`).join(""))
  const starts = Int32Array.from(texts, (_, i) => i * ((texts[0]?.length ?? 0) + 1))
  return { lines: new ByteLines(bytes, starts, starts.map((start, i) => start + (texts[i]?.length ?? 0))), texts }
}

/** Appends 40,000 lines (5 MB formatted) in chunks of 1,000 to a new file, and waits for them to be written. */
const flood = (dir: string) =>
  Effect.gen(function*() {
    const path = Path.join(dir, "api.log")
    const lost: Array<number> = []
    const file = new AgentLogFile(path, { dir, maxBytes: 1_000_000_000, keep: 1, lost: (lines) => lost.push(lines), settled: () => {} })
    const expected: Array<string> = []
    for (let chunk = 0; chunk < 40; chunk++) {
      const { lines, texts } = numberedLines(chunk * 1000, 1000)
      file.append(lines, "2026-12-01T10:00:00.000Z stdout ")
      for (const text of texts) expected.push(`2026-12-01T10:00:00.000Z stdout ${text}\n`)
    }
    file.flush()
    yield* eventually(Effect.sync(() => file.idle), (idle) => idle)
    return { file, path, lost, expected: expected.join("") }
  })

describe("AgentLogFile", () => {
  it.live("close writes what was handed off but not written yet, then closes the file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-agentlog-")
      const path = Path.join(dir, "api.log")
      const lost: Array<number> = []
      const file = new AgentLogFile(path, { dir, maxBytes: 1_000_000_000, keep: 1, lost: (lines) => lost.push(lines), settled: () => {} })
      // In one append, more than a buffer's worth (handed to a write, all of it), less than a batch (not written before
      // a flush).
      const texts = Array.from({ length: 3000 }, (_, i) => `line ${String(i).padStart(6, "0")} ${"x".repeat(90)}`)
      const bytes = Buffer.from(texts.map((text) => `${text}\n`).join(""))
      const starts = Int32Array.from(texts, (_, i) => i * (texts[0]?.length ?? 0) + i)
      file.append(new ByteLines(bytes, starts, starts.map((start, i) => start + (texts[i]?.length ?? 0))), "p ")
      file.close()
      const expected = texts.map((text) => `p ${text}\n`).join("")
      const written = yield* eventually(Effect.sync(() => file.idle && Fs.existsSync(path) ? Fs.readFileSync(path, "utf8") : ""), (text) => text.length >= expected.length)
      expect(written === expected).toBe(true)
      expect(lost).toEqual([])
      expect(yield* eventually(isOpenHere(path), (isOpen) => !isOpen)).toBe(false)
    }).pipe(Effect.scoped))

  it.live("formats a flood into the kernel's slots, written as spelled out, and gives them back once closed", () =>
    Effect.gen(function*() {
      const free = freeSlotCount()
      const { file, path, lost, expected } = yield* flood(yield* tempDir("orch-agentlog-"))
      expect(Fs.readFileSync(path, "utf8") === expected).toBe(true)
      expect(lost).toEqual([])
      // Written, the buffers are kept for the next burst: some slots are still held.
      expect(freeSlotCount()).toBeLessThan(free)
      file.close()
      expect(freeSlotCount()).toBe(free)
    }).pipe(Effect.scoped))

  it.live("writes the same with every slot taken, in buffers of its own", () =>
    Effect.gen(function*() {
      const taken: Array<Buffer> = []
      for (let slot = takeSlot(); slot !== undefined; slot = takeSlot()) taken.push(slot)
      const { file, path, lost, expected } = yield* flood(yield* tempDir("orch-agentlog-"))
      expect(Fs.readFileSync(path, "utf8") === expected).toBe(true)
      expect(lost).toEqual([])
      file.close()
      expect(freeSlotCount()).toBe(0)
      for (const slot of taken) giveBackSlot(slot)
    }).pipe(Effect.scoped))
})
