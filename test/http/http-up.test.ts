/**
 * The HTTP interface of a real `orchestrate up`, with real process agents, through Node's fetch and the real CLI:
 * `--http`, the probes a Kubernetes pod would use, tokens made by `orchestrate token create`, the audit trail both
 * transports write to, a shutdown over HTTP, and the start-ups it refuses.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cli, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { bearer, fetchText, postJson } from "../support/http.ts"
import { eventually } from "../support/orchestrator.ts"
import { freePort } from "../support/net.ts"

const node = (script: string) => ({ command: process.execPath, args: ["-e", script] })

/**
 * A config in a fresh directory: a steady agent, one whose readiness line never comes, and one that ignores SIGTERM
 * for its grace period, so that a shutdown takes that long.
 */
const writeConfig = (extra: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir("orch-http-")
    const file = Path.join(dir, "services.json")
    Fs.writeFileSync(file, JSON.stringify({
      commandInterface: { enabled: true, allowedCommands: "all" },
      ...extra,
      agents: [
        { name: "steady", ...node("setInterval(() => {}, 1000)") },
        { name: "warming", ...node("setInterval(() => {}, 1000)"), readyLine: "^never printed$" },
        { name: "stubborn", ...node("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"), stopTimeout: 2000 }
      ]
    }))
    return file
  })

describe("orchestrate up --http", () => {
  it.live("answers over HTTP as over ZeroMQ, with probes, one audit trail, and a shutdown that ends up", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const url = `http://127.0.0.1:${port}`
      const { address, up } = yield* startUp([yield* writeConfig(), "--http", `127.0.0.1:${port}`, "--quiet"])

      expect(yield* fetchText(`${url}/livez`)).toMatchObject({ status: 200, json: { status: "live" } })
      // Answering over ZeroMQ comes first; the orchestrator may not have started its agents yet, and until it has,
      // every agent is listed as queued.
      const readiness = yield* eventually(
        fetchText(`${url}/readyz`),
        (answer) => (answer.json as { agents?: ReadonlyArray<{ name: string }> }).agents?.every((agent) => agent.name === "warming") === true
      )
      expect(readiness).toMatchObject({
        status: 503,
        json: { status: "not ready", agents: [{ name: "warming", state: "starting", health: "starting" }] }
      })
      const agents = yield* fetchText(`${url}/api/v1/agents`)
      expect(agents.status).toBe(200)
      const overZmq = yield* cli(["ps", "--json", "--address", address])
      const names = (answer: unknown) => (answer as { data: { agents: ReadonlyArray<{ name: string; pid: number }> } }).data.agents
      expect(names(agents.json).map((agent) => [agent.name, agent.pid])).toEqual(names(JSON.parse(overZmq.stdout)).map((agent) => [agent.name, agent.pid]))

      expect(yield* postJson(`${url}/api/v1/agents/warming/stop`, { reason: "not needed" })).toMatchObject({
        status: 200,
        json: { data: { message: expect.stringMatching(/^Agent 'warming' stopped/) } }
      })
      const audit = yield* cli(["history", "--category", "command", "--json", "--address", address])
      const records = (JSON.parse(audit.stdout) as { data: { events: ReadonlyArray<{ data: Record<string, unknown> }> } }).data.events
      expect(records.find((record) => record.data["command"] === "stop")?.data).toMatchObject({
        command: "stop",
        args: ["warming"],
        reason: "not needed",
        principal: null,
        transport: "http",
        peer_address: "127.0.0.1"
      })
      expect(records.find((record) => record.data["transport"] === undefined)?.data).toMatchObject({ command: "ps" })

      expect(yield* postJson(`${url}/api/v1/shutdown`, { reason: "end of test" })).toMatchObject({
        status: 200,
        json: { status: "success", data: { message: "Shutdown initiated" } }
      })
      // While agents stop, it is not ready, and still answers: the interfaces close last.
      const stopping = yield* eventually(fetchText(`${url}/readyz`), (answer) => (answer.json as { reason?: string }).reason !== undefined)
      expect(stopping).toMatchObject({ status: 503, json: { status: "not ready", reason: "the orchestrator is stopping" } })
      expect((yield* fetchText(`${url}/api/v1/agents`)).status).toBe(200)
      expect((yield* up.exit()).code).toBe(0)
      expect(yield* Effect.promise(() => fetch(`${url}/livez`).then(() => "answered", () => "refused"))).toBe("refused")
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("with a token from 'orchestrate token create': 401 without it, its role with it", () =>
    Effect.gen(function*() {
      const created = yield* cli(["token", "create", "grafana", "--json"])
      expect(created.code).toBe(0)
      const { token, entry } = JSON.parse(created.stdout) as { token: string; entry: Record<string, unknown> }
      expect(token).toMatch(/^orch_[A-Za-z0-9_-]{43}$/)
      expect(entry).toEqual({ name: "grafana", tokenSha256: expect.stringMatching(/^[0-9a-f]{64}$/), role: "monitoring" })

      const port = yield* freePort
      const url = `http://127.0.0.1:${port}`
      yield* startUp([yield* writeConfig({ http: { enabled: true, address: `127.0.0.1:${port}`, tokens: [entry] } }), "--quiet"])
      expect(yield* fetchText(`${url}/api/v1/agents`)).toMatchObject({ status: 401, json: { reason: "AuthenticationFailed" } })
      expect((yield* fetchText(`${url}/api/v1/agents`, { headers: bearer(token) })).status).toBe(200)
      expect(yield* postJson(`${url}/api/v1/agents/steady/stop`, {}, bearer(token))).toMatchObject({
        status: 403,
        json: { error: "Command 'stop' not allowed for 'grafana': not among the commands its role allows (see the 'whoami' command)" }
      })
      const named = yield* eventually(
        fetchText(`${url}/readyz`, { headers: bearer(token) }),
        // Once steady and stubborn are up, warming (which never gets ready) is the one left.
        (answer) => (answer.json as { agents?: ReadonlyArray<unknown> }).agents?.length === 1
      )
      expect(named).toMatchObject({ status: 503, json: { agents: [{ name: "warming" }] } })
      expect(yield* fetchText(`${url}/readyz`)).toEqual(expect.objectContaining({ status: 503, json: { status: "not ready" } }))
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("refuses to start on a network address without TLS and tokens, before any agent starts", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const refused = yield* cli(["up", yield* writeConfig(), "--http", `0.0.0.0:${port}`, "--quiet"])
      expect(refused.code).toBe(2)
      expect(refused.stderr).toContain(
        `error: cannot start the HTTP interface on http://0.0.0.0:${port}: it is reachable from the network without tls and tokens`
      )
      expect(refused.stderr).not.toContain("AGENT_STARTED")
      // Without the ZeroMQ interface, it says the CLI cannot reach it, whatever else fails after.
      const httpOnly = yield* cli(["up", yield* writeConfig({ commandInterface: { enabled: false } }), "--http", `0.0.0.0:${port}`, "--quiet"])
      expect(httpOnly.stderr).toContain("the ZeroMQ command interface is disabled, so the CLI cannot reach this orchestrator; commands are served over HTTP only")
      const malformed = yield* cli(["up", "--http", "5580"])
      expect(malformed.code).toBe(2)
      expect(malformed.stderr).toContain(`Invalid value for flag --http: "5580"`)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
