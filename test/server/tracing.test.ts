import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Tracer } from "effect"
import { harness, request, sendFrames } from "../support/harness.ts"

/** A tracer that keeps every span it starts. */
const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}

/** The pipeline's spans (the request's, named for its command, and its stages'), each with its parent's name, in the order they started. */
const stagesOf = (spans: ReadonlyArray<Tracer.NativeSpan>) =>
  spans
    .filter((span) => span.name.startsWith("RequestPipeline.") || span.name.startsWith("orchestrate "))
    .map((span) => {
      const parent = Option.getOrUndefined(span.parent)
      return [span.name, parent?._tag === "Span" ? parent.name : undefined, span.status._tag] as const
    })

const withTracer = (tracer: Tracer.Tracer) => harness().pipe(Layer.provide(Layer.succeed(Tracer.Tracer, tracer)))

describe("tracing the request pipeline", () => {
  it.effect("a tracer sees each stage of a request as a span, under the request's own, named for its command", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      yield* request({ command: "stop", args: ["db"], id: "traced" }).pipe(Effect.provide(withTracer(tracer)))
      expect(stagesOf(spans)).toEqual([
        ["orchestrate stop", undefined, "Ended"],
        ["RequestPipeline.identifyCaller", "orchestrate stop", "Ended"],
        ["RequestPipeline.idempotency", "orchestrate stop", "Ended"],
        ["RequestPipeline.authorize", "RequestPipeline.idempotency", "Ended"],
        ["RequestPipeline.execute", "RequestPipeline.idempotency", "Ended"],
        ["RequestPipeline.record", "orchestrate stop", "Ended"],
        ["RequestPipeline.reply", "orchestrate stop", "Ended"]
      ])
      const span = spans.find((span) => span.name === "orchestrate stop")
      expect({ kind: span?.kind, attributes: Object.fromEntries(span?.attributes ?? []) }).toEqual({
        kind: "server",
        attributes: { command: "stop", transport: "zmq", code: 200, principal: "(anonymous)" }
      })
    }))

  it.effect("a request that names no command, or cannot be read, is a span of that kind, with its code", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      yield* request({ command: "frobnicate" }).pipe(Effect.provide(withTracer(tracer)))
      yield* sendFrames(["{not json"]).pipe(Effect.provide(withTracer(tracer)))
      expect(spans.filter((span) => span.name.startsWith("orchestrate ")).map((span) => [span.name, Object.fromEntries(span.attributes)]))
        .toEqual([
          ["orchestrate (unknown)", { command: "(unknown)", transport: "zmq", code: 400, principal: "(anonymous)" }],
          ["orchestrate (malformed)", { command: "(malformed)", transport: "zmq", code: 400 }]
        ])
    }))

  it.effect("a request refused at a stage has that stage's span end in failure, and is still recorded and answered", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      const reply = yield* request({ command: "shutdown" }).pipe(
        Effect.provide(harness({ config: { allowedCommands: "basic" } }).pipe(Layer.provide(Layer.succeed(Tracer.Tracer, tracer))))
      )
      expect(reply).toMatchObject({ code: 403, reason: "NotAllowed" })
      const authorize = spans.find((span) => span.name === "RequestPipeline.authorize")
      expect(authorize?.status._tag === "Ended" && authorize.status.exit._tag).toBe("Failure")
      expect(stagesOf(spans).map(([name]) => name)).toEqual([
        "orchestrate shutdown",
        "RequestPipeline.identifyCaller",
        "RequestPipeline.idempotency",
        "RequestPipeline.authorize",
        "RequestPipeline.record",
        "RequestPipeline.reply"
      ])
    }))
})
