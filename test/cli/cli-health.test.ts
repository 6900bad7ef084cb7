/**
 * Health through the real CLI: `ps` (its HEALTH column and `health` in `--json`), `status <agent>` with its probes,
 * and `stats` counting unhealthy agents.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cli, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"

const json = (stdout: string): unknown => JSON.parse(stdout)

/** Runs `command` again, a little later each time, until its output satisfies `until`. */
const until = <A, E, R>(command: Effect.Effect<A, E, R>, done: (a: A) => boolean) =>
  command.pipe(Effect.repeat({ until: done, times: 100, schedule: Schedule.spaced("50 millis") }))

describe("health in the CLI", () => {
  it.live("ps shows HEALTH and health, status the probes, stats the unhealthy count", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const config = Path.join(dir, "health.json")
      Fs.writeFileSync(config, JSON.stringify({
        commandInterface: { allowedCommands: "monitoring" },
        agents: [
          { name: "plain", command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] },
          {
            name: "sick",
            command: process.execPath,
            args: ["-e", "setInterval(() => {}, 1000)"],
            readiness: { exec: { command: process.execPath, args: ["-e", "console.log('no db'); process.exit(3)"] }, period: 100, failureThreshold: 1 }
          },
          {
            name: "fine",
            command: process.execPath,
            args: ["-e", "setInterval(() => {}, 1000)"],
            liveness: { exec: { command: process.execPath, args: ["-e", "process.exit(0)"] }, period: 100 }
          }
        ]
      }))
      const { address } = yield* startUp([config])
      const run = (args: ReadonlyArray<string>) => cli([...args, "--address", address])

      const stats = yield* until(run(["stats", "--json"]), (result) => /"unhealthy":1/.test(result.stdout))
      expect(json(stats.stdout)).toMatchObject({ data: { unhealthy: 1 } })

      const machine = yield* until(run(["ps", "--json"]), (result) => /"health":"healthy"/.test(result.stdout))
      expect(json(machine.stdout)).toMatchObject({
        status: "success",
        data: {
          agents: [
            { name: "plain", state: "running", health: null },
            { name: "sick", state: "starting", health: "unhealthy" },
            { name: "fine", state: "running", health: "healthy" }
          ]
        }
      })

      const human = yield* run(["ps"])
      const rows = human.stdout.trim().split("\n").map((line) => line.split(/\s+/).slice(0, 3))
      expect(rows).toEqual([["NAME", "STATE", "HEALTH"], ["plain", "running", "-"], ["sick", "starting", "unhealthy"], ["fine", "running", "healthy"]])

      const detail = yield* run(["status", "sick"])
      expect(detail.stdout).toMatch(/^health\s+unhealthy$/m)
      expect(detail.stdout).toMatch(/^readiness\s+exec \S+ -e console\.log\('no db'\); process\.exit\(3\): unhealthy$/m)
      expect(detail.stdout).toMatch(/^ {2}last result\s+failure \d+s ago$/m)
      expect(detail.stdout).toMatch(/^ {2}failures in a row\s+\d+$/m)
      expect(detail.stdout).toMatch(/^ {2}last failure\s+\d+s ago: exited with code 3: no db$/m)

      const detailJson = json((yield* run(["status", "sick", "--json"])).stdout)
      expect(detailJson).toMatchObject({
        data: {
          health: "unhealthy",
          probes: [{ role: "readiness", kind: "exec", health: "unhealthy", last_result: "failure", last_failure: "exited with code 3: no db" }]
        }
      })
      const human2 = yield* run(["stats"])
      expect(human2.stdout).toMatch(/^unhealthy\s+1$/m)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), { timeout: 60_000 })
})
