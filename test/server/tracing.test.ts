import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Tracer } from "effect"
import { harness, request } from "../support/harness.ts"

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

/** The pipeline's spans, each with its parent's name, in the order they started. */
const stagesOf = (spans: ReadonlyArray<Tracer.NativeSpan>) =>
  spans
    .filter((span) => span.name.startsWith("RequestPipeline."))
    .map((span) => {
      const parent = Option.getOrUndefined(span.parent)
      return [span.name, parent?._tag === "Span" ? parent.name : undefined, span.status._tag] as const
    })

const withTracer = (tracer: Tracer.Tracer) => harness().pipe(Layer.provide(Layer.succeed(Tracer.Tracer, tracer)))

describe("tracing the request pipeline", () => {
  it.effect("a tracer sees each stage of a request as a span, under the request's own", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      yield* request({ command: "stop", args: ["db"], id: "traced" }).pipe(Effect.provide(withTracer(tracer)))
      expect(stagesOf(spans)).toEqual([
        ["RequestPipeline.handle", undefined, "Ended"],
        ["RequestPipeline.readEnvelope", "RequestPipeline.handle", "Ended"],
        ["RequestPipeline.identifyCaller", "RequestPipeline.handle", "Ended"],
        ["RequestPipeline.idempotency", "RequestPipeline.handle", "Ended"],
        ["RequestPipeline.authorize", "RequestPipeline.idempotency", "Ended"],
        ["RequestPipeline.execute", "RequestPipeline.idempotency", "Ended"],
        ["RequestPipeline.record", "RequestPipeline.handle", "Ended"],
        ["RequestPipeline.reply", "RequestPipeline.handle", "Ended"]
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
        "RequestPipeline.handle",
        "RequestPipeline.readEnvelope",
        "RequestPipeline.identifyCaller",
        "RequestPipeline.idempotency",
        "RequestPipeline.authorize",
        "RequestPipeline.record",
        "RequestPipeline.reply"
      ])
    }))
})
