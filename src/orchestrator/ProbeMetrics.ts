/**
 * `orchestrate_probe_failures_total{agent,probe}`: every failed try of an agent's probe, counted where the try is
 * recorded (`Supervisor.ts`). Not from the snapshot at scrape time as the agents' other metrics are: a probe's
 * status holds only its current run of failures, which a success between two scrapes would hide.
 */
import { Context, Metric } from "effect"
import type { ProbeRole } from "../protocol/Model.ts"

// Made with its attributes, once per label set: cheaper to update than `Metric.withAttributes`.
const failures = (agent: string, probe: ProbeRole) =>
  Metric.counter("orchestrate_probe_failures_total", {
    description: "Failed tries of an agent's probe, by agent and probe (liveness, readiness)",
    incremental: true,
    attributes: { agent, probe }
  })

const context = Context.empty()
const made = new Map<string, Metric.Counter<number>>()

/** Counts one failed try of `agent`'s `probe`. */
export const countProbeFailure = (agent: string, probe: ProbeRole): void => {
  const key = `${agent}\u0000${probe}`
  let counter = made.get(key)
  if (counter === undefined) {
    counter = failures(agent, probe)
    made.set(key, counter)
  }
  counter.updateUnsafe(1, context)
}
