/**
 * The orchestrator's SnapshotView: what the command interface caches its encoded agents by. The same array and the
 * same standings while nothing changes, however much time passes; a new standing for exactly the agent that
 * changed; and the snapshot is the view with its uptimes counted.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { effectAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { awaitState, orchestratorLayer } from "../support/orchestrator.ts"

const view = Orchestrator.use((o) => o.query.view)
const snapshot = Orchestrator.use((o) => o.query.snapshot)

describe("the snapshot view", () => {
  it.effect("stays the same objects while only time passes, and gives way to new ones for the agent that changed", () =>
    Effect.gen(function*() {
      yield* awaitState("db", "running")
      yield* awaitState("api", "running")
      const first = yield* view
      yield* TestClock.adjust("90 seconds")
      const later = yield* view
      expect(later.agents).toBe(first.agents)
      expect(later.now - first.now).toBe(90_000)
      expect(later.agents.map(({ status }) => status.agentName)).toEqual(["db", "api"])

      // The uptimes are counted from each run's start to the view's time.
      const [db, api] = later.agents
      expect(db?.upSince).not.toBeNull()
      const counted = yield* snapshot
      expect(counted.agents.map((agent) => agent.uptimeSeconds)).toEqual(
        later.agents.map(({ upSince }) => upSince === null ? null : (later.now - upSince) / 1000)
      )
      expect(counted.agents[0]?.uptimeSeconds).toBeGreaterThanOrEqual(90)

      yield* Orchestrator.use((o) => o.control.control("stop", "api"))
      const stopped = yield* view
      expect(stopped.agents).not.toBe(later.agents)
      expect(stopped.agents[0]).toBe(db)
      expect(stopped.agents[1]).not.toBe(api)
      expect(stopped.agents[1]).toMatchObject({ status: { agentName: "api", state: "stopped" }, upSince: null })
      expect((yield* snapshot).agents[1]?.uptimeSeconds).toBeNull()
    }).pipe(Effect.provide(orchestratorLayer([
      effectAgent({ name: "db", run: Effect.never }),
      effectAgent({ name: "api", dependsOn: ["db"], run: Effect.never })
    ]))))
})
