/**
 * What the orchestrator's stores count as they fill: `orchestrate_events_total{category}` for every event the
 * EventStore records (audit records included), `orchestrate_log_lines_total{agent,stream}` for every line of
 * output the LogStore keeps. Both are wrappers applied where the stores are made (`up`), not changes to them:
 * the event counter around `record`, the line counter as one more of the LogStore's sinks, which see every batch.
 */
import { Context, Effect, Metric } from "effect"
import type { EventStore } from "../../events/EventStore.ts"
import type { LogSink } from "../../logs/LogStore.ts"

// Metrics made with their attributes: cheaper to update than `Metric.withAttributes` (CommandMetrics.ts).
const events = (category: string) =>
  Metric.counter("orchestrate_events_total", { description: "Events recorded, by category", incremental: true, attributes: { category } })
const lines = (agent: string, stream: string) =>
  Metric.counter("orchestrate_log_lines_total", {
    description: "Lines of agents' output kept, by agent and stream",
    incremental: true,
    attributes: { agent, stream }
  })

const context = Context.empty()

/** One metric per label set, made once and kept. */
const cached = <M>(make: (key: string) => M) => {
  const made = new Map<string, M>()
  return (key: string): M => {
    let metric = made.get(key)
    if (metric === undefined) {
      metric = make(key)
      made.set(key, metric)
    }
    return metric
  }
}

const eventCounter = cached(events)

/** `store`, counting what it records. */
export const countingEvents = (store: EventStore["Service"]): EventStore["Service"] => ({
  ...store,
  record: (event) =>
    Effect.map(store.record(event), (recorded) => {
      eventCounter(event.category).updateUnsafe(1, context)
      return recorded
    })
})

const lineCounter = cached((key) => {
  const [agent = "", stream = ""] = key.split("\u0000")
  return lines(agent, stream)
})

/** A LogStore sink counting the lines it is given. */
export const countLines: LogSink = (batches) =>
  Effect.sync(() => {
    for (const batch of batches) lineCounter(`${batch.agent}\u0000${batch.stream}`).updateUnsafe(batch.lines.count, context)
  })
