/**
 * The CLI's side of agents' logs, without an orchestrator: how `--since` is read, how a follower moves on from a
 * page, how a line is laid out, and how `up` writes to a stream that falls behind.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import { TestClock } from "effect/testing"
import { EventEmitter } from "node:events"
import { nextCursor, parseSince } from "../../src/cli/commands/logs.ts"
import { batchPrinter, lineWriter, renderBatches, renderedTexts, renderLogLine } from "../../src/cli/logLines.ts"
import { colored, plain } from "../../src/cli/output.ts"
import { LineSplitter, linesOfTexts } from "../../src/logs/LineSplitter.ts"
import { type LogBatch, linesOf } from "../../src/logs/LogStore.ts"
import type { LogLineRecord } from "../../src/protocol/Commands.ts"

const record = (seq: number, line: string, stream: LogLineRecord["stream"] = "stdout"): LogLineRecord => ({
  seq,
  agent: "api",
  stream,
  timestamp: DateTime.makeUnsafe(Date.UTC(2026, 11, 1, 10, 0, 0, seq)),
  line
})

describe("logs --since", () => {
  it.effect("takes a duration back from now, or an ISO-8601 instant with its zone", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 1, 12, 0, 0))
      const since = (text: string) => Effect.map(parseSince(text), DateTime.formatIso)
      expect(yield* since("10m")).toBe("2026-12-01T11:50:00.000Z")
      expect(yield* since("500ms")).toBe("2026-12-01T11:59:59.500Z")
      expect(yield* since("1d")).toBe("2026-11-30T12:00:00.000Z")
      expect(yield* since("2026-12-01T10:00:00Z")).toBe("2026-12-01T10:00:00.000Z")
      expect(yield* since("2026-12-01T10:00:00.250+02:00")).toBe("2026-12-01T08:00:00.250Z")
    }))

  it.effect("refuses a bare number, a date without a time or zone, and anything else Date would guess at", () =>
    Effect.gen(function*() {
      for (const text of ["5", "2001", "2026-12-01", "2026-12-01T10:00:00", "Dec 1 2026", "10 minutes", "2026-13-01T10:00:00Z"]) {
        const error = yield* Effect.flip(parseSince(text))
        expect(error.message, text).toBe(`--since: expected a duration such as 10m, 2h or 30s, or an ISO-8601 instant with its zone (2026-12-01T10:00:00Z), got '${text}'`)
      }
    }))
})

describe("logs --follow", () => {
  const page = (lines: ReadonlyArray<LogLineRecord>, hasMore: boolean, lastSeq: number) => ({ lines, hasMore, lastSeq })

  it("resumes after the last line of a full page at once, and after last_seq once caught up", () => {
    expect(nextCursor({ after: 10, caughtUp: true }, page([record(11, "a"), record(12, "b")], true, 50))).toEqual({
      cursor: { after: 12, caughtUp: false },
      restarted: false
    })
    expect(nextCursor({ after: 12, caughtUp: false }, page([record(13, "c")], false, 20))).toEqual({
      cursor: { after: 20, caughtUp: true },
      restarted: false
    })
    expect(nextCursor({ after: 20, caughtUp: true }, page([], false, 20))).toEqual({ cursor: { after: 20, caughtUp: true }, restarted: false })
  })

  it("starts again from the first line when last_seq is below the cursor: another orchestrator answers", () => {
    expect(nextCursor({ after: 500, caughtUp: true }, page([], false, 3))).toEqual({ cursor: { after: 0, caughtUp: false }, restarted: true })
  })
})

describe("a log line's layout", () => {
  const layout = (prefix: boolean, timestamps: boolean) => ({ prefix, timestamps, style: plain })

  it("puts the time before the line with --timestamps, prefixed or not", () => {
    expect(renderLogLine(record(7, "ready"), 3, layout(true, true))).toBe("api | 2026-12-01T10:00:00.007Z ready")
    expect(renderLogLine(record(7, "ready"), 3, layout(false, true))).toBe("2026-12-01T10:00:00.007Z ready")
    expect(renderLogLine(record(7, "ready"), 3, layout(false, false))).toBe("ready")
    expect(renderLogLine(record(8, "restarted (requested)", "orchestrator"), 3, layout(false, true))).toBeUndefined()
  })

  it("`up` renders batches of an agent's bytes exactly as it renders each line, in colour too", () => {
    const timestamp = Date.UTC(2026, 11, 1, 10, 0, 0, 7)
    // Lines as a pipe delivers them: "\n" and "\r\n" breaks, an empty line, multi-byte text, one not ended yet.
    const splitter = new LineSplitter()
    const batches: Array<LogBatch> = [
      ...splitter.push(Buffer.from("héllo\r\n\nwörld 😀\nhalf")),
      ...splitter.push(Buffer.from(" done\n")),
      ...linesOfTexts(["restarted (attempt 2, after 1000 ms)"])
    ].map((lines, index, all) => ({
      agent: index === all.length - 1 ? "db" : "api",
      stream: index === all.length - 1 ? "orchestrator" : "stderr",
      timestamp,
      firstSeq: 1 + index * 10,
      lines
    }))
    for (const style of [plain, colored]) {
      for (const [prefix, timestamps] of [[true, false], [true, true], [false, false], [false, true]] as const) {
        const chosen = { prefix, timestamps, style }
        const each = batches.flatMap(linesOf).flatMap((line) => {
          const text = renderLogLine({ ...line, timestamp: DateTime.makeUnsafe(line.timestamp) }, 5, chosen)
          return text === undefined ? [] : [text]
        })
        const rendered = renderBatches(batches, 5, chosen)
        expect(Buffer.from(rendered.data).toString("utf8")).toBe(renderedTexts(each).data)
        expect(rendered.count).toBe(each.length)
      }
    }
  })
})

/** A stream that holds what it is given until told to drain, like a pipe nobody reads. */
class StalledStream extends EventEmitter {
  written: Array<string> = []
  queued = 0
  stalled = true
  readonly highWaterMark = 100
  get writableNeedDrain(): boolean {
    return this.queued >= this.highWaterMark
  }
  get writableLength(): number {
    return this.queued
  }
  write(data: string | Uint8Array): boolean {
    const text = typeof data === "string" ? data : Buffer.from(data).toString("utf8")
    this.written.push(text)
    if (this.stalled) this.queued += text.length
    return !this.writableNeedDrain
  }
  drain(): void {
    this.stalled = false
    this.queued = 0
    this.emit("drain")
  }
}

describe("up's output of agents' lines", () => {
  it("drops lines while the stream is behind, and says how many once it has drained", () => {
    const stream = new StalledStream()
    const show = lineWriter(stream, plain)
    for (let i = 0; i < 1000; i++) show(renderedTexts([`line ${i} ${"x".repeat(20)}`, `line ${i}b`]))
    // What was written before the stream said it was full, and nothing after: bounded whatever the agents write.
    expect(stream.written.length).toBeLessThan(10)
    const shown = stream.written.length
    stream.drain()
    show(renderedTexts(["after"]))
    expect(stream.written.slice(shown)).toEqual([`--- ${2000 - 2 * shown} lines not shown here (they are kept: orchestrate logs) ---\n`, "after\n"])
  })

  it("renders each batch into a buffer of its own while the stream holds what it was given", () => {
    /** Keeps the very bytes it is given, as a non-blocking terminal does until it can write them. */
    const held: Array<Uint8Array> = []
    const holding = {
      writableNeedDrain: false,
      get writableLength() {
        return held.reduce((total, data) => total + data.length, 0)
      },
      write: (data: string | Uint8Array) => held.push(typeof data === "string" ? Buffer.from(data) : data) > 0,
      once: () => undefined
    }
    const print = batchPrinter(holding, 3, { prefix: true, timestamps: false, style: plain })
    const batch = (text: string): LogBatch => {
      const [lines] = linesOfTexts([text])
      if (lines === undefined) throw new Error(`no line in ${text}`)
      return { agent: "api", stream: "stdout", timestamp: 0, firstSeq: 1, lines }
    }
    // The second fits where the first was: a reused buffer would write it over the first.
    print([batch("the first line, the longer")])
    print([batch("second")])
    expect(held.map((data) => Buffer.from(data).toString("utf8"))).toEqual(["api | the first line, the longer\n", "api | second\n"])
  })

  it("writes the marker dim on a terminal, and one drain says it once", () => {
    const stream = new StalledStream()
    const show = lineWriter(stream, colored)
    show(renderedTexts(["x".repeat(200)]))
    show(renderedTexts(["dropped"]))
    stream.drain()
    stream.emit("drain")
    expect(stream.written).toEqual([`${"x".repeat(200)}\n`, "\u001b[2m--- 1 line not shown here (they are kept: orchestrate logs) ---\u001b[0m\n"])
  })
})
