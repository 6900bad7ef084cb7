/**
 * `orchestrate reload` against a real `up`: the config file rewritten, then planned (changing nothing) and applied
 * (agents added, removed and restarted, settings applied, the rest reported), through the real CLI.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cli, isAlive, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { eventually } from "../support/orchestrator.ts"

const idle = "setInterval(() => {}, 1000)"
const agent = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  command: process.execPath,
  args: ["-e", idle],
  ...extra
})

const v1 = {
  maxWorkers: 16,
  commandInterface: { enabled: true, allowedCommands: "all" },
  agents: [agent("db"), agent("api", { dependsOn: ["db"] }), agent("old"), agent("parked")]
}

const v2 = {
  maxWorkers: 8,
  // Needs a restart of `up`: reported, not applied.
  history: { capacity: 6000 },
  commandInterface: { enabled: true, allowedCommands: "all" },
  agents: [
    // Written differently, meaning the same: unchanged.
    agent("db", { restart: "never", backoff: { initial: "1 second" } }),
    agent("api", { dependsOn: ["db"], env: { API_VERSION: "2" } }),
    agent("parked", { args: ["-e", `${idle} // v2`] }),
    agent("worker", { dependsOn: [{ agent: "db", condition: "started" }] })
  ]
}

interface Summary {
  readonly name: string
  readonly state: string
  readonly pid: number | null
  readonly restarts: number
}

const psOf = (address: string) =>
  Effect.map(cli(["ps", "--json", "--address", address]), (result) => (JSON.parse(result.stdout) as { data: { agents: ReadonlyArray<Summary> } }).data.agents)

/** What a reload may change of each agent (its uptime changes anyway). */
const byName = (agents: ReadonlyArray<Summary>) =>
  new Map(agents.map(({ name, state, pid, restarts }) => [name, { name, state, pid, restarts }]))

/** A real `up` of `config`, written to a file of its own, and a way to run the CLI against it. */
const upWith = (config: unknown) =>
  Effect.gen(function*() {
    const dir = yield* tempDir("orch-reload-")
    const file = Path.join(dir, "config.json")
    Fs.writeFileSync(file, JSON.stringify(config))
    const { address } = yield* startUp([file, "--quiet"])
    return { dir, file, address, run: (args: ReadonlyArray<string>) => cli([...args, "--address", address]) }
  })

describe("orchestrate reload (real up)", () => {
  it.live("plans without changing anything, then adds, removes and restarts agents in dependency order", () =>
    Effect.gen(function*() {
      const { file, address, run } = yield* upWith(v1)
      expect((yield* run(["status", "--wait", "--timeout", "20"])).code).toBe(0)
      expect((yield* run(["stop", "parked"])).code).toBe(0)
      const before = byName(yield* psOf(address))

      Fs.writeFileSync(file, JSON.stringify(v2))
      const planned = yield* run(["reload", "--dry-run", "--json"])
      expect(planned.code).toBe(0)
      expect(JSON.parse(planned.stdout)).toEqual({
        status: "success",
        data: {
          config: file,
          dry_run: true,
          agents: { added: ["worker"], removed: ["old"], changed: ["api", "parked"], unchanged: ["db"] },
          settings: [{ key: "maxWorkers", from: "16", to: "8" }],
          needs_restart: [{ key: "history.capacity", from: "5000", to: "6000" }],
          results: []
        },
        id: expect.any(String)
      })
      // Nothing changed.
      expect(byName(yield* psOf(address))).toEqual(before)

      const applied = yield* run(["reload", "--reason", "add worker"])
      expect(applied.stderr).toBe("")
      expect(applied.code).toBe(0)
      expect(applied.stdout).toBe([
        `reloaded ${file}`,
        "  added      worker",
        "  removed    old",
        "  changed    api, parked",
        "  unchanged  db",
        "  setting    maxWorkers: 16 -> 8",
        "  not applied (needs a restart of 'up'): history.capacity: 5000 -> 6000",
        "Agent 'old' stopped and removed",
        "Agent 'api' restarted with its new definition",
        "Agent 'parked' changed; it stays stopped and starts with its new definition",
        "Agent 'worker' added and started",
        ""
      ].join("\n"))

      const after = byName(yield* psOf(address))
      expect([...after.keys()]).toEqual(["db", "api", "parked", "worker"])
      expect(after.get("db")?.pid).toBe(before.get("db")?.pid)
      expect(after.get("api")).toMatchObject({ state: "running", restarts: 1 })
      expect(after.get("api")?.pid).not.toBe(before.get("api")?.pid)
      expect(after.get("parked")).toMatchObject({ state: "stopped", pid: null })
      expect(after.get("worker")).toMatchObject({ state: "running" })
      // The old processes are really gone: the removed agent's and the changed agent's first run.
      for (const name of ["old", "api"]) {
        const pid = before.get(name)?.pid ?? 0
        expect(yield* eventually(Effect.sync(() => isAlive(pid)), (alive) => !alive)).toBe(false)
      }
      const stats = JSON.parse((yield* run(["stats", "--json"])).stdout) as { data: { max_workers: number } }
      expect(stats.data.max_workers).toBe(8)
      // The new definition is the one that runs: parked starts with it.
      expect((yield* run(["start", "parked"])).code).toBe(0)
      const parked = yield* run(["status", "parked", "--json"])
      expect(JSON.parse(parked.stdout)).toMatchObject({ status: "success", data: { state: "running" } })

      const history = JSON.parse((yield* run(["history", "--json", "--limit", "1000"])).stdout) as {
        data: { events: ReadonlyArray<{ event_name: string; agent_name: string | null; data: Record<string, unknown> }> }
      }
      const reloaded = history.data.events.filter((event) => event.event_name === "CONFIG_RELOADED")
      expect(reloaded).toHaveLength(1)
      expect(reloaded[0]?.data).toEqual({
        config: file,
        added: ["worker"],
        removed: ["old"],
        changed: ["api", "parked"],
        settings: ["maxWorkers"],
        needs_restart: ["history.capacity"],
        failed: []
      })
      expect(history.data.events.filter((event) => event.agent_name === "old").map((event) => event.event_name)).toContain("AGENT_REMOVED")
      const audit = JSON.parse((yield* run(["history", "--category", "command", "--limit", "1000", "--json"])).stdout) as {
        data: { events: ReadonlyArray<{ event_name: string; data: Record<string, unknown> }> }
      }
      const reloads = audit.data.events.filter((event) => event.data["command"] === "reload")
      expect(reloads.map((event) => [event.event_name, event.data["args"], event.data["reason"] ?? null])).toEqual([
        ["COMMAND_EXECUTED", [{ dry_run: true }], null],
        ["COMMAND_EXECUTED", [{}], "add worker"]
      ])

      // Reloading the same file again: nothing to do, and the setting that needs a restart is still reported.
      const again = JSON.parse((yield* run(["reload", "--json"])).stdout) as { data: Record<string, unknown> }
      expect(again.data).toMatchObject({
        agents: { added: [], removed: [], changed: [], unchanged: ["db", "api", "parked", "worker"] },
        settings: [],
        needs_restart: [{ key: "history.capacity", from: "5000", to: "6000" }],
        results: []
      })
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("an invalid or unreadable config changes nothing and says every problem by path", () =>
    Effect.gen(function*() {
      const { dir, file, address, run } = yield* upWith(v1)
      const before = (yield* psOf(address)).map((agent) => agent.name)

      Fs.writeFileSync(file, JSON.stringify({
        ...v1,
        maxWorkers: 0,
        agents: [...v1.agents, { name: "bad", command: "x", restart: "sometimes", colour: "red" }]
      }))
      const invalid = yield* run(["reload"])
      expect(invalid.code).toBe(1)
      expect(invalid.stdout).toBe("")
      // What happened first, with the code, before every problem on a line of its own.
      expect(invalid.stderr.split("\n")[0]).toBe(`error: Failed to execute command: reload: nothing was changed: invalid config ${file}: (500)`)
      expect(invalid.stderr).toContain("maxWorkers: ")
      expect(invalid.stderr).toContain("agents[4].restart: ")
      expect(invalid.stderr).toContain("agents[4].colour: ")

      const missing = yield* run(["reload", Path.join(dir, "nope.json")])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain(`cannot read config ${Path.join(dir, "nope.json")}: no such file`)

      // A config file given on the command line is read from where the CLI runs.
      Fs.writeFileSync(Path.join(dir, "next.json"), JSON.stringify({ ...v1, agents: v1.agents.slice(0, 2) }))
      const relative = yield* cli(["reload", "next.json", "--dry-run", "--address", address], { cwd: dir })
      expect(relative.code).toBe(0)
      expect(relative.stdout).toContain(`plan for ${Path.join(dir, "next.json")} (dry run: nothing was changed)`)
      expect(relative.stdout).toContain("  removed    old, parked")
      expect((yield* psOf(address)).map((agent) => agent.name)).toEqual(before)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
