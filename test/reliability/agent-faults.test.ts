import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import { EventStore } from "../../src/events/EventStore.ts"
import { awaitState, awaitStatus, eventsOf, nodeAgent, orchestratorLayer, statusOf } from "../support/orchestrator.ts"

// Also part of the reliability story, tested with the orchestrator (test/orchestrator/process-agents.test.ts):
// a process that ignores SIGTERM is killed after its grace period, and an agent that dies while paused ends failed.
describe("agents that fault", () => {
  it.live("a crash loop is held back by its backoff: restarts follow the schedule and events stay few", () =>
    Effect.gen(function*() {
      const restarted = yield* awaitStatus("crasher", (status) => status.restarts >= 6, { every: "20 millis", times: 1000 })
      expect(restarted.restarts).toBeGreaterThanOrEqual(6)
      // Backoff 50, 100, 200, 400, 400, ... ms between runs: each start comes at least its delay after the failure
      // before it, however fast the process crashes.
      const restarts = yield* eventsOf("crasher", "AGENT_RESTARTED")
      const failures = yield* eventsOf("crasher", "AGENT_FAILED")
      const starts = (yield* eventsOf("crasher", "AGENT_STARTED")).slice(1)
      expect(restarts.slice(0, 6).map((event) => event.data["delay_ms"])).toEqual([50, 100, 200, 400, 400, 400])
      for (const [index, restart] of restarts.slice(0, 5).entries()) {
        const failed = failures[index]
        const next = starts[index]
        const gap = failed === undefined || next === undefined
          ? Number.NaN
          : DateTime.toEpochMillis(next.timestamp) - DateTime.toEpochMillis(failed.timestamp)
        expect(gap).toBeGreaterThanOrEqual(Number(restart.data["delay_ms"]))
      }
      // A handful of events per restart, never a flood.
      const recorded = (yield* EventStore.use((store) => store.info)).recorded
      expect(recorded).toBeLessThan(10 * (restarts.length + 1))
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent("crasher", "console.error('boom'); process.exit(1)", {
        restart: "always",
        maxRestarts: 1000,
        backoff: { initial: 50, factor: 2, max: 400 }
      })
    ]))), 30_000)

  it.live("a crash loop that outlives maxRestarts ends failed, and nothing restarts it after", () =>
    Effect.gen(function*() {
      const failed = yield* awaitState("crasher", "failed", { every: "20 millis" })
      expect(failed).toMatchObject({ restarts: 3, lastError: "exited with code 2 (gave up after 3 restarts in a row)" })
      yield* Effect.sleep("300 millis")
      expect((yield* statusOf("crasher")).restarts).toBe(3)
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent("crasher", "process.exit(2)", { restart: "on-failure", maxRestarts: 3, backoff: { initial: 10 } })
    ]))), 30_000)
})
