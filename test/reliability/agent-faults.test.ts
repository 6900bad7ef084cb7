import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { EventStore } from "../../src/events/EventStore.ts"
import { awaitState, eventsOf, nodeAgent, orchestratorLayer, statusOf } from "../support/orchestrator.ts"

// Also part of the reliability story, tested with the orchestrator (test/orchestrator/process-agents.test.ts):
// a process that ignores SIGTERM is killed after its grace period, and an agent that dies while paused ends failed.
describe("agents that fault", () => {
  it.live("a crash loop is held back by its backoff: restarts follow the schedule and events stay few", () =>
    Effect.gen(function*() {
      yield* Effect.sleep("2500 millis")
      const status = yield* statusOf("crasher")
      // Backoff 50, 100, 200, 400, 400, ... ms between runs of ~40 ms: about 8 restarts in 2.5 s, never dozens.
      expect(status.restarts).toBeGreaterThanOrEqual(3)
      expect(status.restarts).toBeLessThanOrEqual(12)
      const delays = (yield* eventsOf("crasher", "AGENT_RESTARTED")).map((event) => event.data["delay_ms"])
      expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400])
      expect(delays.every((delay) => typeof delay === "number" && delay <= 400)).toBe(true)
      const recorded = (yield* EventStore.use((store) => store.info)).recorded
      expect(recorded).toBeLessThan(150)
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
