import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { LogFiles, type LogFilesConfig, logFileName } from "../../src/logs/LogFiles.ts"
import { ByteLines } from "../../src/logs/ByteLines.ts"
import { linesOfTexts } from "../../src/logs/LineSplitter.ts"
import type { LogBatch } from "../../src/logs/LogStore.ts"
import { packageRoot } from "../../src/packageRoot.ts"
import { isOpenHere, stuckFile, tempDir } from "../support/files.ts"
import { eventually } from "../support/orchestrator.ts"

/** One line as the store hands it to a sink: a batch of one. */
const line = (seq: number, text: string, agent = "api"): LogBatch => ({
  agent,
  stream: seq % 2 === 0 ? "stderr" : "stdout",
  timestamp: Date.UTC(2026, 11, 1, 10, 0, 0, seq),
  firstSeq: seq,
  lines: linesOfTexts([text])[0] ?? new ByteLines(Buffer.alloc(0), new Int32Array(0), new Int32Array(0))
})

/** Runs `use` with log files in `dir`; the scope's end flushes them. Collects what was logged. */
const withFiles = <A>(dir: string, config: Omit<LogFilesConfig, "dir">, use: (files: LogFiles["Service"]) => Effect.Effect<A>) =>
  Effect.gen(function*() {
    const logged: Array<string> = []
    const result = yield* Effect.scoped(Effect.flatMap(LogFiles.make({ dir, ...config }), use)).pipe(
      Effect.provide(Logger.layer([Logger.make(({ message }) => logged.push(String(Array.isArray(message) ? message[0] : message)))]))
    )
    return { result, logged }
  })

describe("LogFiles", () => {
  it.live("appends `<time> <stream> <line>` per line to <agent>.log, mode 0640, and rotates at the size limit", () =>
    Effect.gen(function*() {
      const dir = Path.join(yield* tempDir("orch-logfiles-"), "logs")
      // Each line is 24 (time) + 1 + 6 + 1 + 10 + 1 = 43 bytes: three fit under 150 bytes, a fourth does not.
      yield* withFiles(dir, { maxBytes: 150, keep: 2 }, (files) =>
        Effect.forEach(Array.from({ length: 11 }, (_, i) => line(i + 1, `line ${String(i + 1).padStart(5, "0")}`)), (one) => files.write([one]), { discard: true }))
      const file = Path.join(dir, "api.log")
      expect(Fs.readdirSync(dir).sort()).toEqual(["api.log", "api.log.1", "api.log.2"])
      expect(Fs.statSync(file).mode & 0o777).toBe(0o640)
      expect(Fs.statSync(dir).mode & 0o777).toBe(0o750)
      const read = (name: string) => Fs.readFileSync(Path.join(dir, name), "utf8")
      // 11 lines, 3 per file: 1-3 are gone past `keep`, 4-6 in .2, 7-9 in .1, 10-11 in the current file.
      expect(read("api.log.2")).toBe(
        "2026-12-01T10:00:00.004Z stderr line 00004\n2026-12-01T10:00:00.005Z stdout line 00005\n2026-12-01T10:00:00.006Z stderr line 00006\n"
      )
      expect(read("api.log.1").split("\n")[0]).toBe("2026-12-01T10:00:00.007Z stdout line 00007")
      expect(read("api.log")).toBe("2026-12-01T10:00:00.010Z stderr line 00010\n2026-12-01T10:00:00.011Z stdout line 00011\n")
      for (const name of ["api.log", "api.log.1", "api.log.2"]) expect(Fs.statSync(Path.join(dir, name)).size).toBeLessThanOrEqual(150)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))

  it.live("keep 0 leaves only the current file; a rotated file past `keep` left behind goes at the next rotation", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-logfiles-")
      const lines = (from: number) => Array.from({ length: 5 }, (_, i) => line(from + i, `line ${String(from + i).padStart(5, "0")}`))
      yield* withFiles(dir, { maxBytes: 150, keep: 0 }, (files) => Effect.forEach(lines(1), (one) => files.write([one]), { discard: true }))
      expect(Fs.readdirSync(dir)).toEqual(["api.log"])
      expect(Fs.readFileSync(Path.join(dir, "api.log"), "utf8")).toBe(
        "2026-12-01T10:00:00.004Z stderr line 00004\n2026-12-01T10:00:00.005Z stdout line 00005\n"
      )
      // As a process that died within a rotation leaves them, or one that kept more.
      Fs.writeFileSync(Path.join(dir, "api.log.1"), "older\n")
      Fs.writeFileSync(Path.join(dir, "api.log.2"), "oldest, past keep\n")
      yield* withFiles(dir, { maxBytes: 150, keep: 1 }, (files) => Effect.forEach(lines(6), (one) => files.write([one]), { discard: true }))
      expect(Fs.readdirSync(dir).sort()).toEqual(["api.log", "api.log.1"])
      // Three lines a file: 4 and 5 were there, 6 fills it; 7-9 the next, which is rotated for 10.
      const numbers = (name: string) => Fs.readFileSync(Path.join(dir, name), "utf8").split("\n").map((text) => text.slice(-5))
      expect(numbers("api.log.1")).toEqual(["00007", "00008", "00009", ""])
      expect(numbers("api.log")).toEqual(["00010", ""])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))

  it.live("loses nothing across many rotations: the files, oldest first, hold every line in order", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-logfiles-")
      const text = (i: number) => `line ${String(i).padStart(6, "0")} ${"x".repeat(i % 97)}`
      // About 3 MB in batches of 500 lines: written in batches of buffers, each split across rotations at 64 KiB.
      const { result } = yield* withFiles(dir, { maxBytes: 64 * 1024, keep: 100 }, (files) =>
        Effect.gen(function*() {
          for (let batch = 0; batch < 60; batch++) {
            const lines = linesOfTexts(Array.from({ length: 500 }, (_, i) => text(batch * 500 + i + 1)))[0]
            if (lines === undefined) continue
            yield* files.write([{ agent: "api", stream: "stdout", timestamp: Date.UTC(2026, 11, 1), firstSeq: batch * 500 + 1, lines }])
          }
          return yield* files.failures
        }))
      expect(result).toBe(0)
      const names = Fs.readdirSync(dir)
      const rotated = names.filter((name) => name !== "api.log").map((name) => Number(name.slice("api.log.".length)))
      expect(rotated.length).toBeGreaterThan(30)
      expect(rotated.length).toBeLessThanOrEqual(100)
      expect([...rotated].sort((a, b) => a - b)).toEqual(Array.from({ length: rotated.length }, (_, i) => i + 1))
      const order = [...rotated.sort((a, b) => b - a).map((n) => `api.log.${n}`), "api.log"]
      for (const name of order) expect(Fs.statSync(Path.join(dir, name)).size).toBeLessThanOrEqual(64 * 1024)
      const all = order.map((name) => Fs.readFileSync(Path.join(dir, name), "utf8")).join("")
      const expected = Array.from({ length: 30_000 }, (_, i) => `2026-12-01T00:00:00.000Z stdout ${text(i + 1)}\n`).join("")
      expect(all === expected).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))

  it.live("an unwritable directory is logged once, counted, and never fails the writer", () =>
    Effect.gen(function*() {
      const base = yield* tempDir("orch-logfiles-")
      // A directory below a regular file cannot be made, even by root.
      Fs.writeFileSync(Path.join(base, "not-a-dir"), "")
      const dir = Path.join(base, "not-a-dir", "logs")
      const { result, logged } = yield* withFiles(dir, { maxBytes: 1_000_000, keep: 1 }, (files) =>
        Effect.gen(function*() {
          for (let i = 1; i <= 5; i++) {
            yield* files.write([line(i, `x${i}`)])
            yield* Effect.sleep("150 millis")
          }
          return yield* files.failures
        }))
      expect(result).toBe(5)
      expect(logged.filter((message) => message.startsWith("cannot write agent log"))).toEqual([
        `cannot write agent log ${Path.join(dir, "api.log")}: ENOTDIR: not a directory, mkdir '${dir}'; lines that cannot be written are counted and dropped`
      ])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))

  it.live("a write that takes only part of the data is finished, and what a file-size limit stops is counted", () =>
    Effect.gen(function*() {
      const dir = Path.join(yield* tempDir("orch-logfiles-"), "logs")
      // A real short write: under `ulimit -f 1` (1024 bytes) a write that crosses the limit takes what fits and
      // returns that count, and the next one fails with EFBIG (Node ignores SIGXFSZ).
      const script = `
        import { Effect } from "effect"
        import { LogFiles } from "./src/logs/LogFiles.ts"
        import { linesOfTexts } from "./src/logs/LineSplitter.ts"
        const line = (seq) => ({ agent: "api", stream: "stdout", timestamp: Date.UTC(2026, 11, 1, 10, 0, 0, seq), firstSeq: seq, lines: linesOfTexts(["line " + String(seq).padStart(5, "0")])[0] })
        const failures = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
          const files = yield* LogFiles.make({ dir: process.argv[1], maxBytes: 1000000, keep: 1 })
          yield* files.write(Array.from({ length: 40 }, (_, i) => line(i + 1)))
          yield* files.flush
          return yield* files.failures
        })))
        console.log("failures " + failures)`
      const run = ChildProcess.spawnSync("bash", ["-c", `ulimit -f 1 && exec "$0" --input-type=module -e "$1" "$2"`, process.execPath, script, dir], {
        cwd: packageRoot(),
        encoding: "utf8"
      })
      expect(run.status, run.stderr).toBe(0)
      // Each line is 43 bytes: 23 fit whole in 1024, the 24th in part; 17 are not written.
      expect(run.stdout).toContain("failures 17\n")
      expect(`${run.stdout}${run.stderr}`).toMatch(/cannot write agent log .*api\.log: EFBIG/)
      const written = Fs.readFileSync(Path.join(dir, "api.log"), "utf8")
      expect(written.length).toBe(1024)
      expect(written.split("\n").slice(0, 23).at(-1)).toBe("2026-12-01T10:00:00.023Z stdout line 00023")
    }))

  it.live("holds an agent back while its disk is behind, and loses nothing: every line, in order", () =>
    Effect.gen(function*() {
      const dir = Path.join(yield* tempDir("orch-logfiles-"), "logs")
      Fs.mkdirSync(dir)
      // The "disk" is a FIFO that a child drains 16 KiB a millisecond into a file: about 16 MB/s.
      const fifo = Path.join(dir, "api.log")
      expect(ChildProcess.spawnSync("mkfifo", [fifo]).status).toBe(0)
      const copy = Path.join(dir, "copy")
      const drain = ChildProcess.spawn(process.execPath, ["-e", `
        const fs = require("fs"); const from = fs.openSync(process.argv[1], "r"); const to = fs.openSync(process.argv[2], "w")
        const buffer = Buffer.alloc(16384)
        const step = () => { const n = fs.readSync(from, buffer); if (n === 0) return; fs.writeSync(to, buffer, 0, n); setTimeout(step, 1) }
        step()`, fifo, copy], { stdio: "inherit" })
      const exited = Effect.callback<void>((resume) => {
        drain.once("exit", () => resume(Effect.void))
      })
      const text = (i: number) => `line ${String(i).padStart(6, "0")} ${"x".repeat(60)}`
      let heldBack = 0
      const { result } = yield* withFiles(dir, { maxBytes: 1_000_000_000, keep: 1 }, (files) =>
        Effect.gen(function*() {
          // 100,000 lines of about 100 bytes formatted, 400 at a time: 10 MB, far faster than the FIFO takes them.
          for (let batch = 0; batch < 250; batch++) {
            const lines = linesOfTexts(Array.from({ length: 400 }, (_, i) => text(batch * 400 + i + 1)))[0]
            if (lines === undefined) continue
            const wait = files.writeUnsafe([{ agent: "api", stream: "stdout", timestamp: Date.UTC(2026, 11, 1), firstSeq: batch * 400 + 1, lines }])
            if (wait !== undefined) {
              heldBack++
              yield* wait
            }
          }
          return yield* files.failures
        }))
      yield* exited
      expect(result).toBe(0)
      expect(heldBack).toBeGreaterThan(0)
      const expected = Array.from({ length: 100_000 }, (_, i) => `2026-12-01T00:00:00.000Z stdout ${text(i + 1)}\n`).join("")
      expect(Fs.readFileSync(copy, "utf8") === expected).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("a write that never ends holds the stop for flushTimeout only: the lines not written are counted lost, with one warning", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-logfiles-")
      const fifo = Path.join(dir, "api.log")
      const { release } = yield* stuckFile(fifo)
      const texts = Array.from({ length: 2000 }, (_, i) => `line ${String(i + 1).padStart(6, "0")} ${"x".repeat(80)}`)
      let started = 0
      const { result: files, logged } = yield* withFiles(dir, { maxBytes: 1_000_000_000, keep: 1, flushTimeout: "500 millis" }, (files) =>
        Effect.gen(function*() {
          const lines = linesOfTexts(texts)[0]
          if (lines !== undefined) yield* files.write([{ agent: "api", stream: "stdout", timestamp: Date.UTC(2026, 11, 1), firstSeq: 1, lines }])
          started = Date.now()
          // As `up` does before the scope's end: a flush, then the finalizer's own, which has nothing left to wait for.
          yield* files.flush
          return files
        }))
      const elapsed = Date.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(450)
      expect(elapsed).toBeLessThan(2500)
      expect(yield* files.failures).toBe(2000)
      expect(logged.filter((message) => message.startsWith("agent log writes"))).toEqual([
        `agent log writes to ${dir} did not end within 500 millis (is the disk answering?): stopped waiting; 2000 lines not written yet counted as lost`
      ])
      // Released, the abandoned write ends (EPIPE) and closes its descriptor; nothing is counted twice.
      release()
      expect(yield* eventually(isOpenHere(fifo), (isOpen) => !isOpen)).toBe(false)
      expect(yield* files.failures).toBe(2000)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))

  it("names files safely whatever the agent is called", () => {
    expect(logFileName("api")).toBe("api.log")
    expect(logFileName("../etc/passwd")).toBe("_._etc_passwd.log")
    expect(logFileName(".hidden")).toBe("_hidden.log")
  })
})
