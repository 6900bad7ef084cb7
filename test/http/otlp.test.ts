/**
 * OpenTelemetry export of a real `orchestrate up`, configured by the standard variables, into an OTLP/HTTP receiver
 * in the test process (test/support/otlpReceiver.ts): the spans of a `ps` over ZeroMQ and over HTTP (a REST route and
 * `POST /api/v1/command`, each within the HTTP server's span) with their attributes and stages, an agent's start, and a restart's stop and start; the resource and headers the variables
 * give; metric points (a command's, an agent's) and a log record; the last batch flushed on shutdown. Which
 * bundles `up` loaded is recorded (test/support/recordLoads.ts): the exporters' chunk with an endpoint, not without
 * one. A collector that is down is a warning, and a malformed variable a config error before anything starts.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { cli, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { fetchText, postJson } from "../support/http.ts"
import { freePort } from "../support/net.ts"
import { otlpReceiver, type ReceivedSpan } from "../support/otlpReceiver.ts"
import { eventually } from "../support/orchestrator.ts"

const RECORD_LOADS = Path.join(packageRoot(), "test", "support", "recordLoads.ts")
const EXPORTERS_CHUNK = /\/dist\/chunks\/OtlpExport-[A-Z0-9]+\.mjs$/m

/** A config with one steady agent, every command allowed; and a file recording which bundles processes load. */
const setup = Effect.gen(function*() {
  const dir = yield* tempDir("orch-otlp-")
  const config = Path.join(dir, "services.json")
  Fs.writeFileSync(config, JSON.stringify({
    commandInterface: { enabled: true, allowedCommands: "all" },
    agents: [{ name: "steady", command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] }]
  }))
  const loads = Path.join(dir, "loads")
  Fs.writeFileSync(loads, "")
  return {
    config,
    loaded: () => Fs.readFileSync(loads, "utf8"),
    recordLoads: { NODE_OPTIONS: `--import=${RECORD_LOADS}`, ORCHESTRATE_TEST_LOADS: loads }
  }
})

/** Batches every 100-200 ms, so that what is awaited arrives in a fraction of a second. */
const QUICK_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_METRIC_EXPORT_INTERVAL: "200", OTEL_BLRP_SCHEDULE_DELAY: "100" }

/** None of the variables the test runner's own environment might hold. */
const NO_OTEL = {
  OTEL_EXPORTER_OTLP_ENDPOINT: "",
  OTEL_EXPORTER_OTLP_HEADERS: "",
  OTEL_EXPORTER_OTLP_PROTOCOL: "",
  OTEL_SERVICE_NAME: "",
  OTEL_RESOURCE_ATTRIBUTES: "",
  OTEL_SDK_DISABLED: ""
}

const childrenOf = (spans: ReadonlyArray<ReceivedSpan>, parent: ReceivedSpan | undefined) =>
  parent === undefined ? [] : spans.filter((span) => span.parentSpanId === parent.spanId)

describe("OpenTelemetry export (OTEL_* variables)", () => {
  it.live("exports the requests' spans, agents' starts, stops and restarts, metrics and logs, as the variables say", () =>
    Effect.gen(function*() {
      const { config, loaded, recordLoads } = yield* setup
      const receiver = yield* otlpReceiver
      const port = yield* freePort
      const { address, up } = yield* startUp([config, "--http", `127.0.0.1:${port}`, "--quiet"], {
        env: {
          ...NO_OTEL,
          ...QUICK_EXPORT,
          ...recordLoads,
          // Under a path, which the signals' paths go below, as the specification says.
          OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/otlp`,
          OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=secret%20value, x-tenant=a=b",
          OTEL_SERVICE_NAME: "orchestrate-test",
          OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test,team=a%2Cb,service.name=overridden"
        }
      })
      expect((yield* cli(["ps", "--address", address])).code).toBe(0)
      expect((yield* fetchText(`http://127.0.0.1:${port}/api/v1/agents`)).status).toBe(200)
      expect((yield* postJson(`http://127.0.0.1:${port}/api/v1/command`, { command: "ps" })).status).toBe(200)
      // Probes and scrapes, which come every few seconds, are no traces.
      expect((yield* fetchText(`http://127.0.0.1:${port}/livez`)).status).toBe(200)
      expect((yield* fetchText(`http://127.0.0.1:${port}/metrics`)).status).toBe(200)

      const psOver = (spans: ReadonlyArray<ReceivedSpan>, transport: string) =>
        spans.find((span) => span.name === "orchestrate ps" && span.attributes["transport"] === transport)
      /** The HTTP server's span of each `ps` over HTTP, by its route. */
      const httpParentsOfPs = (spans: ReadonlyArray<ReceivedSpan>) =>
        spans.filter((span) => span.name === "orchestrate ps" && span.attributes["transport"] === "http").flatMap((ps) =>
          spans.filter((span) => span.spanId === ps.parentSpanId)
        )
      const spans = yield* eventually(
        Effect.sync(receiver.spans),
        (spans) =>
          psOver(spans, "zmq") !== undefined && httpParentsOfPs(spans).length === 2 &&
          spans.some((span) => span.name === "Agent.start")
      )
      const overZmq = psOver(spans, "zmq")
      expect(overZmq).toMatchObject({
        kind: 2, // server
        parentSpanId: undefined,
        attributes: { command: "ps", transport: "zmq", code: 200, principal: "(anonymous)" },
        resource: { "service.name": "orchestrate-test", "deployment.environment": "test", team: "a,b" }
      })
      expect(childrenOf(spans, overZmq).map((span) => span.name)).toEqual(expect.arrayContaining([
        "RequestPipeline.identifyCaller",
        "RequestPipeline.authorize",
        "RequestPipeline.execute",
        "RequestPipeline.record",
        "RequestPipeline.reply"
      ]))
      const overHttp = psOver(spans, "http")
      expect(overHttp).toMatchObject({ attributes: { command: "ps", transport: "http", code: 200, principal: "(anonymous)" } })
      // Within the HTTP server's span of the same request: a REST route's, and the command route's.
      expect(httpParentsOfPs(spans).map((span) => [span.kind, span.attributes["http.route"], span.attributes["http.response.status_code"]]).sort())
        .toEqual([[2, "/api/v1/agents", 200], [2, "/api/v1/command", 200]])
      expect(spans.find((span) => span.name === "Agent.start")).toMatchObject({ attributes: { agent: "steady" } })

      // A restart: its stop and its start within it, in the trace of the request that asked for it.
      expect((yield* cli(["restart", "steady", "--address", address])).code).toBe(0)
      const restarted = (spans: ReadonlyArray<ReceivedSpan>) => spans.find((span) => span.name === "Agent.restart")
      const afterRestart = yield* eventually(
        Effect.sync(receiver.spans),
        (spans) => childrenOf(spans, restarted(spans)).length >= 2 && spans.some((span) => span.name === "orchestrate restart")
      )
      const restart = restarted(afterRestart)
      expect(restart).toMatchObject({ attributes: { agent: "steady", reason: "requested" } })
      expect(childrenOf(afterRestart, restart).map((span) => [span.name, span.attributes["agent"]]).sort()).toEqual([
        ["Agent.start", "steady"],
        ["Agent.stop", "steady"]
      ])
      expect(afterRestart.find((span) => span.name === "orchestrate restart")).toMatchObject({
        traceId: restart?.traceId,
        attributes: { command: "restart", code: 200, transport: "zmq" }
      })

      const commands = yield* eventually(
        Effect.sync(() => receiver.points().filter((point) => point.metric === "orchestrate_commands_total")),
        (points) =>
          points.some((point) => point.attributes["command"] === "restart") &&
          points.some((point) => point.attributes["command"] === "ps" && point.attributes["transport"] === "http" && point.value === 2)
      )
      // Both `ps` over HTTP, the REST route's and the command route's: the counter is cumulative.
      expect(commands.filter((point) => point.attributes["command"] === "ps" && point.attributes["transport"] === "http").at(-1)).toMatchObject({
        attributes: { command: "ps", code: "200", transport: "http" },
        value: 2,
        resource: { "service.name": "orchestrate-test" }
      })
      // The agents' metrics too, which `/metrics` sets only when scraped (nothing scrapes it here).
      const agentUp = yield* eventually(
        Effect.sync(() => receiver.points().filter((point) => point.metric === "orchestrate_agent_up")),
        (points) => points.some((point) => point.value === 1)
      )
      expect(agentUp.find((point) => point.value === 1)).toMatchObject({ attributes: { agent: "steady" } })
      const logs = yield* eventually(
        Effect.sync(receiver.logs),
        (logs) => logs.some((log) => log.body?.startsWith("command interface listening on") === true)
      )
      expect(logs.find((log) => log.body?.startsWith("command interface listening on") === true)).toMatchObject({
        severity: "Info",
        body: `command interface listening on ${address} (allowed: all)`,
        resource: { "service.name": "orchestrate-test", team: "a,b" }
      })

      // The last batch goes out as `up` stops: the shutdown's own span among it.
      yield* up.signal("SIGTERM")
      expect((yield* up.exit()).code).toBe(0)
      const all = receiver.spans()
      expect(all.map((span) => span.name)).toContain("Orchestrator.shutdown")
      expect(all.map((span) => span.attributes["url.path"]).filter((path) => path !== undefined).sort()).toEqual(["/api/v1/agents", "/api/v1/command"])

      const requests = receiver.requests()
      expect(new Set(requests.map((request) => request.path))).toEqual(new Set(["/otlp/v1/traces", "/otlp/v1/metrics", "/otlp/v1/logs"]))
      for (const request of requests) {
        expect(request.headers).toMatchObject({ "x-api-key": "secret value", "x-tenant": "a=b", "content-type": "application/json" })
      }
      expect(loaded()).toMatch(EXPORTERS_CHUNK)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("without an endpoint, or with OTEL_SDK_DISABLED=true, exports nothing and never loads the exporters", () =>
    Effect.gen(function*() {
      const receiver = yield* otlpReceiver
      for (const env of [{}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: "true" }]) {
        const { config, loaded, recordLoads } = yield* setup
        const { address, up } = yield* startUp([config, "--quiet"], {
          env: { ...NO_OTEL, ...QUICK_EXPORT, OTEL_SERVICE_NAME: "orchestrate-test", ...env, ...recordLoads }
        })
        expect((yield* cli(["ps", "--address", address])).code).toBe(0)
        yield* up.signal("SIGTERM")
        expect((yield* up.exit()).code).toBe(0)
        // `up` itself was recorded, so the recording works; the exporters' chunk was not among it.
        expect(loaded()).toMatch(/\/dist\/chunks\/runUp-[A-Z0-9]+\.mjs$/m)
        expect(loaded()).not.toMatch(EXPORTERS_CHUNK)
      }
      expect(receiver.requests()).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("a collector that is down is a warning: the orchestrator answers and stops as ever", () =>
    Effect.gen(function*() {
      const { config } = yield* setup
      const closed = yield* freePort
      const { address, up } = yield* startUp([config, "--quiet"], {
        env: { ...NO_OTEL, ...QUICK_EXPORT, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}` }
      })
      const warned = `OpenTelemetry: cannot export traces to http://127.0.0.1:${closed}/v1/traces: connect ECONNREFUSED 127.0.0.1:${closed}`
      expect((yield* cli(["ps", "--address", address])).code).toBe(0)
      expect(yield* eventually(up.stderr, (stderr) => stderr.includes(warned))).toContain(warned)
      expect((yield* cli(["ps", "--address", address])).code).toBe(0)
      yield* up.signal("SIGTERM")
      const ended = yield* up.exit()
      expect(ended.code).toBe(0)
      // Said once while it stays down, not at every export.
      expect(ended.stderr.split(warned).length - 1).toBe(1)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("a malformed variable is a config error naming it, before any agent starts", () =>
    Effect.gen(function*() {
      const { config } = yield* setup
      const refused = yield* cli(["up", config, "--quiet"], {
        env: {
          ...NO_OTEL,
          OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
          OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20secret,api-key",
          OTEL_RESOURCE_ATTRIBUTES: "team=%zz"
        }
      })
      expect(refused.code).toBe(2)
      expect(refused.stderr).toContain([
        "error: invalid config from the environment:",
        `  OTEL_EXPORTER_OTLP_ENDPOINT: expected the collector's OTLP/HTTP URL, such as http://localhost:4318, got "collector:4318"`,
        "  OTEL_EXPORTER_OTLP_HEADERS: entry 2 has no '=': expected key=value pairs separated by commas, such as a=1,b=2",
        "  OTEL_RESOURCE_ATTRIBUTES: entry 1: not percent-encoded correctly (a '%' starts %XX; write ',' as %2C and '=' as %3D)"
      ].join("\n"))
      expect(refused.stderr).not.toContain("secret")
      expect(refused.stderr).not.toContain("AGENT_STARTED")
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
