/**
 * The agents' metrics for the OTLP export: set from the orchestrator's snapshot without any scrape, and never
 * counted twice when `/metrics` reads snapshots too.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as PrometheusMetrics from "effect/observability/PrometheusMetrics"
import * as Telemetry from "../../src/app/Telemetry.ts"
import { InMemoryOrchestrator } from "../../src/orchestrator/InMemoryOrchestrator.ts"
import { OrchestratorControl } from "../../src/ports/OrchestratorControl.ts"
import { OrchestratorQuery } from "../../src/ports/OrchestratorQuery.ts"
import { makeAgentMetrics } from "../../src/server/metrics/AgentMetrics.ts"
import { eventually } from "../support/orchestrator.ts"

/** A sample's value in the registry's Prometheus text, or undefined without one. */
const sample = (series: string) =>
  Effect.map(PrometheusMetrics.format(), (text) => {
    const line = text.split("\n").find((line) => line.startsWith(`${series} `))
    return line === undefined ? undefined : Number(line.slice(series.length + 1))
  })

describe("Telemetry.agentMetrics", () => {
  it.live("sets the agents' metrics every export interval, and adds a restart once however many read it", () =>
    Effect.gen(function*() {
      const orchestrator = InMemoryOrchestrator.layer({ agents: [{ name: "otel-metrics", state: "running" }] })
      const context = yield* Layer.build(Telemetry.agentMetrics({ metricsIntervalMillis: 20 }).pipe(Layer.provideMerge(orchestrator)))
      expect(yield* eventually(sample(`orchestrate_agent_up{agent="otel-metrics"}`), (value) => value === 1)).toBe(1)
      expect(yield* sample(`orchestrate_agent_restarts_total{agent="otel-metrics"}`)).toBe(0)

      yield* OrchestratorControl.use((control) => control.control("restart", "otel-metrics")).pipe(Effect.provide(context))
      const restarts = `orchestrate_agent_restarts_total{agent="otel-metrics"}`
      expect(yield* eventually(sample(restarts), (value) => value === 1)).toBe(1)
      // A scrape of /metrics reads the same snapshot with a setter of its own: nothing more to add.
      makeAgentMetrics()(yield* OrchestratorQuery.use((query) => query.snapshot).pipe(Effect.provide(context)))
      expect(yield* sample(restarts)).toBe(1)
    }).pipe(Effect.scoped))
})
