/**
 * `orchestrate up` stopping while a log write never ends: the stop waits `logs.flushTimeout`, then says how many
 * lines it gave up on, and its closing count of lost lines includes them.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { spawn } from "../support/cli.ts"
import { stuckFile, tempDir } from "../support/files.ts"
import { eventually } from "../support/orchestrator.ts"

describe("up with a log disk that stopped answering", () => {
  it.live("stops waiting after logs.flushTimeout, warns with the count, and counts the lines as lost", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-stuck-disk-")
      const logs = Path.join(dir, "logs")
      Fs.mkdirSync(logs)
      // The agent's log file never takes its lines until released (`stuckFile`).
      const { release } = yield* stuckFile(Path.join(logs, "api.log"))
      const config = Path.join(dir, "config.json")
      // The lines in one write, so that they arrive together: none is written by a periodic flush before the FIFO fills.
      Fs.writeFileSync(config, JSON.stringify({
        runMode: "until-done",
        logs: { dir: "logs", flushTimeout: "1 second" },
        agents: [{ name: "api", command: process.execPath, args: ["-e", "process.stdout.write(Array.from({ length: 2000 }, (_, i) => 'line ' + i + ' ' + 'x'.repeat(80) + '\\n').join(''))"] }]
      }))
      const up = yield* spawn(["up", "--quiet", config])
      const closing = `2000 agent log lines could not be written to ${logs}`
      const stderr = yield* eventually(up.stderr, (text) => text.includes(closing))
      // The stop waited about the timeout: from the last agent's end to the warning, by the log's own clock.
      const at = (text: string) => {
        const stamp = stderr.split("\n").find((line) => line.includes(text))?.match(/^\[(\d+):(\d+):(\d+)\.(\d+)\]/)
        return stamp === null || stamp === undefined ? Number.NaN : ((Number(stamp[1]) * 60 + Number(stamp[2])) * 60 + Number(stamp[3])) * 1000 + Number(stamp[4])
      }
      const waited = (at("did not end within") - at("every agent has finished") + 86_400_000) % 86_400_000
      expect(waited).toBeGreaterThanOrEqual(950)
      expect(waited).toBeLessThan(8000)
      const warnings = stderr.split("\n").filter((line) => line.includes("WARN")).map((line) => line.slice(line.indexOf("): ") + 3))
      expect(warnings).toEqual([
        `agent log writes to ${logs} did not end within 1 second (is the disk answering?): stopped waiting; 2000 lines not written yet counted as lost`,
        closing
      ])
      // The write given up on still blocks a thread of Node's pool, which the process waits for at exit; once the
      // "disk" answers (EPIPE here), it exits as its agents did.
      release()
      const exited = yield* up.exit()
      expect(exited.code).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
