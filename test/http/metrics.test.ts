/**
 * `GET /metrics`: Prometheus text that `promtool check metrics` accepts, from the metrics the orchestrator and the
 * command interface record (agents from the snapshot at scrape time, commands per transport, events, log lines,
 * probe failures); a token when tokens are set; and a real Prometheus server on loopback scraping a real
 * `orchestrate up --http`, queried for `orchestrate_agent_up`.
 *
 * promtool and prometheus come from Debian's `prometheus` package, which `.ci/run` installs; where they are
 * absent the tests that need them are skipped, saying so in their names.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tokenSha256 } from "../../src/security/tokens.ts"
import { spawnCommand, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { bearer, fetchText, postJson, startStack } from "../support/http.ts"
import { freePort } from "../support/net.ts"
import { eventually } from "../support/orchestrator.ts"

const has = (binary: string): boolean => ChildProcess.spawnSync("sh", ["-c", `command -v ${binary}`]).status === 0
const PROMTOOL = has("promtool")
const PROMETHEUS = has("prometheus")
const absent = (binary: string) => ` (SKIPPED: ${binary} is not installed; apt-get install -y prometheus, as .ci/run does)`

/** What `promtool check metrics` says of `text`: its exit code and complaints. */
const promtool = (text: string) =>
  Effect.sync(() => {
    const result = ChildProcess.spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })
    return { code: result.status, output: `${result.stdout}${result.stderr}` }
  })

/** The value of the sample `series` (its name and labels exactly as printed), if the text has it. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe("GET /metrics", () => {
  it.live("serves the agents' state and the commands answered, per transport, in Prometheus text", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      for (let i = 0; i < 3; i++) expect((yield* fetchText(`${url}/api/v1/agents`)).status).toBe(200)
      expect((yield* postJson(`${url}/api/v1/command`, { command: "no-such-command" })).status).toBe(400)
      const metrics = yield* fetchText(`${url}/metrics`)
      expect(metrics.status).toBe(200)
      expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
      const text = metrics.text
      expect(sample(text, `orchestrate_agent_up{agent="db"}`)).toBe(1)
      expect(sample(text, `orchestrate_agent_up{agent="worker"}`)).toBe(0)
      expect(sample(text, `orchestrate_agent_state{agent="worker",state="paused"}`)).toBe(1)
      expect(sample(text, `orchestrate_agent_state{agent="worker",state="running"}`)).toBe(0)
      expect(sample(text, `orchestrate_agent_state{agent="migrate",state="completed"}`)).toBe(1)
      expect(sample(text, `orchestrate_agent_restarts_total{agent="api"}`)).toBe(0)
      expect(sample(text, `orchestrate_commands_total{command="ps",code="200",transport="http"}`)).toBe(3)
      // A made-up name is not a label of its own: a client could otherwise make series without bound.
      expect(sample(text, `orchestrate_commands_total{command="(unknown)",code="400",transport="http"}`)).toBe(1)
      expect(text).not.toContain("no-such-command")
      expect(sample(text, `orchestrate_command_duration_seconds_count{command="ps"}`)).toBe(3)
      expect(sample(text, `orchestrate_command_duration_seconds_bucket{command="ps",le="+Inf"}`)).toBe(3)
      expect(text).toContain("# TYPE orchestrate_command_duration_seconds histogram")
      expect(text).toContain("# HELP orchestrate_agent_up ")

      // A restart is in the next scrape's counter, from the snapshot.
      expect((yield* postJson(`${url}/api/v1/agents/api/restart`, {})).status).toBe(200)
      expect(sample((yield* fetchText(`${url}/metrics`)).text, `orchestrate_agent_restarts_total{agent="api"}`)).toBe(1)
    }))

  it.live.skipIf(!PROMTOOL)(`is accepted by promtool check metrics${PROMTOOL ? "" : absent("promtool")}`, () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      yield* fetchText(`${url}/api/v1/status`)
      const { text } = yield* fetchText(`${url}/metrics`)
      expect(yield* promtool(text)).toEqual({ code: 0, output: "" })
      // And promtool is not a check that passes anything.
      expect((yield* promtool("orchestrate_bad-name 1\n")).code).not.toBe(0)
    }))

  it.live("needs one of the tokens when tokens are set, any role", () =>
    Effect.gen(function*() {
      const token = "orch_metrics-test-token"
      const { url } = yield* startStack({
        http: { tokens: [{ name: "prometheus", tokenSha256: tokenSha256(token), role: ["whoami"] }] }
      })
      const refused = yield* fetchText(`${url}/metrics`)
      expect(refused.status).toBe(401)
      expect(refused.headers.get("www-authenticate")).toBe(`Bearer realm="orchestrate"`)
      expect(refused.json).toMatchObject({ code: 401, reason: "AuthenticationFailed" })
      expect((yield* fetchText(`${url}/metrics`, { headers: bearer("orch_not-this-one") })).status).toBe(401)
      const scraped = yield* fetchText(`${url}/metrics`, { headers: bearer(token) })
      expect(scraped.status).toBe(200)
      expect(scraped.text).toContain(`orchestrate_agent_up{agent="db"} 1`)
    }))
})

const node = (script: string) => ({ command: process.execPath, args: ["-e", script] })

/** A config whose agents write output and fail a probe, so that every metric has samples. */
const writeConfig = Effect.gen(function*() {
  const dir = yield* tempDir("orch-metrics-")
  const closedPort = yield* freePort
  const file = Path.join(dir, "services.json")
  Fs.writeFileSync(file, JSON.stringify({
    commandInterface: { enabled: true, allowedCommands: "all" },
    agents: [
      { name: "talker", ...node("setInterval(() => { console.log('tick'); console.error('tock') }, 100)") },
      {
        name: "unready",
        ...node("setInterval(() => {}, 1000)"),
        readiness: { tcp: { port: closedPort }, period: 100, timeout: 100 }
      }
    ]
  }))
  return file
})

describe("orchestrate up --http, scraped", () => {
  it.live.skipIf(!PROMTOOL)(`serves every metric of the README, which promtool accepts${PROMTOOL ? "" : absent("promtool")}`, () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const url = `http://127.0.0.1:${port}`
      yield* startUp([yield* writeConfig, "--http", `127.0.0.1:${port}`, "--quiet"])
      const has = (text: string, series: string) => (sample(text, series) ?? 0) > 0
      const text = yield* eventually(
        Effect.map(fetchText(`${url}/metrics`), (answer) => answer.text),
        (text) =>
          has(text, `orchestrate_agent_up{agent="talker"}`) &&
          has(text, `orchestrate_log_lines_total{agent="talker",stream="stderr"}`) &&
          has(text, `orchestrate_probe_failures_total{agent="unready",probe="readiness"}`) &&
          has(text, `orchestrate_agent_memory_bytes{agent="talker"}`) &&
          has(text, `orchestrate_agent_cpu_seconds_total{agent="talker"}`)
      )
      expect(sample(text, `orchestrate_agent_state{agent="unready",state="starting"}`)).toBe(1)
      expect(sample(text, `orchestrate_agent_up{agent="unready"}`)).toBe(0)
      expect(has(text, `orchestrate_log_lines_total{agent="talker",stream="stdout"}`)).toBe(true)
      expect(has(text, `orchestrate_events_total{category="agent"}`)).toBe(true)
      // startUp's own `ps` calls, over ZeroMQ.
      expect(has(text, `orchestrate_commands_total{command="ps",code="200",transport="zmq"}`)).toBe(true)
      const names = new Set(text.split("\n").flatMap((line) => line.startsWith("# TYPE ") ? [line.split(" ")[2]] : []))
      expect([...names].filter((name) => name?.startsWith("orchestrate_")).sort()).toEqual([
        "orchestrate_agent_cpu_seconds_total",
        "orchestrate_agent_memory_bytes",
        "orchestrate_agent_restarts_total",
        "orchestrate_agent_state",
        "orchestrate_agent_up",
        "orchestrate_command_duration_seconds",
        "orchestrate_commands_total",
        "orchestrate_events_total",
        "orchestrate_log_lines_total",
        "orchestrate_probe_failures_total"
      ])
      expect(yield* promtool(text)).toEqual({ code: 0, output: "" })
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live.skipIf(!PROMETHEUS)(`a real Prometheus scrapes it and answers for orchestrate_agent_up${PROMETHEUS ? "" : absent("prometheus")}`, () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const promPort = yield* freePort
      yield* startUp([yield* writeConfig, "--http", `127.0.0.1:${port}`, "--quiet"])
      const dir = yield* tempDir("orch-prometheus-")
      const config = Path.join(dir, "prometheus.yml")
      Fs.writeFileSync(config, [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: orchestrate",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${port}"]`,
        ""
      ].join("\n"))
      yield* spawnCommand("prometheus", [
        `--config.file=${config}`,
        `--storage.tsdb.path=${Path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`
      ])
      const query = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(`orchestrate_agent_up{agent="talker"}`)}`
      type Answer = { data?: { result?: ReadonlyArray<{ metric: Record<string, string>; value: [number, string] }> } }
      const answered = yield* eventually(
        Effect.map(
          Effect.catchDefect(fetchText(query), () => Effect.succeed(undefined)),
          (answer) => (answer?.json as Answer | undefined)?.data?.result ?? []
        ),
        (result) => result.length > 0 && result[0]?.value[1] === "1"
      )
      expect(answered[0]?.metric).toMatchObject({ __name__: "orchestrate_agent_up", agent: "talker", job: "orchestrate" })
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)
})
