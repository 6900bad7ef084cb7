/**
 * The plan a reload makes, from two configs: what counts as a change of an agent, which settings apply at once and
 * which need a restart of `up`.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Path, Result } from "effect"
import { parseSettings } from "../../src/app/ConfigFile.ts"
import { planReload } from "../../src/app/ConfigReloader.ts"

const loaded = (file: string, config: Record<string, unknown>) => {
  const settings = parseSettings(config, file)
  if (Result.isFailure(settings)) throw new Error(settings.failure.message)
  return { file, settings: settings.success }
}

const plan = (before: Record<string, unknown>, after: Record<string, unknown>, files = ["/srv/a/config.json", "/srv/a/config.json"]) =>
  Effect.gen(function*() {
    return planReload(loaded(files[0] ?? "", before), loaded(files[1] ?? "", after), yield* Path.Path)
  })

describe("planReload", () => {
  it.effect("compares agents by what they mean: defaults and duration spellings are no change, a relative cwd elsewhere is", () =>
    Effect.gen(function*() {
      const agents = [
        { name: "db", command: "postgres", stopTimeout: 5000 },
        { name: "api", command: "node", args: ["api.js"], cwd: "api" },
        { name: "gone", command: "sleep", args: ["1000"] }
      ]
      const same = yield* plan({ agents }, {
        agents: [
          { name: "db", command: "postgres", stopTimeout: "5 seconds", restart: "never", maxRestarts: 5 },
          { name: "api", command: "node", args: ["api.js"], cwd: "./api/" },
          { name: "new", command: "sleep", args: ["1000"] }
        ]
      })
      expect(same.agents).toEqual({ added: ["new"], removed: ["gone"], changed: [], unchanged: ["db", "api"] })
      // The same text in another directory runs its programs elsewhere (a cwd defaults to the config's directory),
      // unless their directory is absolute.
      const absolute = agents.map((agent) => agent.name === "db" ? { ...agent, cwd: "/srv/db" } : agent)
      const moved = yield* plan({ agents: absolute }, { agents: absolute }, ["/srv/a/config.json", "/srv/b/config.json"])
      expect(moved.agents).toEqual({ added: [], removed: [], changed: ["api", "gone"], unchanged: ["db"] })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("applies maxWorkers, agentStopTimeout and heartbeatInterval; reports the rest by path as needing a restart", () =>
    Effect.gen(function*() {
      const changes = yield* plan({ maxWorkers: 4 }, {
        maxWorkers: 2,
        agentStopTimeout: "10 seconds",
        runMode: "until-done",
        logs: { keepLines: 50 },
        commandInterface: { enabled: true, address: "tcp://127.0.0.1:6000" }
      })
      expect(changes.settings).toEqual([
        { key: "maxWorkers", from: "4", to: "2" },
        { key: "agentStopTimeout", from: "5000", to: "10000" }
      ])
      expect(changes.needsRestart).toEqual([
        { key: "runMode", from: "\"daemon\"", to: "\"until-done\"" },
        { key: "logs.keepLines", from: "1000", to: "50" },
        { key: "commandInterface.enabled", from: "false", to: "true" },
        { key: "commandInterface.address", from: "\"tcp://127.0.0.1:5570\"", to: "\"tcp://127.0.0.1:6000\"" }
      ])
    }).pipe(Effect.provide(NodeServices.layer)))
})
