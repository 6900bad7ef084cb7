/**
 * An OTLP/HTTP receiver in the test process, standing in for an OpenTelemetry collector: a node:http server on a
 * random loopback port that answers every POST with 200 and keeps what came, decoded from OTLP's JSON encoding into
 * spans, metric points and log records (with the resource each came with), and the headers of every request.
 */
import { Effect, Schema } from "effect"
import * as Http from "node:http"

const AnyValue = Schema.Struct({
  stringValue: Schema.optional(Schema.String),
  intValue: Schema.optional(Schema.Union([Schema.Number, Schema.String])),
  doubleValue: Schema.optional(Schema.Number),
  boolValue: Schema.optional(Schema.Boolean)
})
const KeyValues = Schema.Array(Schema.Struct({ key: Schema.String, value: AnyValue }))
const Resource = Schema.Struct({ attributes: KeyValues })

const Traces = Schema.Struct({
  resourceSpans: Schema.Array(Schema.Struct({
    resource: Resource,
    scopeSpans: Schema.Array(Schema.Struct({
      spans: Schema.Array(Schema.Struct({
        traceId: Schema.String,
        spanId: Schema.String,
        parentSpanId: Schema.optional(Schema.String),
        name: Schema.String,
        kind: Schema.Number,
        attributes: KeyValues
      }))
    }))
  }))
})

const NumberPoints = Schema.Struct({
  dataPoints: Schema.Array(Schema.Struct({ attributes: KeyValues, asDouble: Schema.optional(Schema.Number) }))
})
const Metrics = Schema.Struct({
  resourceMetrics: Schema.Array(Schema.Struct({
    resource: Resource,
    scopeMetrics: Schema.Array(Schema.Struct({
      metrics: Schema.Array(Schema.Struct({
        name: Schema.String,
        sum: Schema.optional(NumberPoints),
        gauge: Schema.optional(NumberPoints)
      }))
    }))
  }))
})

const Logs = Schema.Struct({
  resourceLogs: Schema.Array(Schema.Struct({
    resource: Resource,
    scopeLogs: Schema.Array(Schema.Struct({
      logRecords: Schema.Array(Schema.Struct({ severityText: Schema.String, body: AnyValue, attributes: KeyValues }))
    }))
  }))
})

type Attributes = Record<string, string | number | boolean | undefined>

const attributesOf = (pairs: typeof KeyValues.Type): Attributes =>
  Object.fromEntries(pairs.map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue]))

export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: number
  readonly attributes: Attributes
  readonly resource: Attributes
}

export interface ReceivedPoint {
  readonly metric: string
  readonly attributes: Attributes
  readonly value: number | undefined
  readonly resource: Attributes
}

export interface ReceivedLog {
  readonly severity: string
  readonly body: string | undefined
  readonly resource: Attributes
}

export interface Received {
  readonly path: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

const decodeTraces = Schema.decodeUnknownSync(Schema.fromJsonString(Traces))
const decodeMetrics = Schema.decodeUnknownSync(Schema.fromJsonString(Metrics))
const decodeLogs = Schema.decodeUnknownSync(Schema.fromJsonString(Logs))

export interface OtlpReceiver {
  /** Where it listens, `http://127.0.0.1:<port>`, to which the test appends its endpoint's path. */
  readonly url: string
  /** Every request so far, in the order they came. */
  readonly requests: () => ReadonlyArray<Received>
  readonly spans: () => ReadonlyArray<ReceivedSpan>
  readonly points: () => ReadonlyArray<ReceivedPoint>
  readonly logs: () => ReadonlyArray<ReceivedLog>
}

/** A receiver listening until the scope closes. */
export const otlpReceiver = Effect.acquireRelease(
  Effect.callback<{ readonly server: Http.Server; readonly receiver: OtlpReceiver }>((resume) => {
    const received: Array<Received> = []
    const server = Http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        received.push({ path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") })
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    const of = (suffix: string) => received.filter((request) => request.path.endsWith(suffix))
    const receiver: OtlpReceiver = {
      url: "",
      requests: () => received.slice(),
      spans: () =>
        of("/v1/traces").flatMap(({ body }) =>
          decodeTraces(body).resourceSpans.flatMap(({ resource, scopeSpans }) =>
            scopeSpans.flatMap(({ spans }) =>
              spans.map((span) => ({
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId,
                name: span.name,
                kind: span.kind,
                attributes: attributesOf(span.attributes),
                resource: attributesOf(resource.attributes)
              }))
            )
          )
        ),
      points: () =>
        of("/v1/metrics").flatMap(({ body }) =>
          decodeMetrics(body).resourceMetrics.flatMap(({ resource, scopeMetrics }) =>
            scopeMetrics.flatMap(({ metrics }) =>
              metrics.flatMap((metric) =>
                [...(metric.sum?.dataPoints ?? []), ...(metric.gauge?.dataPoints ?? [])].map((point) => ({
                  metric: metric.name,
                  attributes: attributesOf(point.attributes),
                  value: point.asDouble,
                  resource: attributesOf(resource.attributes)
                }))
              )
            )
          )
        ),
      logs: () =>
        of("/v1/logs").flatMap(({ body }) =>
          decodeLogs(body).resourceLogs.flatMap(({ resource, scopeLogs }) =>
            scopeLogs.flatMap(({ logRecords }) =>
              logRecords.map((record) => ({
                severity: record.severityText,
                body: record.body.stringValue,
                resource: attributesOf(resource.attributes)
              }))
            )
          )
        )
    }
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed({ server, receiver: { ...receiver, url: `http://127.0.0.1:${port}` } }))
    })
  }),
  ({ server }) =>
    Effect.callback<void>((resume) => {
      // The exporter's keep-alive connections would hold `close` open until they time out.
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ receiver }) => receiver))
