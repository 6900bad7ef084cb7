/**
 * A history of a given size, for the scaling benchmark: agents' lifecycle events as a fleet of crash-looping agents
 * records them (queued, started, ready, failed, restarted, one agent's cycle after another's), recorded straight
 * into the server's EventStore before it answers, so that filling 100k events takes a second, not 100k requests.
 */
import { Effect } from "effect"
import { EventCategory, type EventStore } from "../../src/events/EventStore.ts"

const CYCLE = ["AGENT_QUEUED", "AGENT_STARTED", "AGENT_READY", "AGENT_FAILED", "AGENT_RESTARTED"] as const

/** Records `count` events over the agents `agent-0` to `agent-<agents - 1>`. */
export const recordLifecycleEvents = (store: EventStore["Service"], count: number, agents: number): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (let i = 0; i < count; i++) {
      const step = i % CYCLE.length
      const cycle = Math.floor(i / CYCLE.length)
      const eventName = CYCLE[step] ?? "AGENT_QUEUED"
      yield* store.record({
        eventName,
        category: EventCategory.agent,
        agentName: `agent-${cycle % agents}`,
        severity: eventName === "AGENT_FAILED" ? "error" : "info",
        data: eventName === "AGENT_FAILED"
          ? { reason: "exited with code 1", exit_code: 1, ran_ms: 12 }
          : eventName === "AGENT_RESTARTED"
          ? { attempt: cycle + 1, delay_ms: 1000, reason: "policy" }
          : {}
      })
    }
  })
