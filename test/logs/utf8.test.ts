/**
 * Multi-byte UTF-8 through the real `orchestrate up` and CLI, written a few bytes at a time so that the pipe's reads
 * cut characters apart: every line arrives whole, in memory (`logs`), on `up`'s terminal and in the log file.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cli, startUp } from "../support/cli.ts"
import { eventually } from "../support/orchestrator.ts"
import { tempDir } from "../support/files.ts"

/** Two-, three- and four-byte characters, a "\r\n" line break, and an empty line. */
const SHORT = ["naïve café", "€ 20 ≠ ¥ 20", "emoji 😀🎉 and a flag 🇫🇷", "", "windows line\r", "end ✓"]
/** Longer than 8192 UTF-16 units, with a four-byte character (two units) straddling the limit. */
const LONG = `${"x".repeat(8191)}😀${"y".repeat(100)}`

/** An agent that writes `text` in pieces of 1 to 7 bytes, 2 ms apart: most pieces end inside a character. */
const trickle = (text: string) => `
const bytes = Buffer.from(${JSON.stringify(text)}, "utf8")
let at = 0
const next = () => {
  if (at >= bytes.length) return setInterval(() => {}, 1000)
  const size = at < ${Buffer.byteLength(SHORT.join("\n"))} ? 1 + (at % 7) : 997
  process.stdout.write(bytes.subarray(at, at + size))
  at += size
  setTimeout(next, 2)
}
next()`

describe("multi-byte text cut across the pipe's reads", () => {
  it.live("arrives whole in `logs`, on up's terminal and in the log file; a long line is split between characters", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-utf8-")
      const file = Path.join(dir, "config.json")
      const text = `${SHORT.join("\n")}\n${LONG}\n`
      Fs.writeFileSync(file, JSON.stringify({
        commandInterface: { enabled: true, allowedCommands: "all" },
        logs: { dir: "logs" },
        agents: [{ name: "talker", command: process.execPath, args: ["-e", trickle(text)] }]
      }))
      // What the agent's lines must come out as: "\r" before "\n" dropped, the long line cut before the emoji
      // that would not fit (8191 units), never between its two halves.
      const lines = [...SHORT.map((line) => line.replace(/\r$/, "")), "x".repeat(8191), `😀${"y".repeat(100)}`]
      const { address, up } = yield* startUp([file])

      const kept = yield* eventually(
        cli(["logs", "talker", "-n", "1000", "--no-prefix", "--address", address]),
        (result) => result.stdout.split("\n").length > lines.length
      )
      expect(kept.stdout).toBe(`${lines.join("\n")}\n`)

      const shown = yield* up.waitForStdout((stdout) => stdout.includes(`talker | 😀${"y".repeat(100)}\n`))
      expect(shown).toBe(lines.map((line) => `talker | ${line}\n`).join(""))

      const logFile = Path.join(dir, "logs", "talker.log")
      const written = yield* eventually(
        Effect.sync(() => Fs.existsSync(logFile) ? Fs.readFileSync(logFile) : Buffer.alloc(0)),
        (bytes) => bytes.toString("utf8").split("\n").length > lines.length
      )
      const entries = written.toString("utf8").split("\n").slice(0, -1)
      expect(entries.map((entry) => entry.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout /, ""))).toEqual(lines)
      // Byte for byte what the agent wrote, once each line's prefix is taken off.
      expect(Buffer.concat(entries.map((entry) => Buffer.from(`${entry.slice(32)}\n`)))).toEqual(Buffer.from(`${lines.join("\n")}\n`))
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
