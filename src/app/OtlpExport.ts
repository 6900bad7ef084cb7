/**
 * OTLP/HTTP export of traces, metrics and logs, with effect's exporters (`OtlpTracer`, `OtlpMetrics`, `OtlpLogger`)
 * over fetch. Only `Telemetry.ts` imports this, dynamically, so that the exporters, their serializations and the
 * HTTP client are a chunk of their own that an orchestrator without an OTLP endpoint never loads.
 *
 * A collector that is down or refuses an export never stops or slows the orchestrator: exports run in fibers of
 * their own, each request gives up after the export timeout, and effect's exporter then drops what it held and
 * pauses for a minute. That is said once per signal, as a warning, and said again when the signal gets through.
 */
import { ConfigProvider, Duration, Effect, Layer } from "effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as HttpMiddleware from "effect/http/HttpMiddleware"
import type * as OtlpExporter from "effect/observability/OtlpExporter"
import * as OtlpLogger from "effect/observability/OtlpLogger"
import * as OtlpMetrics from "effect/observability/OtlpMetrics"
import * as OtlpSerialization from "effect/observability/OtlpSerialization"
import * as OtlpTracer from "effect/observability/OtlpTracer"
import { displayUrl, signalUrl, type TelemetrySettings } from "./OtelEnvironment.ts"

type Signal = "traces" | "metrics" | "logs"

/**
 * The most a final flush waits for each signal as the orchestrator stops: a collector that answers takes
 * milliseconds; one that has gone away would otherwise hold the exit for effect's 3 s, three times over.
 */
const SHUTDOWN_TIMEOUT = Duration.seconds(2)

const annotate = Effect.annotateLogs({ component: "telemetry" })

/**
 * The HTTP client of one signal's exporter (`url` is only for its log lines): each request bounded by the export
 * timeout, and the first failure after a success (or at the start) logged, as is the first success after a failure.
 */
const reportingClient = (signal: Signal, url: string, timeoutMillis: number) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      let failing = false
      const failed = (why: string) =>
        Effect.suspend(() => {
          if (failing) return Effect.void
          failing = true
          return annotate(Effect.logWarning(
            `OpenTelemetry: cannot export ${signal} to ${url}: ${why}; they are dropped until it answers (the orchestrator goes on)`
          ))
        })
      const answered = Effect.suspend(() => {
        if (!failing) return Effect.void
        failing = false
        return annotate(Effect.logInfo(`OpenTelemetry: exporting ${signal} to ${url} again`))
      })
      return HttpClient.transform(client, (response, request) =>
        response.pipe(
          Effect.timeoutOrElse({
            duration: timeoutMillis,
            orElse: () =>
              Effect.fail(
                new HttpClientError.HttpClientError({
                  reason: new HttpClientError.TransportError({ request, description: `no answer within ${timeoutMillis} ms` })
                })
              )
          }),
          Effect.tap((answer) => answer.status >= 200 && answer.status < 300 ? answered : failed(`it answered HTTP ${answer.status}`)),
          Effect.tapError((error) => failed(whyFailed(error)))
        ))
    })
  )

/**
 * The HTTP requests the HTTP server makes spans of: the API's, but not its event stream (a span as long as the
 * stream, hours). Probes, scrapes of `/metrics` and the dashboard's files come every few seconds and would bury
 * the commands' traces under their own.
 */
const tracedHttpRequests = Layer.succeed(HttpMiddleware.TracerDisabledWhen, (request) => {
  const path = request.url.split("?")[0] ?? request.url
  return !path.startsWith("/api/v1/") || path === "/api/v1/events"
})

/** What went wrong, as Node says it: fetch's own "fetch failed" hides the reason in its cause. */
const whyFailed = (error: HttpClientError.HttpClientError): string => {
  const reason = error.reason
  if (reason._tag === "TransportError" && reason.description !== undefined) return reason.description
  const cause: unknown = reason.cause
  if (cause instanceof Error) {
    const inner: unknown = cause.cause
    return inner instanceof Error ? inner.message : cause.message
  }
  return error.message
}

/**
 * The exporters of `settings`, sharing one flusher. They read nothing from the environment themselves (their own
 * reading of `OTEL_RESOURCE_ATTRIBUTES` would die on a malformed one): `settings` holds it all, parsed.
 */
export const layer = (settings: TelemetrySettings): Layer.Layer<OtlpExporter.Flusher> => {
  const resource = { serviceName: settings.serviceName, attributes: settings.resourceAttributes }
  const common = { resource, headers: settings.headers, shutdownTimeout: SHUTDOWN_TIMEOUT }
  /** Where a signal goes, and its own HTTP client. */
  const to = (signal: Signal) => {
    const url = signalUrl(settings.endpoint, signal)
    return { url, client: reportingClient(signal, displayUrl(url), settings.exportTimeoutMillis) }
  }
  const traces = to("traces")
  const metrics = to("metrics")
  const logs = to("logs")
  const exporters = Layer.mergeAll(
    OtlpTracer.layer({ ...common, url: traces.url, exportInterval: settings.tracesIntervalMillis }).pipe(Layer.provide(traces.client)),
    OtlpMetrics.layer({ ...common, url: metrics.url, exportInterval: settings.metricsIntervalMillis }).pipe(Layer.provide(metrics.client)),
    // Beside the loggers already in place (the terminal's), not instead of them.
    OtlpLogger.layer({ ...common, url: logs.url, exportInterval: settings.logsIntervalMillis, mergeWithExisting: true })
      .pipe(Layer.provide(logs.client))
  )
  const announced = Layer.effectDiscard(annotate(Effect.logInfo(
    `OpenTelemetry: exporting traces, metrics and logs to ${displayUrl(settings.endpoint)} as service '${settings.serviceName}' ` +
      `(${settings.protocol})`
  )))
  return Layer.mergeAll(exporters, announced, tracedHttpRequests).pipe(
    Layer.provide([
      settings.protocol === "http/json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf,
      FetchHttpClient.layer,
      ConfigProvider.layer(ConfigProvider.fromUnknown({}))
    ])
  )
}
