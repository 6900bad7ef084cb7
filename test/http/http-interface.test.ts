/**
 * The HTTP interface over real sockets (Node's fetch, node:http for headers fetch will not send), in front of the
 * in-memory orchestrator: statuses that match the envelope's code, the same refusals as ZeroMQ, bearer tokens,
 * cross-site refusals, size limits, idempotent resends, probes, the OpenAPI document and its page, and the audit
 * record each request leaves.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Http from "node:http"
import { tokenSha256 } from "../../src/security/tokens.ts"
import { bearer, fetchText, postJson, type Stack, startStack } from "../support/http.ts"

/** A request with exactly the headers given (fetch sets Host and Origin itself, or refuses to). */
const rawRequest = (url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  Effect.callback<{ status: number; body: string }>((resume) => {
    const request = Http.request(url, { method: options.method ?? "GET", headers: options.headers ?? {} }, (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body })))
    })
    request.on("error", (error) => resume(Effect.die(error)))
    request.end(options.body)
  })

const commandRecords = (stack: Stack) =>
  Effect.map(stack.events.query({ category: "command", limit: 1000 }), (page) => page.events)

const lastRecord = (stack: Stack) => Effect.map(commandRecords(stack), (events) => events.at(-1))

describe("HTTP interface, anonymous on loopback", () => {
  it.live("POST /api/v1/command answers with the ZeroMQ envelope, its code as the status", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      const command = `${url}/api/v1/command`

      const ps = yield* postJson(command, { command: "ps" })
      expect(ps.status).toBe(200)
      expect(ps.headers.get("content-type")).toBe("application/json")
      expect(ps.headers.get("cache-control")).toBe("no-store")
      expect(ps.json).toMatchObject({ status: "success", data: { agents: [{ name: "db" }, { name: "api" }, { name: "worker" }, { name: "migrate" }] } })

      // The envelope says 500, as on ZeroMQ; the HTTP status says whose mistake it was.
      expect(yield* postJson(command, { command: "status", args: ["ghost"], id: "q-1" })).toMatchObject({
        status: 404,
        json: { status: "error", code: 500, reason: "AgentNotFound", error: "Failed to execute command: agent not found: 'ghost'", id: "q-1" }
      })
      expect(yield* postJson(command, { command: "frobnicate" })).toMatchObject({
        status: 400,
        json: { status: "error", code: 400, reason: "UnknownCommand", error: "Unknown command 'frobnicate'" }
      })
      expect(yield* postJson(command, { command: "status", args: [7] })).toMatchObject({
        status: 400,
        json: { code: 400, reason: "InvalidArguments", error: "Invalid arguments for 'status': args[0]: Expected string, got 7" }
      })
      const malformed = yield* postJson(command, "{garbage")
      expect(malformed.status).toBe(400)
      expect(malformed.json).toMatchObject({ code: 400, reason: "MalformedRequest" })
      expect((malformed.json as { error: string }).error).toMatch(/^Invalid command format: not valid JSON \(/)
      expect(yield* postJson(command, { command: "ps", extra: 1 })).toMatchObject({
        status: 400,
        json: { reason: "MalformedRequest", error: "Invalid command format: extra: unexpected key" }
      })
    }))

  it.live("a token sent to a server without tokens is refused: it has none to match", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      expect(yield* fetchText(`${url}/api/v1/agents`, { headers: bearer("orch_from-another-server") })).toMatchObject({
        status: 401,
        json: {
          reason: "AuthenticationFailed",
          error: "Authentication failed: the bearer token is none of this server's: it has no tokens (http.tokens), so send no Authorization header"
        }
      })
    }))

  it.live("refuses what the whitelist does not allow with 403, as ZeroMQ does", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack({ config: { allowedCommands: "monitoring" } })
      expect(yield* postJson(`${url}/api/v1/shutdown`, {})).toMatchObject({
        status: 403,
        json: { status: "error", code: 403, reason: "NotAllowed", error: "Command 'shutdown' not allowed: not among the commands this server allows (see the 'whoami' command)" }
      })
      expect(yield* postJson(`${url}/api/v1/agents/db/stop`, { reason: "try" })).toMatchObject({ status: 403, json: { reason: "NotAllowed" } })
      expect((yield* fetchText(`${url}/api/v1/stats`)).status).toBe(200)
    }))

  it.live("REST resources are the commands: path, query and body make the envelope", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const { url } = stack
      expect(yield* fetchText(`${url}/api/v1/agents/api`)).toMatchObject({
        status: 200,
        json: { status: "success", data: { agent_name: "api", state: "running", dependencies: ["db"] } }
      })
      // A name longer than any agent's is the pipeline's to refuse, not the router's "no route".
      expect(yield* fetchText(`${url}/api/v1/agents/${"a".repeat(200)}`)).toMatchObject({ status: 400, json: { reason: "InvalidArguments" } })
      expect((yield* fetchText(`${url}/api/v1/status`)).json).toMatchObject({ data: { state: "running", counts: { total: 4 } } })
      expect((yield* fetchText(`${url}/api/v1/stats`)).json).toMatchObject({ data: { total_agents: 4, paused: 1 } })
      expect((yield* fetchText(`${url}/api/v1/dependencies`)).json).toMatchObject({ data: { start_order: ["db", "api", "worker", "migrate"] } })
      expect((yield* fetchText(`${url}/api/v1/whoami`)).json).toMatchObject({ data: { principal: null, agents: null } })

      const history = yield* fetchText(`${url}/api/v1/history?limit=2&category=command`)
      expect(history.json).toMatchObject({ data: { limit: 2, count: 2 } })
      expect((yield* fetchText(`${url}/api/v1/history?categories=agent&categories=orchestrator&limit=1`)).status).toBe(200)
      expect(yield* fetchText(`${url}/api/v1/history?limit=ten`)).toMatchObject({
        status: 400,
        json: { reason: "InvalidArguments", error: `Invalid arguments for 'history': args[0].limit: Expected number, got "ten"` }
      })
      expect(yield* fetchText(`${url}/api/v1/history?limitt=3`)).toMatchObject({
        status: 400,
        json: { reason: "InvalidArguments", error: "Invalid arguments for 'history': args[0].limitt: unexpected key" }
      })
      // A parameter named like the prototype is a key like any other, not dropped on the way.
      expect(yield* fetchText(`${url}/api/v1/history?__proto__=x`)).toMatchObject({
        status: 400,
        json: { reason: "InvalidArguments", error: "Invalid arguments for 'history': args[0].__proto__: unexpected key" }
      })
      // A parameter given twice where one value is declared is refused by HttpApi itself, in the same shape.
      const twice = yield* fetchText(`${url}/api/v1/history?limit=1&limit=2`)
      expect(twice).toMatchObject({ status: 400, json: { status: "error", code: 400, reason: "MalformedRequest" } })
      expect((twice.json as { error: string }).error).toMatch(/^Query: /)
      expect(yield* fetchText(`${url}/api/v1/logs?agents=ghost`)).toMatchObject({
        status: 404,
        json: { code: 500, reason: "AgentNotFound", error: "Failed to execute command: agent not found: 'ghost'" }
      })
      expect(yield* fetchText(`${url}/api/v1/history?agent=ghost`)).toMatchObject({ status: 404, json: { reason: "AgentNotFound" } })
      expect(yield* fetchText(`${url}/api/v1/events?agent=ghost`)).toMatchObject({ status: 404, json: { reason: "AgentNotFound" } })
      expect(yield* fetchText(`${url}/api/v1/stats?verbose=1`)).toMatchObject({
        status: 400,
        json: { status: "error", code: 400, reason: "MalformedRequest", error: "GET /api/v1/stats takes no query parameters, got verbose" }
      })

      const resumed = yield* postJson(`${url}/api/v1/agents/worker/resume`, { reason: "maintenance over" })
      expect(resumed).toMatchObject({ status: 200, json: { data: { message: "Agent 'worker' resumed", agent: { state: "running" } } } })
      expect((yield* lastRecord(stack))?.data).toMatchObject({ command: "resume", args: ["worker"], reason: "maintenance over", code: 200 })
      expect(yield* postJson(`${url}/api/v1/agents/ghost/stop`, {})).toMatchObject({ status: 404, json: { code: 500, reason: "AgentNotFound" } })
      expect(yield* postJson(`${url}/api/v1/reload`, { dry_run: true })).toMatchObject({ status: 500, json: { reason: "ReloadFailed" } })
      expect(yield* postJson(`${url}/api/v1/agents/db/stop`, { command: "shutdown" })).toMatchObject({
        status: 400,
        json: { reason: "MalformedRequest", error: "'command' and 'args' come from the path here; POST a whole envelope to /api/v1/command" }
      })
      expect(yield* postJson(`${url}/api/v1/agents/db/stop`, "[1]")).toMatchObject({ status: 400, json: { reason: "MalformedRequest" } })
      expect(yield* postJson(`${url}/api/v1/agents/db/stop`, { reasn: "typo" })).toMatchObject({
        status: 400,
        json: { reason: "MalformedRequest", error: "Invalid command format: reasn: unexpected key" }
      })
      expect((yield* fetchText(`${url}/api/v1/agents/db`)).json).toMatchObject({ data: { state: "running" } })
    }))

  it.live("a resent mutating request with the same id gets the first answer, and runs once", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const resume = `${stack.url}/api/v1/agents/worker/resume`
      const first = yield* postJson(resume, { id: "deploy-42" })
      const again = yield* postJson(resume, { id: "deploy-42" })
      expect(first.json).toMatchObject({ data: { message: "Agent 'worker' resumed" }, id: "deploy-42" })
      expect(again.text).toBe(first.text)
      // Without the id, it runs again, and finds the agent running.
      expect((yield* postJson(resume, {})).json).toMatchObject({ data: { message: "Agent 'worker' is already running" } })
      const records = (yield* commandRecords(stack)).map((event) => event.data)
      expect(records.map((data) => data["repeated"])).toEqual([undefined, true, undefined])
    }))

  it.live("bounds requests: over maxRequestBytes as the pipeline says, far over it without reading", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack({ config: { maxRequestBytes: 1024 } })
      const padded = JSON.stringify({ command: "ps", reason: "x".repeat(1100) })
      expect(yield* postJson(`${url}/api/v1/command`, padded)).toMatchObject({
        status: 400,
        json: { reason: "RequestTooLarge", error: `Request too large: ${padded.length} bytes exceeds the limit of 1024 bytes` }
      })
      // Past the frame limit (1 MiB here) the body is not read at all.
      const huge = yield* postJson(`${url}/api/v1/command`, JSON.stringify({ command: "ps", reason: "x".repeat(2 * 1024 * 1024) }))
      expect(huge.status).toBe(413)
      expect(huge.json).toMatchObject({ status: "error", code: 413, reason: "RequestTooLarge" })
      // Nor when it comes in chunks with no length given: reading stops at the limit.
      const chunked = yield* fetchText(`${url}/api/v1/command`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode("x".repeat(64 * 1024)))
            controller.close()
          }
        }),
        duplex: "half"
      } as RequestInit)
      expect(chunked).toMatchObject({ status: 413, json: { reason: "RequestTooLarge" } })
      expect((yield* postJson(`${url}/api/v1/command`, { command: "ps" })).status).toBe(200)
    }))

  it.live("refuses cross-site requests, and forms, before anything runs or is recorded", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const { url } = stack
      const before = (yield* commandRecords(stack)).length
      // A form on another site can post text/plain or a urlencoded body, never application/json.
      expect(yield* fetchText(`${url}/api/v1/agents/db/stop`, { method: "POST", body: "{}", headers: { "content-type": "text/plain" } })).toMatchObject({
        status: 415,
        json: { code: 415, reason: "UnsupportedMediaType", error: "POST /api/v1/agents/db/stop needs Content-Type: application/json, got text/plain" }
      })
      expect(yield* postJson(`${url}/api/v1/agents/db/stop`, {}, { origin: "https://evil.example" })).toMatchObject({
        status: 403,
        json: {
          code: 403,
          reason: "NotAllowed",
          error: `Cross-site request refused: its Origin https://evil.example is not this server (${url})`
        }
      })
      // A page that rebinds its own name to 127.0.0.1 sends its own Host, and the right Origin for it.
      const port = new URL(url).port
      const rebound = yield* rawRequest(`${url}/api/v1/agents`, { headers: { host: `evil.example:${port}`, origin: `http://evil.example:${port}` } })
      expect(rebound.status).toBe(403)
      expect(JSON.parse(rebound.body)).toMatchObject({ reason: "NotAllowed", error: expect.stringContaining(`it is addressed to evil.example:${port}`) })
      expect((yield* fetchText(`${url}/api/v1/agents/db`)).json).toMatchObject({ data: { state: "running" } })
      expect((yield* commandRecords(stack)).length).toBe(before + 1)
      // The server's own origin (a page it serves, such as /api/docs) is fine.
      expect((yield* postJson(`${url}/api/v1/command`, { command: "ps" }, { origin: url })).status).toBe(200)
      expect((yield* rawRequest(`${url}/api/v1/agents`, { headers: { host: `localhost:${port}` } })).status).toBe(200)
    }))

  it.live("unknown routes are 404 in the envelope's shape", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      expect(yield* fetchText(`${url}/api/v1/nope?x=1`)).toMatchObject({
        status: 404,
        json: {
          status: "error",
          code: 404,
          reason: "NotFound",
          error: "No route for GET /api/v1/nope; the routes are described at /api/v1/openapi.json and /api/docs"
        }
      })
      expect((yield* fetchText(`${url}/api/v1/command`)).status).toBe(404)
      expect((yield* fetchText(`${url}/api/v1/agents`, { method: "DELETE" })).status).toBe(404)
    }))

  it.live("records one audit record per request, naming the transport and the peer", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      yield* postJson(`${stack.url}/api/v1/command`, { command: "status", args: ["db"], id: "a-1" })
      yield* postJson(`${stack.url}/api/v1/command`, "{nope")
      const [executed, malformed] = yield* commandRecords(stack)
      expect(executed?.eventName).toBe("COMMAND_EXECUTED")
      expect(executed?.data).toEqual({
        command: "status",
        args: ["db"],
        code: 200,
        duration_ms: expect.any(Number),
        principal: null,
        request_id: "a-1",
        transport: "http",
        peer_address: "127.0.0.1"
      })
      expect(malformed?.data).toMatchObject({ command: null, code: 400, error_reason: "MalformedRequest", received: "{nope", transport: "http" })
    }))
})

describe("HTTP interface with tokens", () => {
  const tokens = { ops: "orch_ops-token", viewer: "orch_viewer-token", deployer: "orch_deployer-token" }
  const withTokens = (agents?: Parameters<typeof startStack>[0]) =>
    startStack({
      ...agents,
      http: {
        tokens: [
          { name: "ops", tokenSha256: tokenSha256(tokens.ops), role: "all" },
          { name: "viewer", tokenSha256: tokenSha256(tokens.viewer), role: "monitoring" },
          { name: "deployer", tokenSha256: tokenSha256(tokens.deployer), role: ["restart", "status"], agents: ["web-*"] }
        ]
      }
    })

  it.live("needs a bearer token: 401 without one, or with one it does not know", () =>
    Effect.gen(function*() {
      const stack = yield* withTokens()
      const agents = `${stack.url}/api/v1/agents`
      const missing = yield* fetchText(agents)
      expect(missing.status).toBe(401)
      expect(missing.headers.get("www-authenticate")).toBe(`Bearer realm="orchestrate"`)
      expect(missing.json).toEqual({
        status: "error",
        code: 403,
        reason: "AuthenticationFailed",
        error: "Authentication failed: no bearer token: this server requires 'Authorization: Bearer <token>' (orchestrate token create makes one)"
      })
      expect(yield* fetchText(agents, { headers: bearer("orch_guess") })).toMatchObject({
        status: 401,
        json: { reason: "AuthenticationFailed", error: "Authentication failed: the bearer token is none of this server's tokens" }
      })
      // Credentials a browser adds by itself are worth nothing.
      expect((yield* fetchText(agents, { headers: { cookie: `token=${tokens.ops}` } })).status).toBe(401)
      expect((yield* fetchText(agents, { headers: { authorization: `Basic ${btoa(`ops:${tokens.ops}`)}` } })).status).toBe(401)
      expect((yield* fetchText(agents, { headers: bearer(tokens.viewer) })).status).toBe(200)
      const [refused] = yield* commandRecords(stack)
      expect(refused?.eventName).toBe("COMMAND_REJECTED")
      expect(refused?.data).toMatchObject({ command: "ps", code: 403, principal: null, error_reason: "AuthenticationFailed", transport: "http" })
    }))

  it.live("a token's role and agent patterns mean what a CURVE principal's do", () =>
    Effect.gen(function*() {
      const stack = yield* withTokens()
      const { url } = stack
      expect(yield* postJson(`${url}/api/v1/agents/db/stop`, {}, bearer(tokens.viewer))).toMatchObject({
        status: 403,
        json: { reason: "NotAllowed", error: "Command 'stop' not allowed for 'viewer': not among the commands its role allows (see the 'whoami' command)" }
      })
      expect((yield* fetchText(`${url}/api/v1/whoami`, { headers: bearer(tokens.viewer) })).json).toMatchObject({
        data: { principal: "viewer", key_fingerprint: null, allowed: ["ps", "status", "stats", "history", "logs", "whoami"], agents: null }
      })
      expect(yield* postJson(`${url}/api/v1/agents/db/restart`, {}, bearer(tokens.deployer))).toMatchObject({
        status: 403,
        json: { error: "Command 'restart' not allowed for 'deployer': not on agent 'db': 'deployer' may act only on agents matching web-*" }
      })
      expect(yield* postJson(`${url}/api/v1/agents/worker/resume`, {}, bearer(tokens.ops))).toMatchObject({ status: 200 })
      expect((yield* lastRecord(stack))?.data).toMatchObject({ command: "resume", principal: "ops", transport: "http", peer_address: "127.0.0.1" })
    }))

  it.live("with tokens, the Host is not checked: a rebinding page has no token", () =>
    Effect.gen(function*() {
      const { url } = yield* withTokens()
      const port = new URL(url).port
      const proxied = yield* rawRequest(`${url}/api/v1/agents`, { headers: { host: `orchestrate.internal:${port}`, ...bearer(tokens.viewer) } })
      expect(proxied.status).toBe(200)
    }))

  it.live("/readyz names unready agents only to a caller presenting a token", () =>
    Effect.gen(function*() {
      const { url } = yield* withTokens()
      expect(yield* fetchText(`${url}/readyz`)).toMatchObject({ status: 503, json: { status: "not ready" } })
      expect((yield* fetchText(`${url}/readyz`)).json).not.toHaveProperty("agents")
      expect(yield* fetchText(`${url}/readyz`, { headers: bearer("orch_guess") })).toMatchObject({ json: { status: "not ready" } })
      expect(yield* fetchText(`${url}/readyz`, { headers: bearer(tokens.viewer) })).toMatchObject({
        status: 503,
        json: { status: "not ready", agents: [{ name: "worker", state: "paused", health: null }] }
      })
      expect(yield* fetchText(`${url}/livez`)).toMatchObject({ status: 200, json: { status: "live" } })
    }))
})

describe("probes", () => {
  it.live("/livez is 200 while the orchestrator answers; /readyz 200 once every agent is ready, 503 naming those that are not", () =>
    Effect.gen(function*() {
      const ready = yield* startStack({ agents: [{ name: "db", state: "running" }, { name: "migrate", state: "completed" }] })
      expect(yield* fetchText(`${ready.url}/livez`)).toMatchObject({ status: 200, json: { status: "live" } })
      expect(yield* fetchText(`${ready.url}/readyz`)).toMatchObject({ status: 200, json: { status: "ready" } })

      const notReady = yield* startStack({
        agents: [{ name: "db", state: "running" }, { name: "api", state: "starting" }, { name: "job", state: "failed" }]
      })
      const answer = yield* fetchText(`${notReady.url}/readyz`)
      expect(answer.status).toBe(503)
      expect(answer.json).toEqual({
        status: "not ready",
        agents: [{ name: "api", state: "starting", health: null }, { name: "job", state: "failed", health: null }]
      })
      // Probes are not commands: nothing is recorded for them.
      expect((yield* commandRecords(notReady)).length).toBe(0)
    }))
})

describe("the API's description", () => {
  it.live("/api/v1/openapi.json describes every route with the command catalogue's schemas", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      const document = yield* fetchText(`${url}/api/v1/openapi.json`)
      expect(document.status).toBe(200)
      const spec = document.json as {
        openapi: string
        paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>>
        components: { securitySchemes: Record<string, unknown> }
      }
      expect(spec.openapi).toBe("3.1.0")
      expect(Object.keys(spec.paths).sort()).toEqual([
        "/api/v1/agents",
        "/api/v1/agents/{name}",
        "/api/v1/agents/{name}/pause",
        "/api/v1/agents/{name}/restart",
        "/api/v1/agents/{name}/resume",
        "/api/v1/agents/{name}/start",
        "/api/v1/agents/{name}/stop",
        "/api/v1/command",
        "/api/v1/commands",
        "/api/v1/dependencies",
        "/api/v1/events",
        "/api/v1/history",
        "/api/v1/logs",
        "/api/v1/reload",
        "/api/v1/shutdown",
        "/api/v1/stats",
        "/api/v1/status",
        "/api/v1/whoami",
        "/livez",
        "/readyz"
      ])
      expect(spec.components.securitySchemes).toMatchObject({ bearer: { type: "http", scheme: "Bearer" } })
      // A bearer token, or none (without tokens, on loopback); the probes never need one.
      const security = (path: string, method: string) => (spec.paths[path]?.[method] as { security?: unknown } | undefined)?.security
      expect(security("/api/v1/stats", "get")).toEqual([{ bearer: [] }, {}])
      expect(security("/readyz", "get")).toEqual([])
      const stats = spec.paths["/api/v1/stats"]?.["get"]?.responses
      expect(Object.keys(stats ?? {}).sort()).toEqual(["200", "400", "401", "403", "404", "500"])
      expect(stats?.["200"]?.content["application/json"]?.schema).toMatchObject({
        properties: { status: { enum: ["success"] }, data: { properties: { total_agents: { type: "integer" }, events_capacity: {} } } }
      })
      expect(Object.keys(spec.paths["/api/v1/agents/{name}/stop"]?.["post"]?.responses ?? {}).sort())
        .toEqual(["200", "400", "401", "403", "404", "413", "415", "500"])
      expect(Object.keys(spec.paths["/api/v1/events"]?.["get"]?.responses?.["200"]?.content ?? {})).toEqual(["text/event-stream"])
    }))

  it.live("/api/docs is a page that works offline: everything it loads is in it", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      const page = yield* fetchText(`${url}/api/docs`)
      expect(page.status).toBe(200)
      expect(page.headers.get("content-type")).toMatch(/^text\/html/)
      expect(page.text).toContain("SwaggerUIBundle")
      expect(page.text).toContain(`"/api/v1/agents/{name}/restart"`)
      expect(page.text).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?(https?:)?\/\//i)
    }))
})
