import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { cli, isAlive, startUp } from "../support/cli.ts"
import { pollUntil } from "../support/processes.ts"
import { eventually } from "../support/orchestrator.ts"
import { configFile } from "../support/files.ts"
import { ask, reqClient } from "../support/zmq.ts"

const writeConfig = (config: unknown) => configFile(config, "orch-config-")

const node = (script: string) => ({ command: process.execPath, args: ["-e", script] })

describe("orchestrate up", () => {
  it.live("runs the demo; answers over ZeroMQ; `shutdown` stops it with exit 0 and no agent left behind", () =>
    Effect.gen(function*() {
      const { address, up } = yield* startUp([])
      expect((yield* cli(["status", "--wait", "api", "--timeout", "20", "--address", address])).code).toBe(0)
      const client = yield* reqClient(address)
      const ps = yield* ask(client, { command: "ps" })
      expect(ps).toMatchObject({ status: "success" })
      const agents = (ps as { data: { agents: Array<{ name: string; pid: number | null }> } }).data.agents
      expect(agents.map((agent) => agent.name)).toEqual(["db", "api", "worker", "migrate", "flaky"])
      const status = yield* ask(client, { command: "status", args: ["api"] })
      expect(status).toMatchObject({ status: "success", data: { agent_name: "api", state: "running", dependencies: ["db"] } })
      const pids = agents.flatMap((agent) => agent.pid === null ? [] : [agent.pid])
      expect(pids.length).toBeGreaterThanOrEqual(3)

      expect(yield* ask(client, { command: "shutdown" })).toEqual({ status: "success", data: { message: "Shutdown initiated" } })
      const exit = yield* up.exit()
      expect(exit.code).toBe(0)
      expect(exit.stderr).toContain("ORCHESTRATOR_SHUTDOWN")
      expect(pids.filter(isAlive)).toEqual([])
      // The command interface closed last: its "stopped" line comes after the orchestrator's shutdown.
      expect(exit.stderr.indexOf("command interface on")).toBeGreaterThan(exit.stderr.indexOf("ORCHESTRATOR_SHUTDOWN"))
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("an agent restarted by a command logs as the orchestrator does, not at the interface's level or under its name", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig({
        commandInterface: { enabled: true, allowedCommands: "all", logLevel: "Error" },
        agents: [{ name: "app", ...node("setInterval(() => {}, 1000)") }]
      })
      const { address, up } = yield* startUp([file, "--quiet"])
      expect((yield* cli(["restart", "app", "--address", address])).code).toBe(0)
      expect((yield* cli(["stop", "app", "--address", address])).code).toBe(0)
      yield* up.signal("SIGTERM")
      const { stderr } = yield* up.exit()
      const lines = stderr.split("\n")
      expect(lines.filter((line) => line.includes("AGENT_STARTED"))).toHaveLength(2)
      expect(lines.filter((line) => line.includes("AGENT_STOPPED"))).toHaveLength(2)
      expect(lines.filter((line) => line.includes("AGENT_RESTARTED"))).toHaveLength(1)
      expect(stderr).not.toContain("command-interface")
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("an agent restarting in a loop keeps its own last events and leaves the others' in the history", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig({
        history: { perAgent: 40, categories: { agent: 100 } },
        commandInterface: { enabled: true, allowedCommands: "monitoring" },
        agents: [
          { name: "steady", ...node("setInterval(() => {}, 1000)") },
          { name: "flapping", command: "sh", args: ["-c", "exit 1"], restart: "always", maxRestarts: 1000000, backoff: { initial: 0, max: 0 } }
        ]
      })
      const { address } = yield* startUp([file, "--quiet"])
      const restarts = Effect.map(cli(["status", "flapping", "--json", "--address", address]), ({ stdout }) =>
        (JSON.parse(stdout) as { data: { restarts: number } }).data.restarts)
      // Each restart is a few events: far more than both bounds by then.
      yield* eventually(restarts, (count) => count >= 60)
      const eventsOf = (agent: string) =>
        Effect.map(cli(["history", "--agent", agent, "--limit", "1000", "--json", "--address", address]), ({ stdout }) =>
          (JSON.parse(stdout) as { data: { events: ReadonlyArray<{ event_name: string }> } }).data.events.map((event) => event.event_name))
      expect((yield* eventsOf("steady")).slice(0, 3)).toEqual(["AGENT_REGISTERED", "AGENT_QUEUED", "AGENT_STARTED"])
      expect((yield* eventsOf("flapping")).length).toBeLessThanOrEqual(40)
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("shuts down gracefully on SIGTERM, with exit 0", () =>
    Effect.gen(function*() {
      const { up } = yield* startUp([])
      yield* up.signal("SIGTERM")
      const exit = yield* up.exit()
      expect(exit.code).toBe(0)
      expect(exit.stderr).toContain("AGENT_STOPPED")
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("a second Ctrl-C stops waiting: every agent is killed at once and the exit code is 130", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig({
        agentStopTimeout: "30 seconds",
        commandInterface: { enabled: true },
        agents: [{ name: "stubborn", ...node("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)") }]
      })
      const { address, up } = yield* startUp([file])
      const agent = yield* cli(["status", "stubborn", "--json", "--address", address])
      const pid = Number(/"pid":(\d+)/.exec(agent.stdout)?.[1])
      expect(isAlive(pid)).toBe(true)
      yield* up.signal("SIGINT")
      yield* Effect.sleep("500 millis")
      // The first Ctrl-C is waiting out the agent's 30 s grace period.
      expect(isAlive(pid)).toBe(true)
      yield* up.signal("SIGINT")
      const exit = yield* up.exit("5 seconds")
      expect(exit.code).toBe(130)
      expect(exit.stderr).toContain("error: interrupted again; killing every agent and exiting now")
      // The guardian kills the agents as `up` exits: within milliseconds, and never later than 2 s.
      expect(yield* pollUntil(() => isAlive(pid), (alive) => !alive, 2000)).toBe(false)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("rejects an invalid config with exit 2, naming each problem's path", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig({
        maxWorkrs: 2,
        agents: [
          { name: "a", ...node("") },
          { name: "b", ...node(""), restart: "sometimes" },
          { name: "c", ...node(""), dependsOn: ["a"], stopTimeout: true }
        ]
      })
      const result = yield* cli(["up", file])
      expect(result.code).toBe(2)
      expect(result.stdout).toBe("")
      expect(result.stderr).toBe(
        `error: invalid config ${file}:\n` +
          "  maxWorkrs: unexpected key\n" +
          "  agents[1].restart: Expected \"never\" | \"on-failure\" | \"always\", got \"sometimes\"\n" +
          "  agents[2].stopTimeout: Expected number | string, got true\n"
      )
      const cycle = yield* writeConfig({ agents: [{ name: "a", ...node(""), dependsOn: ["b"] }, { name: "b", ...node(""), dependsOn: ["a"] }] })
      expect((yield* cli(["up", cycle])).stderr).toContain("agents: dependency cycle: a -> b -> a")
      const missing = yield* cli(["up", "/nonexistent/orchestrate.json"])
      expect(missing).toMatchObject({ code: 2, stderr: "error: cannot read config file /nonexistent/orchestrate.json: no such file\n" })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("in until-done mode exits 0 once every agent has completed, and 1 when one failed", () =>
    Effect.gen(function*() {
      const good = yield* writeConfig({ runMode: "until-done", agents: [{ name: "a", ...node("") }, { name: "b", ...node(""), dependsOn: ["a"] }] })
      const done = yield* cli(["up", good])
      expect(done.code).toBe(0)
      // How long the run took, not its shutdown (1 ms or so): two Node processes, one after the other.
      const took = Number(/every agent has finished, (\d+) ms after the start/.exec(done.stderr)?.[1])
      expect(took).toBeGreaterThanOrEqual(40)
      const bad = yield* writeConfig({ runMode: "until-done", agents: [{ name: "ok", ...node("") }, { name: "broken", ...node("process.exit(4)") }] })
      const failed = yield* cli(["up", bad])
      expect(failed.code).toBe(1)
      expect(failed.stderr).toContain("error: agents failed: broken")
    }).pipe(Effect.provide(NodeServices.layer)))
})
