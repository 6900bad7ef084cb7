import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { LogFiles, logFileName, writeFully } from "../../src/logs/LogFiles.ts"
import { ByteLines } from "../../src/logs/ByteLines.ts"
import { linesOfTexts } from "../../src/logs/LineSplitter.ts"
import type { LogBatch } from "../../src/logs/LogStore.ts"
import { packageRoot } from "../../src/packageRoot.ts"
import { tempDir } from "../support/files.ts"

/** One line as the store hands it to a sink: a batch of one. */
const line = (seq: number, text: string, agent = "api"): LogBatch => ({
  agent,
  stream: seq % 2 === 0 ? "stderr" : "stdout",
  timestamp: Date.UTC(2026, 11, 1, 10, 0, 0, seq),
  firstSeq: seq,
  lines: linesOfTexts([text])[0] ?? new ByteLines(Buffer.alloc(0), new Int32Array(0), new Int32Array(0))
})

/** Runs `use` with log files in `dir`; the scope's end flushes them. Collects what was logged. */
const withFiles = <A>(dir: string, config: { readonly maxBytes: number; readonly keep: number }, use: (files: LogFiles["Service"]) => Effect.Effect<A>) =>
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

  it("writes until everything is written, and a write that takes nothing is a failure", () => {
    const calls: Array<number> = []
    // At most 3 bytes a call, like a disk filling up or a slow device.
    const slow = (_fd: number, _data: Uint8Array, _offset: number, length: number) => {
      calls.push(length)
      return Math.min(3, length)
    }
    expect(writeFully(slow, 7, Buffer.from("0123456789"))).toEqual({ written: 10 })
    expect(calls).toEqual([10, 7, 4, 1])
    let left = 4
    const filling = (_fd: number, _data: Uint8Array, _offset: number, length: number) => {
      const count = Math.min(left, length)
      left -= count
      return count
    }
    const full = writeFully(filling, 7, Buffer.from("0123456789"))
    expect(full.written).toBe(4)
    expect(String(full.error)).toBe("Error: a write of 6 bytes wrote nothing")
  })

  it("names files safely whatever the agent is called", () => {
    expect(logFileName("api")).toBe("api.log")
    expect(logFileName("../etc/passwd")).toBe("_._etc_passwd.log")
    expect(logFileName(".hidden")).toBe("_hidden.log")
  })
})
