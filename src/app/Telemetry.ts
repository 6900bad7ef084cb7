/**
 * OpenTelemetry export, as a layer: traces (a span per command request, with its stages; agents' starts, stops
 * and restarts), the Effect metrics `/metrics` serves, and the orchestrator's logs, sent over OTLP/HTTP to a
 * collector. `up` provides `layer` with the settings of the `OTEL_*` variables around everything it runs, and
 * `agentMetrics` beside its orchestrator; an application embedding the orchestrator can do the same, with
 * `layerFromEnvironment` or settings of its own.
 *
 * The exporters are loaded with a dynamic `import()` when the layer is built, and only then (`OtlpExport.ts`, a
 * chunk of its own in the bundle): without `OTEL_EXPORTER_OTLP_ENDPOINT`, nothing is exported and nothing more is
 * loaded. With no tracer installed, the request pipeline makes no spans at all (`RequestPipeline.ts`).
 */
import { Effect, Layer, Schedule } from "effect"
import type * as OtlpExporter from "effect/observability/OtlpExporter"
import type { ConfigError } from "../orchestrator/OrchestratorConfig.ts"
import { OrchestratorQuery } from "../ports/OrchestratorQuery.ts"
import { makeAgentMetrics } from "../server/metrics/AgentMetrics.ts"
import { otelEnvironment, type TelemetrySettings } from "./OtelEnvironment.ts"

export {
  DEFAULT_SERVICE_NAME,
  OTEL_VARIABLES,
  otelEnvironment,
  type OtlpProtocol,
  readOtelEnvironment,
  signalUrl,
  type TelemetrySettings
} from "./OtelEnvironment.ts"

/** effect's metrics export interval when the settings give none. */
const DEFAULT_METRICS_INTERVAL_MILLIS = 10_000

/**
 * Exports to `settings.endpoint` while the layer is in scope, and flushes what is left as it closes (a second or
 * two at most per signal, should the collector have gone). The `Flusher` exports everything held at once.
 */
export const layer = (settings: TelemetrySettings): Layer.Layer<OtlpExporter.Flusher> =>
  Layer.unwrap(Effect.map(Effect.promise(() => import("./OtlpExport.ts")), (exporters) => exporters.layer(settings)))

/**
 * Keeps the agents' metrics (`orchestrate_agent_up` and the others of `AgentMetrics.ts`) current for the metrics
 * exporter, next to an orchestrator: `/metrics` sets them from the orchestrator's snapshot when it is scraped, an
 * export has no such moment, so this sets them from one every export interval. Untraced: a span a tick would be
 * noise in every trace view.
 */
export const agentMetrics = (
  settings: Pick<TelemetrySettings, "metricsIntervalMillis">
): Layer.Layer<never, never, OrchestratorQuery> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const query = yield* OrchestratorQuery
    const setAgentMetrics = makeAgentMetrics()
    yield* Effect.forkScoped(
      Effect.map(query.snapshot, setAgentMetrics).pipe(
        Effect.repeat(Schedule.spaced(settings.metricsIntervalMillis ?? DEFAULT_METRICS_INTERVAL_MILLIS)),
        Effect.withTracerEnabled(false)
      )
    )
  }))

/**
 * Exports as the `OTEL_*` variables say (`OtelEnvironment.ts`), read through the current `ConfigProvider`; nothing,
 * and nothing loaded, without `OTEL_EXPORTER_OTLP_ENDPOINT`. A malformed variable fails the layer with a
 * `ConfigError` naming it.
 */
export const layerFromEnvironment = (
  options: { readonly defaultServiceName?: string } = {}
): Layer.Layer<never, ConfigError> =>
  Layer.unwrap(Effect.map(otelEnvironment(options), (settings) => settings === undefined ? Layer.empty : layer(settings)))
