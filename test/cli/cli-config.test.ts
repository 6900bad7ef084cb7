/**
 * `orchestrate up` with a config it must refuse: out-of-bounds numbers, absurd nesting, text that is not JSON or
 * not an object, a huge file. Each is exit 2 with the config's problems on stderr, nothing started, and never an
 * "internal error".
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cli } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"

/**
 * A temporary directory holding a config file, and the path of a marker an agent of the config would create if
 * it ever ran (`text` may use it).
 */
const configFile = (text: string | ((marker: string) => string)) =>
  Effect.map(tempDir("orch-config-"), (dir) => {
    const file = Path.join(dir, "config.json")
    const marker = Path.join(dir, "started")
    Fs.writeFileSync(file, typeof text === "string" ? text : text(marker))
    return { dir, file, marker }
  })

/** An agent that leaves `marker` behind as soon as it runs. */
const markerAgent = (marker: string) => ({
  name: "witness",
  command: process.execPath,
  args: ["-e", `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "")`]
})

describe("orchestrate up refuses a bad config", () => {
  it.live("heartbeatInterval: 0 is exit 2 with the path in the message, and no agent starts", () =>
    Effect.gen(function*() {
      const { dir, file } = yield* configFile((marker) => JSON.stringify({ heartbeatInterval: 0, agents: [markerAgent(marker)] }))
      const result = yield* cli(["up", file])
      expect(result).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: invalid config ${file}:\n  heartbeatInterval: expected a duration from 100 millis to 1 hour, got 0 millis\n`
      })
      expect(result.stderr).not.toContain("AGENT_STARTED")
      expect(Fs.readdirSync(dir)).toEqual(["config.json"])
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("every bound broken at once is reported at once, each by its path", () =>
    Effect.gen(function*() {
      const { file, marker } = yield* configFile((marker) => JSON.stringify({
        maxWorkers: 0,
        commandInterface: { shutdownTimeout: "1 day" },
        agents: [{ ...markerAgent(marker), stopTimeout: -1 }]
      }))
      const result = yield* cli(["up", file])
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(
        `error: invalid config ${file}:\n` +
          "  maxWorkers: expected an integer from 1 to 100000, got 0\n" +
          "  commandInterface.shutdownTimeout: expected a duration from 0 millis to 10 minutes, got 1 day\n" +
          "  agents[0].stopTimeout: expected a duration from 0 millis to 1 hour, got -1 millis\n"
      )
      expect(Fs.existsSync(marker)).toBe(false)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a config nested 100,000 levels deep is exit 2 with the depth message, not an internal error", () =>
    Effect.gen(function*() {
      const levels = 100_000
      const { file } = yield* configFile(`{"agents":[{"name":"a","command":"node","env":${`{"a":`.repeat(levels)}1${"}".repeat(levels)}}]}`)
      const result = yield* cli(["up", file])
      expect(result).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: invalid config ${file}:\n  agents[0].env.a…: nested deeper than 32 levels\n`
      })
      expect(result.stderr).not.toContain("internal error")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("text that is not JSON, or not an object, is exit 2 naming the file", () =>
    Effect.gen(function*() {
      const broken = yield* configFile(`{"maxWorkers": 3,}`)
      const notJson = yield* cli(["up", broken.file])
      expect(notJson.code).toBe(2)
      expect(notJson.stderr).toMatch(
        new RegExp(`^error: invalid config ${broken.file}:\\n {2}not valid JSON: [^\\n]*position 17[^\\n]*\\n$`)
      )
      const array = yield* configFile("[]")
      expect(yield* cli(["up", array.file])).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: invalid config ${array.file}:\n  (root): expected an object of settings, got an array\n`
      })
      const empty = yield* configFile("null")
      expect((yield* cli(["up", empty.file])).stderr).toBe(
        `error: invalid config ${empty.file}:\n  (root): expected an object of settings, got null\n`
      )
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a 1 GiB file is refused before it is read", () =>
    Effect.gen(function*() {
      const { file } = yield* configFile("")
      // Sparse: the size is on record, but no gigabyte is written, and an `up` that read it would take seconds.
      Fs.truncateSync(file, 2 ** 30)
      const result = yield* cli(["up", file], { timeout: "10 seconds" })
      expect(result).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: invalid config ${file}:\n  the file is 1073741824 bytes; a config may be at most 16 MiB (16777216 bytes)\n`
      })
    }).pipe(Effect.provide(NodeServices.layer)))
})
