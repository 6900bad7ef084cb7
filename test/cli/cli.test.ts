import { NodeServices } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Duration, Effect, Schema } from "effect"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { cli, spawn, UpServer, upServer } from "../support/cli.ts"

const CONFIG = Path.join(packageRoot(), "test", "fixtures", "cli.json")

/** Runs the CLI against the shared orchestrator. */
const run = (args: ReadonlyArray<string>, env?: Record<string, string>) =>
  UpServer.use(({ address }) => cli([...args, "--address", address], env === undefined ? {} : { env }))

const json = (stdout: string): unknown => JSON.parse(stdout)

/** The seqs of the events a history table shows, in the order shown. */
const seqsIn = (stdout: string): ReadonlyArray<number> => [...stdout.matchAll(/^(\d+) /gm)].map((match) => Number(match[1]))

// Real processes and real time: the test services (TestClock) are left out.
layer(upServer([CONFIG]), { timeout: 30_000, excludeTestServices: true })("orchestrate against a running orchestrator", (it) => {
  it.effect("ps: a table, or the envelope exactly with --json", () =>
    Effect.gen(function*() {
      yield* run(["status", "--wait", "web", "--timeout", "20"])
      const human = yield* run(["ps"])
      expect(human.code).toBe(0)
      const lines = human.stdout.trim().split("\n")
      expect(lines[0]).toMatch(/^NAME\s+STATE\s+HEALTH\s+PID\s+CPU%\s+MEM\s+UPTIME\s+RESTARTS$/)
      expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 2))).toEqual([["ticker", "running"], ["web", "running"], ["job", "completed"]])
      const machine = yield* run(["ps", "--json"])
      expect(machine.code).toBe(0)
      expect(machine.stdout.trim().split("\n")).toHaveLength(1)
      expect(json(machine.stdout)).toMatchObject({ status: "success", data: { agents: [{ name: "ticker", state: "running" }, { name: "web" }, { name: "job", state: "completed", pid: null }] } })
    }))

  it.effect("status: the overview and one agent's detail, in both modes", () =>
    Effect.gen(function*() {
      const overview = yield* run(["status"])
      expect(overview.stdout).toMatch(/^orchestrator\s+running \(daemon\), up \d+/)
      expect(overview.stdout).toMatch(/agents\s+3 total: 2 running, 1 completed/)
      expect(overview.stdout).toMatch(/NAME\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+HEARTBEAT\s+NOTE/)
      const detail = yield* run(["status", "web"])
      expect(detail.stdout).toMatch(/^agent\s+web$/m)
      expect(detail.stdout).toMatch(/^depends on\s+ticker$/m)
      expect(detail.stdout).toMatch(/^restarts\s+0 \(policy: never\)$/m)
      const machine = json((yield* run(["status", "web", "--json"])).stdout)
      expect(machine).toMatchObject({ status: "success", data: { agent_name: "web", kind: "process", dependencies: ["ticker"] } })
    }))

  it.effect("stats, dependencies and commands, in both modes", () =>
    Effect.gen(function*() {
      const stats = yield* run(["stats"])
      expect(stats.stdout).toMatch(/^agents\s+3 total$/m)
      expect(stats.stdout).toMatch(/^events\s+\d+ recorded, \d+ retained of 5000$/m)
      expect(json((yield* run(["stats", "--json"])).stdout)).toMatchObject({ data: { total_agents: 3, max_workers: 8 } })
      const graph = yield* run(["dependencies"])
      expect(graph.stdout).toMatch(/start order\s+ticker -> web -> job/)
      expect(graph.stdout).toMatch(/^ticker\s+running\s+-\s+web$/m)
      // Each edge with its condition: web waits for ticker to be ready.
      expect(graph.stdout).toMatch(/^web\s+running\s+ticker \(ready\)/m)
      expect(json((yield* run(["dependencies", "--json"])).stdout)).toMatchObject({
        data: {
          start_order: ["ticker", "web", "job"],
          agents: expect.arrayContaining([expect.objectContaining({ name: "web", edges: [{ agent: "ticker", condition: "ready", restart: false }] })])
        }
      })
      const commands = yield* run(["commands"])
      expect(commands.stdout).toMatch(/^shutdown\s+yes\s+Stop every agent, then the orchestrator$/m)
      expect(json((yield* run(["commands", "--json"])).stdout)).toHaveProperty(["data", "allowed", "length"], 15)
    }))

  it.effect("history: filtered events, in both modes", () =>
    Effect.gen(function*() {
      const events = yield* run(["history", "--agent", "job"])
      expect(events.stdout).toMatch(/^SEQ\s+TIME\s+CATEGORY\s+EVENT\s+AGENT\s+DATA$/m)
      expect(events.stdout).toMatch(/AGENT_STARTED\s+job\s+pid=\d+/)
      expect(events.stdout).toMatch(/AGENT_COMPLETED\s+job\s+exit_code=0/)
      const machine = json((yield* run(["history", "--agent", "job", "--event", "AGENT_COMPLETED", "--json"])).stdout)
      expect(machine).toMatchObject({ status: "success", data: { count: 1, events: [{ event_name: "AGENT_COMPLETED", agent_name: "job" }] } })
      const limited = json((yield* run(["history", "--category", "agent", "--limit", "2", "--json"])).stdout)
      expect(limited).toMatchObject({ data: { count: 2, limit: 2, has_more: true } })
      const after = json((yield* run(["history", "--agent", "job", "--after-seq", "1", "--limit", "1", "--json"])).stdout)
      expect(after).toMatchObject({ data: { events: [{ event_name: "AGENT_REGISTERED" }] } })
    }))

  it.effect("global flags work before and after the subcommand, and $ORCHESTRATE_ADDRESS stands in for --address", () =>
    Effect.gen(function*() {
      const { address } = yield* UpServer
      const before = yield* cli(["--address", address, "--json", "ps"])
      const after = yield* cli(["ps", "--json", "--address", address])
      const fromEnv = yield* cli(["ps", "--json"], { env: { ORCHESTRATE_ADDRESS: address } })
      for (const result of [before, after, fromEnv]) {
        expect(result.code).toBe(0)
        expect(json(result.stdout)).toHaveProperty(["data", "agents", "length"], 3)
      }
    }))

  it.effect("controls an agent: pause, resume, stop, start, restart", () =>
    Effect.gen(function*() {
      expect((yield* run(["pause", "web"])).stdout).toBe("Agent 'web' paused\n")
      expect((yield* run(["status", "web"])).stdout).toMatch(/^state\s+paused$/m)
      expect((yield* run(["pause", "web"])).stdout).toBe("Agent 'web' is already paused\n")
      expect((yield* run(["resume", "web"])).stdout).toBe("Agent 'web' resumed\n")
      expect((yield* run(["stop", "web"])).stdout).toBe("Agent 'web' stopped\n")
      expect((yield* run(["start", "web"])).stdout).toBe("Agent 'web' started\n")
      const restarted = json((yield* run(["restart", "web", "--json"])).stdout)
      // Reported as soon as it has been started: running, or still starting if it has not signalled readiness yet.
      expect(restarted).toMatchObject({
        status: "success",
        data: { message: "Agent 'web' restarted", agent: { restarts: 1, state: expect.stringMatching(/^(starting|running)$/) } }
      })
    }))

  it.effect("an error answer exits 1 with one line on stderr, and --json still prints the envelope", () =>
    Effect.gen(function*() {
      const human = yield* run(["status", "ghost"])
      expect(human).toEqual({ code: 1, stdout: "", stderr: "error: Failed to execute command: agent not found: 'ghost' (500)\n" })
      // A mistyped name in history is an error too, not an empty history.
      expect(yield* run(["history", "--agent", "ghost"])).toEqual(human)
      const machine = yield* run(["pause", "job", "--json"])
      expect(machine.code).toBe(1)
      expect(json(machine.stdout)).toMatchObject({ status: "error", code: 500, reason: "ExecutionFailed" })
      expect(machine.stderr).toBe("error: Failed to execute command: cannot pause agent 'job': it is completed (500)\n")
    }))

  it.effect("logs --since takes a duration back from now or an instant, and says so otherwise", () =>
    Effect.gen(function*() {
      expect(yield* run(["logs", "--since", "yesterday-ish"])).toEqual({
        code: 2,
        stdout: "",
        stderr: "error: --since: expected a duration such as 10m, 2h or 30s, or an ISO-8601 instant with its zone (2026-12-01T10:00:00Z), got 'yesterday-ish'\n"
      })
    }))

  it.effect("what users of other tools type first gets its equivalent suggested", () =>
    Effect.gen(function*() {
      for (const [typed, meant] of [["log", "logs"], ["ls", "ps"], ["list", "ps"], ["describe", "status"], ["info", "status"], ["top", "stats"], ["stauts", "status"]]) {
        const result = yield* run([typed ?? ""])
        expect(result.code, typed).toBe(2)
        expect(result.stderr, typed).toBe(
          `error: Unknown subcommand "${typed}" for "orchestrate"\n\n  Did you mean this?\n    ${meant}\nRun 'orchestrate --help' for usage.\n`
        )
      }
    }))

  it.effect("usage errors exit 2 with one line and a pointer to the help", () =>
    Effect.gen(function*() {
      const cases: Array<readonly [ReadonlyArray<string>, string]> = [
        [["ps", "--bogus"], "error: Unrecognized flag: --bogus in command orchestrate ps"],
        [["frobnicate"], "error: Unknown subcommand \"frobnicate\" for \"orchestrate\""],
        [["pause"], "error: Missing required argument: agent"],
        [["history", "--limit", "0"], "error: Invalid value for flag --limit"],
        [["status", "--timeout", "0"], "error: Invalid value for flag --timeout"],
        [["history", "--category", "nope"], "error: Invalid value for flag --category: \"nope\". Expected: \"agent\" | \"orchestrator\" | \"command\""]
      ]
      for (const [args, message] of cases) {
        const result = yield* run(args)
        expect(result.code, args.join(" ")).toBe(2)
        expect(result.stdout, args.join(" ")).toBe("")
        expect(result.stderr.split("\n")[0], args.join(" ")).toContain(message)
        expect(result.stderr, args.join(" ")).toMatch(/Run 'orchestrate.*--help' for usage\.\n$/)
      }
    }))

  it.effect("status --wait: ready at once for a running agent or a completed job; every agent without a name", () =>
    Effect.gen(function*() {
      expect((yield* run(["status", "--wait", "ticker"])).code).toBe(0)
      expect(yield* run(["status", "--wait", "job", "--timeout", "10"])).toMatchObject({ code: 0, stderr: "" })
      const all = yield* run(["status", "--wait", "--json", "--timeout", "10"])
      expect(all.code).toBe(0)
      expect(json(all.stdout)).toMatchObject({ status: "success", data: { state: "running" } })
    }))

  it.effect("history --follow prints every new event once, in order, until Ctrl-C", () =>
    Effect.gen(function*() {
      const { address } = yield* UpServer
      // Every request is recorded as a command event, the follower's own polls too: a steady stream of events.
      const follower = yield* spawn(["history", "--follow", "--category", "command", "--limit", "1", "--interval", "0.1", "--address", address])
      yield* follower.waitForStdout((stdout) => seqsIn(stdout).length > 10)
      yield* follower.signal("SIGINT")
      const { code, stdout } = yield* follower.exit()
      expect(code).toBe(0)
      const shown = seqsIn(stdout)
      const [first] = shown
      const last = shown[shown.length - 1] ?? 0
      // What the history holds for the same filter over the same span: the follower showed exactly that.
      const recorded = json((yield* run(["history", "--category", "command", "--after-seq", String((first ?? 1) - 1), "--limit", "1000", "--json"])).stdout)
      const seqs = Schema.decodeUnknownSync(Schema.Struct({ data: Schema.Struct({ events: Schema.Array(Schema.Struct({ seq: Schema.Number })) }) }))(recorded)
        .data.events.map((event) => event.seq).filter((seq) => seq <= last)
      expect(shown.length).toBeGreaterThan(10)
      expect(shown).toEqual(seqs)
      // Rows printed page after page stay under the header's columns.
      const [header = "", ...lines] = stdout.trimEnd().split("\n")
      for (const column of ["EVENT", "AGENT", "DATA"]) {
        const at = header.indexOf(column)
        for (const line of lines) expect(`${line.slice(at - 2, at)}|${line.charAt(at)}`, `${column} in: ${line}`).toMatch(/^ {2}\|\S$/)
      }
    }))

  it.effect("stats --watch prints one line per refresh when piped, until Ctrl-C", () =>
    Effect.gen(function*() {
      const { address } = yield* UpServer
      const watcher = yield* spawn(["stats", "--watch", "--interval", "0.2", "--address", address])
      yield* watcher.waitForStdout((stdout) => stdout.split("\n").length > 3)
      yield* watcher.signal("SIGINT")
      const { code, stdout } = yield* watcher.exit()
      expect(code).toBe(0)
      const lines = stdout.trim().split("\n")
      expect(lines.length).toBeGreaterThanOrEqual(3)
      for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z total_agents=3 .* max_workers=8 /)
      const times = lines.map((line) => Date.parse(line.slice(0, line.indexOf(" "))))
      // Refreshed every 0.2 s: never two at once (timer granularity allows a few ms early).
      times.slice(1).forEach((time, i) => expect(time - (times[i] ?? 0)).toBeGreaterThanOrEqual(190))
    }))

  it.effect("status --wait gives up at its timeout on an agent that stays paused, saying what it last saw", () =>
    Effect.gen(function*() {
      expect((yield* run(["status", "--wait", "web", "--timeout", "20"])).code).toBe(0)
      expect((yield* run(["pause", "web"])).code).toBe(0)
      const waited = yield* run(["status", "--wait", "web", "--timeout", "1"]).pipe(Effect.timed)
      yield* run(["resume", "web"])
      const [took, result] = waited
      expect(result).toEqual({ code: 3, stdout: "", stderr: "waiting for web (paused)\nerror: not ready after 1s: agent 'web' is paused\n" })
      expect(Duration.toMillis(took)).toBeGreaterThanOrEqual(1000)
    }))
})

describe("orchestrate without a reachable orchestrator", () => {
  it.live("exits 3 at once when nothing listens, and prints nothing on stdout even with --json", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const result = yield* cli(["ps", "--json", "--address", "tcp://127.0.0.1:1"])
      expect(result).toEqual({
        code: 3,
        stdout: "",
        stderr: "error: connection refused: is the orchestrator running with its command interface enabled? (tcp://127.0.0.1:1)\n"
      })
      expect(Date.now() - started).toBeLessThan(4000)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("status --wait keeps polling until its timeout, then exits 3 with what the last poll found", () =>
    Effect.gen(function*() {
      const [took, result] = yield* cli(["status", "--wait", "--timeout", "1.5", "--address", "tcp://127.0.0.1:1"]).pipe(Effect.timed)
      expect(result).toEqual({
        code: 3,
        stdout: "",
        stderr: "error: not ready after 1s: connection refused: is the orchestrator running with its command interface enabled? (tcp://127.0.0.1:1)\n"
      })
      expect(Duration.toMillis(took)).toBeGreaterThanOrEqual(1500)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("--help for every command shows its description and examples; --version prints the version", () =>
    Effect.gen(function*() {
      const commands = [
        "up", "ps", "status", "stats", "history", "logs", "dependencies", "commands", "whoami", "start", "stop", "restart", "pause", "resume",
        "shutdown", "keygen", "audit verify"
      ]
      const results = yield* Effect.forEach(commands, (command) => cli([...command.split(" "), "--help"]), { concurrency: 4 })
      results.forEach((result, i) => {
        expect(result.code, commands[i]).toBe(0)
        expect(result.stdout, commands[i]).toContain("DESCRIPTION")
        expect(result.stdout, commands[i]).toContain("EXAMPLES")
        expect(result.stdout, commands[i]).toContain(`orchestrate ${commands[i]}`)
      })
      const top = yield* cli(["--help"])
      expect(top.stdout).toContain(
        "Exit codes: 0 success; 1 the orchestrator answered with an error (or an audit file is broken); 2 usage or configuration error"
      )
      expect((yield* cli(["--version"])).stdout).toMatch(/^orchestrate v\d+\.\d+\.\d+\n$/)
    }).pipe(Effect.provide(NodeServices.layer)))
})
