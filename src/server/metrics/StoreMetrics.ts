/**
 * What the orchestrator's stores count as they fill: `orchestrate_events_total{category}` for every event the
 * EventStore records (audit records included), `orchestrate_log_lines_total{agent,stream}` for every line of
 * output the LogStore keeps. Both are wrappers applied where the stores are made (`up`), not changes to them:
 * the event counter around `record`, the line counter as one more of the LogStore's sinks, which see every batch.
 */
import { Effect, Metric } from "effect"
import type { EventStore } from "../../events/EventStore.ts"
import type { LogSink } from "../../logs/LogStore.ts"
import { NO_CONTEXT, perLabel } from "./LabelSets.ts"

const eventCounter = perLabel((category: string) =>
  Metric.counter("orchestrate_events_total", { description: "Events recorded, by category", incremental: true, attributes: { category } })
)
const lineCounter = perLabel((agent: string) =>
  perLabel((stream: string) =>
    Metric.counter("orchestrate_log_lines_total", {
      description: "Lines of agents' output kept, by agent and stream",
      incremental: true,
      attributes: { agent, stream }
    })
  )
)

/** `store`, counting what it records. */
export const countingEvents = (store: EventStore["Service"]): EventStore["Service"] => ({
  ...store,
  record: (event) =>
    Effect.map(store.record(event), (recorded) => {
      eventCounter(event.category).updateUnsafe(1, NO_CONTEXT)
      return recorded
    })
})

/** A LogStore sink counting the lines it is given, at once (no Effect per batch: see LogSink). */
export const countLines: LogSink = (batches) => {
  for (const batch of batches) lineCounter(batch.agent)(batch.stream).updateUnsafe(batch.lines.count, NO_CONTEXT)
  return undefined
}
