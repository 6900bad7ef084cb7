/**
 * `Orchestrator.reconfigure`, what a reload applies: changed agents stopped dependents first and started
 * dependencies first, a process agent refused to an orchestrator without a guardian, and nothing after a shutdown.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { EventStore } from "../../src/events/EventStore.ts"
import { effectAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { awaitState, nodeAgent, orchestratorLayer } from "../support/orchestrator.ts"

/** The orchestrator is told which agents changed: two definitions of the same agent may look alike. */
const forever = (name: string, dependsOn: ReadonlyArray<string> = []) => effectAgent({ name, dependsOn, run: Effect.never })

const settings = { maxWorkers: 4, agentStopTimeout: Duration.seconds(5), heartbeatInterval: Duration.seconds(5) }

/** Agent events of the agents named, in the order recorded. */
const lifecycle = (names: ReadonlyArray<string>, after: number) =>
  EventStore.use((store) => store.query({ category: "agent", afterSeq: after, limit: 1000 })).pipe(
    Effect.map((page) =>
      page.events
        .filter((event) => event.agentName !== null && names.includes(event.agentName) && ["AGENT_STOPPED", "AGENT_STARTED"].includes(event.eventName))
        .map((event) => `${event.eventName} ${event.agentName}`))
  )

describe("Orchestrator.reconfigure", () => {
  layer(orchestratorLayer([forever("db"), forever("api", ["db"]), forever("web", ["api"])]), { excludeTestServices: true })("effect agents", (it) => {
    it.effect("restarts changed agents dependents first, then in dependency order; refuses process agents without a guardian", () =>
      Effect.gen(function*() {
        const orchestrator = yield* Orchestrator
        yield* awaitState("web", "running")
        const before = (yield* EventStore.use((store) => store.info)).lastSeq ?? 0
        const results = yield* orchestrator.reconfigure({
          ...settings,
          agents: [forever("db"), forever("api", ["db"]), forever("web", ["api"])],
          changed: ["db", "api"]
        })
        expect(results.map((result) => [result.agent, result.outcome])).toEqual([["db", "done"], ["api", "done"]])
        yield* awaitState("api", "running")
        expect(yield* lifecycle(["db", "api"], before)).toEqual([
          "AGENT_STOPPED api",
          "AGENT_STOPPED db",
          "AGENT_STARTED db",
          "AGENT_STARTED api"
        ])
        // The unchanged dependent kept running throughout.
        expect((yield* orchestrator.query.agent("web")).restarts).toBe(0)

        const refused = yield* Effect.flip(orchestrator.reconfigure({
          ...settings,
          agents: [forever("db"), forever("api", ["db"]), forever("web", ["api"]), nodeAgent("proc", "setInterval(() => {}, 1000)")],
          changed: []
        }))
        expect(refused.message).toContain("process agents (proc) need an orchestrator started with process supervision")
        expect((yield* orchestrator.query.snapshot).agents.map((agent) => agent.agentName)).toEqual(["db", "api", "web"])

        yield* orchestrator.shutdown
        const stopping = yield* Effect.flip(orchestrator.reconfigure({ ...settings, agents: [], changed: [] }))
        expect(stopping.message).toBe("cannot reload: the orchestrator is shutting down")
      }))
  })
})
