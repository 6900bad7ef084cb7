/**
 * `orchestrate_probe_failures_total{agent,probe}`: every failed try of an agent's probe, counted where the try is
 * recorded (`Supervisor.ts`). Not from the snapshot at scrape time as the agents' other metrics are: a probe's
 * status holds only its current run of failures, which a success between two scrapes would hide.
 */
import { Metric } from "effect"
import type { ProbeRole } from "../protocol/Model.ts"

const failures = Metric.counter("orchestrate_probe_failures_total", {
  description: "Failed tries of an agent's probe, by agent and probe (liveness, readiness)",
  incremental: true
})

/**
 * Counts one failed try of `agent`'s `probe`. `withAttributes` rather than a metric made and kept per label set (as
 * the per-request counters are): a probe fails at most once a period (100 ms or more), so its microsecond is nothing.
 */
export const countProbeFailure = (agent: string, probe: ProbeRole) =>
  Metric.update(Metric.withAttributes(failures, { agent, probe }), 1)
