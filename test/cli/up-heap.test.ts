/**
 * `orchestrate up` runs with V8's young generation capped and its old generation's first limit raised
 * (bin/orchestrate.js executes it again, in place, with `--max-semi-space-size=4 --initial-old-space-size=64`): the
 * same pid answers, with the flags on its command line. A young generation's limit the user gives, on the command line
 * or in NODE_OPTIONS, is left alone, and so is everything else then.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { BIN, cli, spawnCommand, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"

const CONFIG = Path.join(packageRoot(), "test", "fixtures", "steady.json")

/** The command line of a process, as `ps` shows it. */
const commandLine = (pid: number): ReadonlyArray<string> => Fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((arg) => arg !== "")

describe("up's heap", () => {
  it.live("up runs with its young generation capped, in the process that was started", () =>
    Effect.gen(function*() {
      const { address, up } = yield* startUp([CONFIG])
      const line = commandLine(up.pid)
      expect(line.slice(1, 4)).toEqual(["--max-semi-space-size=4", "--initial-old-space-size=64", BIN])
      expect(line.slice(4, 5)).toEqual(["up"])
      // Also with shared flags and their values before the subcommand.
      const dir = yield* tempDir()
      const early = `ipc://${Path.join(dir, "early.sock")}`
      const flagsFirst = yield* spawnCommand(process.execPath, [BIN, "--address", early, "up", CONFIG])
      const answered = yield* cli(["ps", "--timeout", "5", "--address", early]).pipe(
        Effect.repeat({ until: (result) => result.code === 0, times: 100 })
      )
      expect(answered.code).toBe(0)
      expect(commandLine(flagsFirst.pid).slice(1, 4)).toEqual(["--max-semi-space-size=4", "--initial-old-space-size=64", BIN])
      // That process is the orchestrator: stopped, it answers no more.
      yield* up.signal("SIGTERM")
      expect((yield* up.exit()).code).toBe(0)
      expect((yield* cli(["ps", "--timeout", "1", "--address", address])).code).toBe(3)
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("a limit given in NODE_OPTIONS or on Node's command line is left as it is", () =>
    Effect.gen(function*() {
      const fromEnv = yield* startUp([CONFIG], { env: { NODE_OPTIONS: "--max-semi-space-size=8" } })
      expect(commandLine(fromEnv.up.pid).slice(1, 3)).toEqual([BIN, "up"])
      // V8's other spelling of the same flag.
      const underscored = yield* startUp([CONFIG], { env: { NODE_OPTIONS: "--max_semi_space_size=8" } })
      expect(commandLine(underscored.up.pid).slice(1, 3)).toEqual([BIN, "up"])

      const dir = yield* tempDir()
      const address = `ipc://${Path.join(dir, "cmd.sock")}`
      const given = yield* spawnCommand(process.execPath, ["--max-semi-space-size=16", BIN, "up", CONFIG, "--address", address])
      const answered = yield* cli(["ps", "--timeout", "5", "--address", address]).pipe(
        Effect.repeat({ until: (result) => result.code === 0, times: 100 })
      )
      expect(answered.code).toBe(0)
      expect(commandLine(given.pid).slice(1, 4)).toEqual(["--max-semi-space-size=16", BIN, "up"])
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)
})
