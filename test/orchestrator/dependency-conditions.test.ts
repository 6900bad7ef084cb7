/**
 * Dependency conditions (`started`, `ready`, `completed`, `completed_successfully`) and `restart: true`, with real
 * process agents, waiting on observable state.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import * as Path from "node:path"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { tempDir } from "../support/files.ts"
import { awaitState, awaitStatus, eventsOf, nodeAgent, orchestratorLayer, statusOf } from "../support/orchestrator.ts"

const every = { every: "10 millis" } as const
const forever = "setInterval(() => {}, 1000)"

const timeOf = (agent: string, event: string) =>
  Effect.map(eventsOf(agent, event), (events) => events.map((e) => DateTime.toEpochMillis(e.timestamp)))

describe("dependency conditions", () => {
  it.live("completed_successfully: the dependent starts after an exit-0 dependency has completed", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* awaitState("api", "running", every)
        expect(yield* statusOf("migrate")).toMatchObject({ state: "completed", exitCode: 0 })
        const [completed] = yield* timeOf("migrate", "AGENT_COMPLETED")
        const [started] = yield* timeOf("api", "AGENT_STARTED")
        expect(started).toBeGreaterThanOrEqual(completed ?? Infinity)
      }).pipe(Effect.provide(orchestratorLayer([
        // Running (and ready) for a while first: `ready` would let the dependent start, this condition must not.
        nodeAgent("migrate", "setTimeout(() => process.exit(0), 300)"),
        nodeAgent("api", forever, { dependsOn: [{ agent: "migrate", condition: "completed_successfully" }] })
      ])))
    }), { timeout: 20_000 })

  it.live("completed_successfully: an exit-1 dependency fails the dependent, with a reason naming it", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const api = yield* awaitState("api", "failed", every)
        expect(api.lastError).toBe("dependency 'migrate' completed with exit code 1, but 'api' needs it to complete successfully")
        expect(api.pid).toBeNull()
        expect(yield* eventsOf("api", "AGENT_STARTED")).toEqual([])
        const [failed] = yield* eventsOf("api", "AGENT_FAILED")
        expect(failed?.data).toMatchObject({ reason: api.lastError })
        // Starting it again is refused while the dependency stays so.
        const refused = yield* Effect.flip(Orchestrator.use((o) => o.control.control("start", "api")))
        expect(refused.message).toBe("cannot start agent 'api': its dependency 'migrate' is failed")
      }).pipe(Effect.provide(orchestratorLayer([
        nodeAgent("migrate", "setTimeout(() => process.exit(1), 100)"),
        nodeAgent("api", forever, { dependsOn: [{ agent: "migrate", condition: "completed_successfully" }] })
      ])))
    }), { timeout: 20_000 })

  it.live("started: the dependent starts while its dependency is still starting (not ready)", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* awaitState("api", "running", every)
        expect(yield* statusOf("db")).toMatchObject({ state: "starting" })
        // The same dependency with the default condition: still waiting.
        expect(yield* statusOf("web")).toMatchObject({ state: "queued", waitingFor: "dependencies" })
      }).pipe(Effect.provide(orchestratorLayer([
        nodeAgent("db", forever, { readyLine: "never printed" }),
        nodeAgent("api", forever, { dependsOn: [{ agent: "db", condition: "started" }] }),
        nodeAgent("web", forever, { dependsOn: ["db"] })
      ])))
    }), { timeout: 20_000 })

  it.live("completed: the dependent starts once its dependency has ended, whatever its exit code", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* awaitState("report", "running", every)
        expect(yield* statusOf("job")).toMatchObject({ state: "failed", exitCode: 3 })
        // `ready` (the default) cannot be met by a failed dependency.
        expect(yield* awaitState("strict", "failed", every)).toMatchObject({ lastError: "dependency 'job' failed" })
        const [ended] = yield* timeOf("job", "AGENT_FAILED")
        const [started] = yield* timeOf("report", "AGENT_STARTED")
        expect(started).toBeGreaterThanOrEqual(ended ?? Infinity)
      }).pipe(Effect.provide(orchestratorLayer([
        // Never ready, so that `strict` waits for it until it fails.
        nodeAgent("job", "setTimeout(() => process.exit(3), 200)", { readyLine: "never printed" }),
        nodeAgent("report", forever, { dependsOn: [{ agent: "job", condition: "completed" }] }),
        nodeAgent("strict", forever, { dependsOn: ["job"] })
      ])))
    }), { timeout: 20_000 })

  it.live("dependents wait through a dependency's restart with backoff, rather than failing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const marker = Path.join(dir, "ran-once")
      // Fails on its first run before it is ready, then is ready and runs for good.
      const flaky = `const fs = require("node:fs"); if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${
        JSON.stringify(marker)
      }, ""); process.exit(1) } console.log("up"); setInterval(() => {}, 1000)`
      yield* Effect.gen(function*() {
        yield* awaitStatus("db", (s) => s.state === "queued" && s.waitingFor === "backoff", every)
        expect(yield* statusOf("api")).toMatchObject({ state: "queued", waitingFor: "dependencies" })
        yield* awaitState("api", "running", every)
        expect(yield* statusOf("db")).toMatchObject({ state: "running", restarts: 1 })
        expect(yield* eventsOf("api", "AGENT_FAILED")).toEqual([])
        const readies = yield* timeOf("db", "AGENT_READY")
        const [started] = yield* timeOf("api", "AGENT_STARTED")
        expect(readies).toHaveLength(1)
        expect(started).toBeGreaterThanOrEqual(readies[0] ?? Infinity)
      }).pipe(Effect.provide(orchestratorLayer([
        nodeAgent("db", flaky, { restart: "on-failure", backoff: { initial: 400 }, readyLine: "^up$" }),
        nodeAgent("api", forever, { dependsOn: ["db"] })
      ])))
    }), { timeout: 20_000 })

  it.live("restart: true restarts the dependent, in order, when its dependency is restarted by request", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* awaitState("web", "running", every)
        const first = (yield* statusOf("api")).pid
        yield* Orchestrator.use((o) => o.control.control("restart", "db"))
        const api = yield* awaitStatus("api", (s) => s.state === "running" && s.restarts === 1, every)
        expect(api.pid).not.toBe(first)
        const [restarted] = yield* eventsOf("api", "AGENT_RESTARTED")
        expect(restarted?.data).toEqual({ reason: "dependency", dependency: "db" })
        // After db is ready again.
        const dbReady = yield* timeOf("db", "AGENT_READY")
        const apiStarted = yield* timeOf("api", "AGENT_STARTED")
        expect(apiStarted[1]).toBeGreaterThanOrEqual(dbReady[1] ?? Infinity)
        // Then web, which follows api, after api.
        yield* awaitStatus("web", (s) => s.state === "running" && s.restarts === 1, every)
        const webStarted = yield* timeOf("web", "AGENT_STARTED")
        expect(webStarted[1]).toBeGreaterThanOrEqual(apiStarted[1] ?? Infinity)
        // Without restart: true, a dependent keeps running.
        expect(yield* statusOf("plain")).toMatchObject({ state: "running", restarts: 0 })

        const graph = yield* Orchestrator.use((o) => o.query.dependencies)
        expect(graph.agents.find((node) => node.name === "web")).toMatchObject({
          dependencies: ["api", "db"],
          edges: [
            { agent: "api", condition: "ready", restart: true },
            { agent: "db", condition: "started", restart: false }
          ]
        })
      }).pipe(Effect.provide(orchestratorLayer([
        nodeAgent("db", forever),
        nodeAgent("api", forever, { dependsOn: [{ agent: "db", restart: true }] }),
        nodeAgent("web", forever, { dependsOn: [{ agent: "api", restart: true }, { agent: "db", condition: "started" }] }),
        nodeAgent("plain", forever, { dependsOn: ["db"] })
      ])))
    }), { timeout: 30_000 })
})
