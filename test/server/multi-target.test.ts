import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, Ref } from "effect"
import { StartFailed } from "../../src/ports/errors.ts"
import { OrchestratorControl } from "../../src/ports/OrchestratorControl.ts"
import type { PrincipalSettings } from "../../src/server/Principals.ts"
import type { ClientCredentials } from "../../src/security/RequestSignature.ts"
import { curveFixture, signedFrames } from "../support/curve.ts"
import { agentStatus } from "../support/fixtures.ts"
import { harness, request, sendFrames } from "../support/harness.ts"

const results = (reply: unknown) => (reply as { data: { results: ReadonlyArray<Record<string, unknown>> } }).data.results
const outcomes = (reply: unknown) => results(reply).map((result) => [result["agent"], result["outcome"]])

const signed = (credentials: ClientCredentials, body: unknown) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => sendFrames(signedFrames(credentials, body, now)))

const withPrincipal = <A, E, R>(
  settings: Omit<PrincipalSettings, "name" | "publicKey">,
  test: (credentials: ClientCredentials) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const keys = yield* curveFixture(["ops"])
    const curve = { keyFile: keys.serverKeyFile, principals: [{ name: "ops", publicKey: keys.clients["ops"]?.publicKey ?? "", ...settings }] }
    return yield* test(keys.credentials("ops")).pipe(Effect.provide(harness({ config: { curve } })))
  })

/** A control port that records each call, and fails to start `api`. */
const failingControl = (log: Ref.Ref<ReadonlyArray<string>>) =>
  Layer.succeed(OrchestratorControl, {
    control: (action, agent) =>
      Effect.gen(function*() {
        yield* Ref.update(log, (entries) => [...entries, `${action} ${agent}`])
        if (action === "start" && agent === "api") return yield* new StartFailed({ agent, lastError: "exec: api: not found" })
        return { message: `Agent '${agent}' ${action} done`, agent: agentStatus({ agentName: agent, state: "running" }), already: false }
      }),
    requestShutdown: Effect.void
  })

describe("control commands with several targets", () => {
  it.effect("one name keeps the single-agent reply; `all` runs stop dependents first, start dependencies first", () =>
    Effect.gen(function*() {
      const single = yield* request({ command: "stop", args: ["api"] })
      expect(single).toMatchObject({ status: "success", data: { message: "Agent 'api' stopped", agent: { agent_name: "api", state: "stopped" } } })
      expect(single).not.toHaveProperty(["data", "results"])

      const stopped = yield* request({ command: "stop", args: ["all"] })
      expect(stopped).toMatchObject({ status: "success" })
      expect(outcomes(stopped)).toEqual([["migrate", "already"], ["worker", "done"], ["api", "already"], ["db", "done"]])
      expect(results(stopped)[1]).toEqual({ agent: "worker", outcome: "done", message: "Agent 'worker' stopped" })

      const started = yield* request({ command: "start", args: ["api", "db"] })
      expect(outcomes(started)).toEqual([["db", "done"], ["api", "done"]])
    }).pipe(Effect.provide(harness())))

  it.effect("patterns expand to every matching agent once; a refusal by state is an outcome, not a failure", () =>
    Effect.gen(function*() {
      const paused = yield* request({ command: "pause", args: ["*", "db"] })
      expect(paused).toMatchObject({ status: "success" })
      expect(outcomes(paused)).toEqual([["migrate", "refused"], ["worker", "already"], ["api", "done"], ["db", "done"]])
      expect(results(paused)[0]).toEqual({
        agent: "migrate",
        outcome: "refused",
        message: "cannot pause agent 'migrate': it is completed",
        reason: "InvalidTransition"
      })
      // A one-target pattern still answers with the list.
      expect(outcomes(yield* request({ command: "resume", args: ["a?i"] }))).toEqual([["api", "done"]])
    }).pipe(Effect.provide(harness())))

  it.effect("restart stops in reverse dependency order, then starts in order", () =>
    Effect.gen(function*() {
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const reply = yield* request({ command: "restart", args: ["worker", "db", "migrate"] }).pipe(
        Effect.provide(harness({ control: failingControl(log) }))
      )
      expect(outcomes(reply)).toEqual([["db", "done"], ["worker", "done"], ["migrate", "done"]])
      expect(yield* Ref.get(log)).toEqual(["stop migrate", "stop worker", "stop db", "restart db", "restart worker", "restart migrate"])
    }))

  it.effect("a restart of several counts one restart each and says so, as a restart of one does", () =>
    Effect.gen(function*() {
      const reply = yield* request({ command: "restart", args: ["db", "api"] })
      expect(reply).toMatchObject({
        status: "success",
        data: {
          results: [
            { agent: "db", outcome: "done", message: "Agent 'db' restarted" },
            { agent: "api", outcome: "done", message: "Agent 'api' restarted" }
          ]
        }
      })
      expect(yield* request({ command: "status", args: ["db"] })).toMatchObject({ data: { state: "running", restarts: 1 } })
      expect(yield* request({ command: "status", args: ["api"] })).toMatchObject({ data: { state: "running", restarts: 1 } })
    }).pipe(Effect.provide(harness())))

  it.effect("fails with 500 only if an agent failed, saying which, after trying every one", () =>
    Effect.gen(function*() {
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const reply = yield* request({ command: "start", args: ["all"] }).pipe(Effect.provide(harness({ control: failingControl(log) })))
      expect(reply).toEqual({
        status: "error",
        code: 500,
        reason: "ExecutionFailed",
        error: "Failed to execute command: start: 1 of 4 agents failed (api)\n" +
          "db: done: Agent 'db' start done\n" +
          "api: failed: agent 'api' failed to start: exec: api: not found\n" +
          "worker: done: Agent 'worker' start done\n" +
          "migrate: done: Agent 'migrate' start done"
      })
      expect(yield* Ref.get(log)).toEqual(["start db", "start api", "start worker", "start migrate"])
    }))

  it.effect("a name or pattern that matches no agent is AgentNotFound, and nothing runs", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "stop", args: ["db", "web-*"] })).toEqual({
        status: "error",
        code: 500,
        reason: "AgentNotFound",
        error: "Failed to execute command: no agent matches 'web-*'"
      })
      expect(yield* request({ command: "stop", args: ["api", "ghost"] })).toMatchObject({ code: 500, reason: "AgentNotFound" })
      expect(yield* request({ command: "status", args: ["db"] })).toMatchObject({ data: { state: "running" } })
      expect(yield* request({ command: "status", args: ["api"] })).toMatchObject({ data: { state: "running" } })
      expect(yield* request({ command: "stop", args: [] })).toMatchObject({ code: 400, reason: "InvalidArguments" })
    }).pipe(Effect.provide(harness())))

  it.effect("a principal's agent patterns apply to every target, names and expanded patterns alike", () =>
    withPrincipal({ role: "all", agents: ["ap?", "work*"] }, (ops) =>
      Effect.gen(function*() {
        expect(outcomes(yield* signed(ops, { command: "stop", args: ["api", "worker"] }))).toEqual([["worker", "done"], ["api", "done"]])
        expect(yield* signed(ops, { command: "start", args: ["api", "db"] })).toEqual({
          status: "error",
          code: 403,
          reason: "NotAllowed",
          error: "Command 'start' not allowed for 'ops': not on agent 'db': 'ops' may act only on agents matching ap?, work*"
        })
        expect(yield* signed(ops, { command: "start", args: ["all"] })).toMatchObject({
          code: 403,
          reason: "NotAllowed",
          error: expect.stringContaining("not on agent 'db'")
        })
        expect(yield* signed(ops, { command: "start", args: ["*"] })).toMatchObject({ code: 403 })
        // Nothing started: the refusal comes before any agent is acted on.
        expect(yield* signed(ops, { command: "status", args: ["api"] })).toMatchObject({ data: { state: "stopped" } })
        expect(outcomes(yield* signed(ops, { command: "start", args: ["a*", "w*"] }))).toEqual([["api", "done"], ["worker", "done"]])
      })), 10_000)
})
