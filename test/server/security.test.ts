import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Duration, Effect, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"
import { EventStore } from "../../src/events/EventStore.ts"
import { commandNames } from "../../src/protocol/Commands.ts"
import { fingerprint } from "../../src/security/keys.ts"
import type { ClientCredentials } from "../../src/security/RequestSignature.ts"
import type { CommandInterfaceOptions } from "../../src/server/CommandInterfaceConfig.ts"
import { CommandServer } from "../../src/server/CommandServer.ts"
import type { PrincipalSettings } from "../../src/server/Principals.ts"
import { curveFixture, signedFrames } from "../support/curve.ts"
import { gatedControl } from "../support/fixtures.ts"
import { harness, request, sendFrames } from "../support/harness.ts"

const commandEvents = EventStore.use((store) => store.query({ category: "command", limit: 100 })).pipe(
  Effect.map((page) => page.events)
)

const untilInFlight = (server: CommandServer["Service"], count: number) =>
  server.inFlight.pipe(Effect.tap(() => Effect.yieldNow), Effect.repeat({ until: (n) => n === count }))

const restartsIn = (reply: unknown): number => (reply as { data: { restarts: number } }).data.restarts

const restarts = (agent: string) => Effect.map(request({ command: "status", args: [agent] }), restartsIn)

/** Sends a request signed with `credentials` at the (test) clock's time. */
const signed = (credentials: ClientCredentials, body: unknown) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => sendFrames(signedFrames(credentials, body, now)))

/**
 * Runs `test` against the in-memory interface with CURVE on, for principals made from the fixture's key pairs
 * (`role` and `agents` per name).
 */
const withPrincipals = <A, E, R>(
  principals: Record<string, Omit<PrincipalSettings, "name" | "publicKey">>,
  test: (credentials: (name: string) => ClientCredentials) => Effect.Effect<A, E, R>,
  config: CommandInterfaceOptions = {}
) =>
  Effect.gen(function*() {
    const keys = yield* curveFixture(Object.keys(principals))
    const curve = {
      keyFile: keys.serverKeyFile,
      principals: Object.entries(principals).map(([name, settings]) => ({
        name,
        publicKey: keys.clients[name]?.publicKey ?? "",
        ...settings
      }))
    }
    return yield* test(keys.credentials).pipe(Effect.provide(harness({ config: { ...config, curve } })))
  })

describe("callers and their permissions (in memory)", () => {
  it.effect("an interface without CURVE takes every caller for the anonymous one, with the whitelist's permissions", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "whoami" })).toEqual({
        status: "success",
        data: { principal: null, key_fingerprint: null, allowed: ["ps", "status", "stats", "history", "logs", "whoami"], agents: null }
      })
      expect(yield* sendFrames([JSON.stringify({ command: "ps" }), "{}"])).toMatchObject({
        code: 400,
        reason: "MalformedRequest",
        error: "Invalid command format: unexpected authentication frame: this server does not authenticate requests (CURVE is off)"
      })
    }).pipe(Effect.provide(harness({ config: { allowedCommands: "monitoring" } }))))

  it.effect("a principal may run its role's commands, within the whitelist", () =>
    withPrincipals({ ops: { role: "all" }, viewer: { role: ["ps", "shutdown"] } }, (credentials) =>
      Effect.gen(function*() {
        expect(yield* signed(credentials("ops"), { command: "whoami" })).toEqual({
          status: "success",
          data: {
            principal: "ops",
            key_fingerprint: fingerprint(credentials("ops").publicKey),
            allowed: ["ps", "status", "stats", "history", "logs", "whoami"],
            agents: null
          }
        })
        // The viewer's role names shutdown, but the whitelist (monitoring) does not allow it to anyone.
        expect(yield* signed(credentials("viewer"), { command: "shutdown" })).toMatchObject({
          code: 403,
          reason: "NotAllowed",
          error: "Command 'shutdown' not allowed for 'viewer': not among the commands its role allows (the role the server's config gives it)"
        })
        expect(yield* signed(credentials("viewer"), { command: "stats" })).toMatchObject({ code: 403, error: "Command 'stats' not allowed for 'viewer': not among the commands its role allows (the role the server's config gives it)" })
        expect(yield* signed(credentials("viewer"), { command: "ps" })).toMatchObject({ status: "success" })
      }), { allowedCommands: "monitoring" }))

  it.effect("'commands' lists what this caller may run", () =>
    withPrincipals({ ops: { role: "all" }, viewer: { role: "basic" } }, (credentials) =>
      Effect.gen(function*() {
        const allowedFor = (name: string) =>
          Effect.map(signed(credentials(name), { command: "commands" }), (reply) => {
            const { data } = reply as { data: { allowed: ReadonlyArray<string>; known: ReadonlyArray<{ name: string; allowed: boolean }> } }
            expect(data.known.filter((command) => command.allowed).map((command) => command.name)).toEqual(data.allowed)
            return data.allowed
          })
        expect(yield* allowedFor("ops")).toEqual(commandNames)
        // 'commands' itself is outside the basic preset, so the viewer cannot ask.
        expect(yield* signed(credentials("viewer"), { command: "commands" })).toMatchObject({ code: 403 })
      })))

  it.effect("a principal limited to agent patterns may act only on matching agents, and read everything", () =>
    withPrincipals({ apiops: { role: "all", agents: ["ap?", "work*"] } }, (credentials) =>
      Effect.gen(function*() {
        const apiops = credentials("apiops")
        expect(yield* signed(apiops, { command: "restart", args: ["api"] })).toMatchObject({ status: "success" })
        expect(yield* signed(apiops, { command: "resume", args: ["worker"] })).toMatchObject({ status: "success" })
        expect(yield* signed(apiops, { command: "stop", args: ["db"] })).toEqual({
          status: "error",
          code: 403,
          reason: "NotAllowed",
          error: "Command 'stop' not allowed for 'apiops': not on agent 'db': 'apiops' may act only on agents matching ap?, work*"
        })
        expect(yield* signed(apiops, { command: "shutdown" })).toMatchObject({
          code: 403,
          error: "Command 'shutdown' not allowed for 'apiops': it acts on every agent, and 'apiops' may act only on agents matching ap?, work*"
        })
        expect(yield* signed(apiops, { command: "status", args: ["db"] })).toMatchObject({ status: "success" })
        expect(yield* signed(apiops, { command: "whoami" })).toMatchObject({ data: { agents: ["ap?", "work*"] } })
        // A name long enough to make pattern matching expensive is refused before any pattern sees it.
        expect(yield* signed(apiops, { command: "stop", args: ["w".repeat(60_000)] })).toMatchObject({
          code: 400,
          reason: "InvalidArguments",
          error: expect.stringContaining("Invalid arguments for 'stop': args[0]: Expected a value with a length of at most 128")
        })
        const refused = (yield* commandEvents).filter((event) => event.data["code"] === 403)
        expect(refused.map((event) => [event.data["command"], event.data["principal"]])).toEqual([["stop", "apiops"], ["shutdown", "apiops"]])
      })), 10_000)

  it.effect("refuses unsigned, unknown, altered, stale and replayed requests with AuthenticationFailed", () =>
    withPrincipals({ ops: { role: "all" }, gone: { role: "all" } }, (credentials) =>
      Effect.gen(function*() {
        const ops = credentials("ops")
        const body = JSON.stringify({ command: "ps" })
        const refusal = (detail: string) => ({
          status: "error",
          code: 403,
          reason: "AuthenticationFailed",
          error: `Authentication failed: ${detail}`
        })
        expect(yield* sendFrames([body])).toEqual(refusal(
          "the request is not signed; this server requires CURVE credentials (the CLI's --server-key and --client-key)"
        ))
        const now = yield* Clock.currentTimeMillis
        const frames = signedFrames(ops, body, now)
        expect(yield* sendFrames(frames)).toMatchObject({ status: "success" })
        expect(yield* sendFrames(frames)).toEqual(refusal("replayed request: its nonce was already used"))
        const [, auth] = signedFrames(ops, body, now)
        expect(yield* sendFrames([JSON.stringify({ command: "shutdown" }), auth])).toEqual(
          refusal("the signature does not match the request (altered, or signed for another server)")
        )
        expect(yield* sendFrames(signedFrames(ops, body, now - 61_000))).toEqual(
          refusal("its timestamp is 1m 1s from the server's clock, outside the 1m window (a stale or replayed request, or clocks out of sync)")
        )
        const stranger = { ...credentials("gone"), publicKey: credentials("ops").serverPublicKey }
        expect(yield* sendFrames(signedFrames(stranger, body, now))).toEqual(refusal("the request is signed with a key no principal has"))
        expect(yield* sendFrames([body, "{\"key\": 1}"])).toMatchObject({ code: 403, reason: "AuthenticationFailed" })

        const events = yield* commandEvents
        expect(events.map((event) => event.eventName)).toEqual([
          "COMMAND_REJECTED",
          "COMMAND_EXECUTED",
          "COMMAND_REJECTED",
          "COMMAND_REJECTED",
          "COMMAND_REJECTED",
          "COMMAND_REJECTED",
          "COMMAND_REJECTED"
        ])
        expect(events[2]?.data).toMatchObject({
          command: "ps",
          code: 403,
          principal: null,
          key_fingerprint: fingerprint(ops.publicKey),
          error_reason: "AuthenticationFailed"
        })
      })))
})

describe("the authentication frame (in memory)", () => {
  it.effect("refuses a frame with a member the format does not define, as the request envelope does", () =>
    withPrincipals({ ops: { role: "all" } }, (credentials) =>
      Effect.gen(function*() {
        const [body, auth] = signedFrames(credentials("ops"), { command: "ps" }, yield* Clock.currentTimeMillis)
        // Validly signed: the signature covers key, ts, nonce and the body, so an added member would pass unseen.
        const padded = JSON.stringify({ ...JSON.parse(auth), role: "all" })
        expect(yield* sendFrames([body, padded])).toEqual({
          status: "error",
          code: 403,
          reason: "AuthenticationFailed",
          error: "Authentication failed: invalid authentication frame: role: unexpected key"
        })
        expect(yield* sendFrames([body, JSON.stringify({ ...JSON.parse(auth), extra: 1, more: null })])).toMatchObject({
          error: "Authentication failed: invalid authentication frame: extra: unexpected key; more: unexpected key"
        })
        // The same frame without it is accepted: the unknown member was the only problem.
        expect(yield* sendFrames([body, auth])).toMatchObject({ status: "success" })
        const events = yield* commandEvents
        expect(events.map((event) => [event.eventName, event.data["error_reason"]])).toEqual([
          ["COMMAND_REJECTED", "AuthenticationFailed"],
          ["COMMAND_REJECTED", "AuthenticationFailed"],
          ["COMMAND_EXECUTED", undefined]
        ])
      })))
})

describe("retry safety and the audit record (in memory)", () => {
  it.effect("a resent mutating request gets the first reply instead of running twice", () =>
    Effect.gen(function*() {
      const first = yield* request({ command: "restart", args: ["api"], id: "deploy-7" })
      const again = yield* request({ command: "restart", args: ["api"], id: "deploy-7" })
      expect(again).toEqual(first)
      expect(yield* restarts("api")).toBe(1)
      yield* request({ command: "restart", args: ["api"], id: "deploy-8" })
      yield* request({ command: "restart", args: ["api"] })
      expect(yield* restarts("api")).toBe(3)

      const audited = (yield* commandEvents).filter((event) => event.data["command"] === "restart")
      expect(audited.map((event) => event.data["repeated"])).toEqual([undefined, true, undefined, undefined])
      expect(audited[1]?.data).toMatchObject({ code: 200, request_id: "deploy-7" })
    }).pipe(Effect.provide(harness())))

  it.effect("a resend that arrives while the first still runs waits for its answer, and the command runs once", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      yield* Effect.gen(function*() {
        const server = yield* CommandServer
        const body = { command: "stop", args: ["db"], id: "slow-1" }
        const first = yield* Effect.forkChild(request(body))
        yield* untilInFlight(server, 1)
        const resend = yield* Effect.forkChild(request(body))
        yield* untilInFlight(server, 2)
        yield* Effect.yieldNow.pipe(Effect.repeat({ times: 20 }))
        // Both wait on the one run, which waits on the gate.
        expect(first.pollUnsafe()).toBeUndefined()
        expect(resend.pollUnsafe()).toBeUndefined()
        expect(yield* Ref.get(log)).toEqual(["stop db"])

        yield* Deferred.succeed(gate, undefined)
        const answer = yield* Fiber.join(first)
        expect(answer).toEqual({
          status: "success",
          data: { message: "Agent 'db' stop done", agent: expect.objectContaining({ agent_name: "db", state: "stopped" }) },
          id: "slow-1"
        })
        expect(yield* Fiber.join(resend)).toEqual(answer)
        expect(yield* Ref.get(log)).toEqual(["stop db"])

        const audited = (yield* commandEvents).filter((event) => event.data["command"] === "stop")
        // One record per request, the resend's marked as repeated (in whichever order they finished).
        expect(audited.map((event) => [event.data["code"], event.data["request_id"], event.data["repeated"] ?? false]).sort()).toEqual([
          [200, "slow-1", false],
          [200, "slow-1", true]
        ])
        // Opened whatever happens, so that a failing check does not leave the server waiting on it as it stops.
      }).pipe(Effect.ensuring(Deferred.succeed(gate, undefined)), Effect.provide(harness({ control: gatedControl(gate, log) })))
    }))

  it.effect("forgets an id after its TTL, and tells requests with the same id apart by command and arguments", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "restart", args: ["ghost"], id: "r" })).toMatchObject({ code: 500 })
      yield* request({ command: "restart", args: ["api"], id: "r" })
      expect(yield* restarts("api")).toBe(1)
      yield* request({ command: "restart", args: ["api"], id: "r" })
      expect(yield* restarts("api")).toBe(1)
      yield* TestClock.adjust("59 seconds")
      yield* request({ command: "restart", args: ["api"], id: "r" })
      expect(yield* restarts("api")).toBe(1)
      yield* TestClock.adjust("2 seconds")
      yield* request({ command: "restart", args: ["api"], id: "r" })
      expect(yield* restarts("api")).toBe(2)
    }).pipe(Effect.provide(harness({ config: { idempotencyTtl: Duration.seconds(60) } }))))

  it.effect("keeps ids apart per principal", () =>
    withPrincipals({ alice: { role: "all" }, bob: { role: "all" } }, (credentials) =>
      Effect.gen(function*() {
        const body = { command: "restart", args: ["api"], id: "same" }
        const status = { command: "status", args: ["api"] }
        yield* signed(credentials("alice"), body)
        yield* signed(credentials("alice"), body)
        expect(restartsIn(yield* signed(credentials("alice"), status))).toBe(1)
        yield* signed(credentials("bob"), body)
        expect(restartsIn(yield* signed(credentials("bob"), status))).toBe(2)
      })))

  it.effect("stores the operator's reason and redacts secret-named values, even in malformed requests", () =>
    Effect.gen(function*() {
      yield* request({ command: "stop", args: ["api"], reason: "INC-42: memory leak" })
      const invalid = yield* request({ command: "start", args: [{ name: "api", password: "hunter2", nested: { apiKey: "k-1" } }] })
      expect(invalid).toMatchObject({
        code: 400,
        error: "Invalid arguments for 'start': args[0]: Expected string, got {\"name\":\"api\",\"password\":\"[redacted]\",\"nested\":{\"apiKey\":\"[redacted]\"}}"
      })
      yield* sendFrames(["{\"command\": \"start\", \"args\": [{\"token\": \"s3cr3t\", \"user\": \"bob\""])
      expect(yield* request({ command: "stop", args: ["api"], reason: "" })).toMatchObject({ code: 400 })
      expect(yield* request({ command: "stop", args: ["api"], reason: "x".repeat(501) })).toMatchObject({ code: 400 })

      expect(yield* request({ command: "ps", token: 12345 })).toMatchObject({ code: 400, error: "Invalid command format: token: unexpected key" })
      expect(yield* request({ command: "start", args: [{ password: 12345 }] })).toMatchObject({ code: 400, error: expect.not.stringContaining("12345") })

      const [stopped, started, malformed] = yield* commandEvents
      expect(stopped?.data).toMatchObject({ command: "stop", code: 200, reason: "INC-42: memory leak" })
      expect(started?.data["args"]).toEqual([{ name: "api", password: "[redacted]", nested: { apiKey: "[redacted]" } }])
      expect(malformed?.data["received"]).toBe("{\"command\": \"start\", \"args\": [{\"token\": \"[redacted]\", \"user\": \"bob\"")
      expect(JSON.stringify(yield* commandEvents)).not.toMatch(/hunter2|k-1|s3cr3t|12345/)
    }).pipe(Effect.provide(harness())))
})
