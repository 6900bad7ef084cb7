/**
 * The life of one request, as a composition of stages, each in its own module:
 *
 *   1. read the envelope        frames to a `Request`                                `RequestEnvelope.ts`
 *   2. identify the caller      the transport's own way (`IdentifyCaller`)           `../Authenticator.ts` for ZeroMQ
 *   3. route to the command     its name to its route                                `CommandRouter.ts`
 *   4. authorize                the command, its arguments, its agent                `Authorizer.ts`
 *   5. execute                  the handler, the result encoded                      `CommandRouter.ts`
 *      at most once per request id for a mutating command                            `Idempotency.ts`
 *   6. answer                   the response text                                    `Answer.ts`
 *   7. record                   one typed audit record                               `CommandRecord.ts`
 *
 * Every stage fails with a `RequestError` (`RequestError.ts`). Every request gets exactly one answer and one audit
 * record, whatever happens, including a defect in a handler or the server shutting down mid-command: only the
 * command itself may be interrupted, answering and recording always complete.
 *
 * Nothing here knows the transport. A transport hands over an `IncomingRequest` (frames and a way to reply) and
 * says how it identifies callers; the ZeroMQ command interface uses the Authenticator's signed requests, another
 * transport (an HTTP gateway) would bring its own and reuse the rest.
 */
import { Clock, Context, Duration, Effect, Layer, LogLevel, References, Result, Tracer } from "effect"
import type { Request } from "../../protocol/Envelope.ts"
import { AuditTrail } from "../AuditTrail.ts"
import { Authenticator } from "../Authenticator.ts"
import { CommandHandlers } from "../CommandHandlers.ts"
import { CommandInterfaceConfig } from "../CommandInterfaceConfig.ts"
import type { Caller } from "../Principals.ts"
import type { IncomingRequest } from "../Socket.ts"
import { type Answer, answerOf, failed } from "./Answer.ts"
import { authorize } from "./Authorizer.ts"
import { commandLabel, recordCommand } from "../metrics/CommandMetrics.ts"
import { commandRecord, type Outcome } from "./CommandRecord.ts"
import { type Bound, makeRouter } from "./CommandRouter.ts"
import { makeIdempotency } from "./Idempotency.ts"
import { type Envelope, makeEnvelopeReader } from "./RequestEnvelope.ts"
import { type AuthenticationError, type RequestError, type ShuttingDown, UnknownCommand } from "./RequestError.ts"

/**
 * How a transport identifies the caller of a request: from the frame after the request (its credentials, if any)
 * and the request frame's exact bytes.
 */
export type IdentifyCaller = (credentials: Uint8Array | undefined, body: Uint8Array) => Result.Result<Caller, AuthenticationError>

/** Mutating answers remembered for retries; beyond this many the oldest are forgotten before their TTL. */
const REPLY_CACHE_CAPACITY = 10_000

/**
 * Each stage as a function with its own span, `RequestPipeline.<stage>`, when a tracer is installed; as it is
 * otherwise. A request passes up to seven stages after its envelope is read, within the request's own span
 * (`handleTraced` below), and their spans cost about 50 µs of CPU per request together
 * (measured in process over the in-memory socket: a `ps` took 25-30 µs without them, 75-95 µs with them), while
 * Effect's built-in tracer, in place when no other is, exports nothing. So they are made only for a tracer that
 * someone reads; which one is in place is read once, when the pipeline is built.
 *
 * The synchronous stages give a `Result`, which the flow below reads as plain code; traced, the same stage gives
 * it as an Effect within its span, and the flow reads that instead. Every Effect step in the untraced flow is paid
 * by every request, and the interpreter's steps are most of what a `ps` costs besides its JSON (bench/README.md).
 */
type Step<A, E> = Result.Result<A, E> | Effect.Effect<A, E>

const stages = (tracing: boolean) => ({
  effect: <Args extends Array<unknown>, A, E, R>(
    name: string,
    body: (...args: Args) => Effect.Effect<A, E, R>
  ): (...args: Args) => Effect.Effect<A, E, R> =>
    tracing
      ? Effect.fn(`RequestPipeline.${name}`)(function*(...args: Args) {
        return yield* body(...args)
      })
      : body,
  sync: <Args extends Array<unknown>, A, E>(
    name: string,
    body: (...args: Args) => Result.Result<A, E>
  ): (...args: Args) => Step<A, E> =>
    tracing
      ? Effect.fn(`RequestPipeline.${name}`)(function*(...args: Args) {
        return yield* Effect.fromResult(body(...args))
      })
      : body
})

/** A request's command as its span and the metrics name it: one of the catalogue's, `(unknown)` or `(malformed)`. */
const spanCommand = (envelope: Result.Result<Envelope, RequestError>): string =>
  commandLabel(
    Result.isSuccess(envelope)
      ? envelope.success.request.command
      : envelope.failure._tag === "MalformedRequest" ? envelope.failure.command : undefined
  )

/** What a request's span says of its end: the code, and who asked (`(anonymous)` when the transport names nobody). */
const outcomeAttributes = ({ answer, who }: Outcome): Record<string, unknown> =>
  who !== undefined && "allowed" in who ? { code: answer.code, principal: who.principal ?? "(anonymous)" } : { code: answer.code }

/** Goes on from a stage's outcome, however the stage gave it. */
const next = <A, E, B>(
  step: Step<A, E>,
  onFailure: (error: E) => Effect.Effect<B>,
  onSuccess: (value: A) => Effect.Effect<B>
): Effect.Effect<B> =>
  Result.isResult(step)
    ? Result.isFailure(step) ? onFailure(step.failure) : onSuccess(step.success)
    : Effect.matchEffect(step, { onFailure, onSuccess })

export class RequestPipeline extends Context.Service<RequestPipeline, {
  /**
   * Answers one request and records it; never fails. Given a `refusal`, a well-formed request is answered with
   * it instead of being executed (the server uses this while it shuts down).
   */
  readonly handle: (request: IncomingRequest, refusal?: ShuttingDown) => Effect.Effect<void>
}>()("effect-orchestrate/RequestPipeline") {
  /** The pipeline for a transport that identifies callers with `identifyCaller`. */
  static readonly make = Effect.fnUntraced(function*(identifyCaller: IdentifyCaller) {
    const handlers = yield* CommandHandlers
    const audit = yield* AuditTrail
    const { maxRequestBytes, idempotencyTtl } = yield* CommandInterfaceConfig
    // The request's timing is read from the Clock service directly: this runs for every request, and every Effect
    // step it saves is latency saved (bench/README.md).
    const clock = yield* Clock.Clock
    const tracing = (yield* References.TracerEnabled) && (yield* Tracer.Tracer) !== Tracer.nativeTracer
    const stage = stages(tracing)
    const readEnvelope = makeEnvelopeReader(maxRequestBytes)
    const route = makeRouter(handlers)
    const idempotency = makeIdempotency({
      ttlMillis: Duration.toMillis(idempotencyTtl),
      capacity: REPLY_CACHE_CAPACITY,
      now: () => clock.currentTimeMillisUnsafe()
    })

    const identifyStage = stage.sync("identifyCaller", (envelope: Envelope) => identifyCaller(envelope.credentials, envelope.body))
    const authorizeStage = stage.sync("authorize", authorize)
    const executeStage = stage.effect("execute", (bound: Bound, caller: Caller) => bound.run(caller))
    const onceStage = stage.effect("idempotency", idempotency.once)
    const recordStage = stage.effect("record", audit.record)
    const replyStage = stage.effect("reply", (incoming: IncomingRequest, answer: Answer) =>
      incoming.reply(answer.body, answer.code, answer.failure?.reply.reason))

    /** Records, answers and logs a request. */
    const finish = (incoming: IncomingRequest, outcome: Outcome, startedAt: bigint): Effect.Effect<void> => {
      const durationMs = Math.round(Number(clock.currentTimeNanosUnsafe() - startedAt) / 1e3) / 1e3
      const { answer } = outcome
      const failure = answer.failure?.error
      const command = outcome.request?.command ?? (failure?._tag === "MalformedRequest" ? failure.command : undefined)
      recordCommand(command, answer.code, incoming.origin?.transport ?? "zmq", durationMs)
      const recorded = Effect.andThen(recordStage(commandRecord(outcome, durationMs, incoming.origin)), replyStage(incoming, answer))
      const answered = tracing ? Effect.andThen(Effect.annotateCurrentSpan(outcomeAttributes(outcome)), recorded) : recorded
      // The line is made only when it is logged: it was a tenth of the bytes a `ps` allocates.
      const logged = Effect.andThen(
        answered,
        Effect.withFiber((fiber) =>
          LogLevel.isGreaterThan(fiber.cache.minimumLogLevel, "Debug")
            ? Effect.void
            : Effect.logDebug(`${command ?? "(malformed)"} -> ${answer.code} in ${durationMs} ms`)
        )
      )
      // A repeated request gets the first answer, not a second run of what came after it.
      return outcome.repeated || answer.afterReply === undefined ? logged : Effect.andThen(logged, answer.afterReply)
    }

    /**
     * Routes, authorizes and executes a request from an identified caller, at most once per id if it mutates, and
     * goes on to `then` with how it ended. A read-only command has nothing to do at most once, and goes without that
     * stage, straight from its command's end to `then`.
     */
    const run = (
      request: Request,
      caller: Caller,
      refusal: ShuttingDown | undefined,
      restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
      then: (outcome: Outcome) => Effect.Effect<void>
    ): Effect.Effect<void> => {
      const target = route(request.command)
      if (target?.mutating === true) {
        const refuse = (error: RequestError) => Effect.succeed(failed(error, request.id))
        const execute = (bound: Bound) =>
          Effect.map(Effect.exit(restore(executeStage(bound, caller))), (exit) => answerOf(exit, request.id))
        // Authorized only if it is to run: a repeat gets the first answer.
        const answered = refusal !== undefined
          ? refuse(refusal)
          : Effect.suspend(() => next(authorizeStage(caller, target, request.args), refuse, execute))
        return Effect.flatMap(onceStage(request, caller, target, answered), ({ answer, repeated }) => then({ request, who: caller, answer, repeated }))
      }
      const answered = (answer: Answer) => then({ request, who: caller, answer, repeated: false })
      const refuse = (error: RequestError) => answered(failed(error, request.id))
      if (refusal !== undefined) return refuse(refusal)
      if (target === undefined) return refuse(new UnknownCommand({ command: request.command }))
      return next(
        authorizeStage(caller, target, request.args),
        refuse,
        (bound) => Effect.flatMap(Effect.exit(restore(executeStage(bound, caller))), (exit) => answered(answerOf(exit, request.id)))
      )
    }

    /** A request refused before it could run: by its envelope (no request, no caller yet) or its identification. */
    const refused = (
      incoming: IncomingRequest,
      startedAt: bigint,
      request: Request | undefined,
      who: AuthenticationError | undefined,
      error: RequestError,
      id: string | undefined
    ) => finish(incoming, { request, who, answer: failed(error, id), repeated: false }, startedAt)

    /** Goes on from the envelope read from a request that arrived at `startedAt`. */
    const handleEnvelope = (
      incoming: IncomingRequest,
      refusal: ShuttingDown | undefined,
      startedAt: bigint,
      envelope: Step<Envelope, RequestError>,
      restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    ): Effect.Effect<void> =>
      next(
        envelope,
        (error) => refused(incoming, startedAt, undefined, undefined, error, error._tag === "MalformedRequest" ? error.id : undefined),
        (envelope) =>
          next(
            identifyStage(envelope),
            (error) => refused(incoming, startedAt, envelope.request, error, error, envelope.request.id),
            (caller) => run(envelope.request, caller, refusal, restore, (outcome) => finish(incoming, outcome, startedAt))
          )
      )

    const handle = (incoming: IncomingRequest, refusal?: ShuttingDown): Effect.Effect<void> =>
      Effect.uninterruptibleMask((restore) => {
        const startedAt = clock.currentTimeNanosUnsafe()
        return handleEnvelope(incoming, refusal, startedAt, readEnvelope(incoming.frames), restore)
      })

    /**
     * Traced, a request is one span named for its command, `orchestrate ps`, with a child per stage after the
     * envelope's: the envelope is read first, outside it, to know that name. Its attributes are `command` (as the
     * metrics label it), `transport`, and once answered `code` and `principal`. A ZeroMQ request is a trace of its
     * own; an HTTP one is within the HTTP server's span for it (which carries a client's `traceparent`).
     */
    const handleTraced = (incoming: IncomingRequest, refusal?: ShuttingDown): Effect.Effect<void> =>
      Effect.suspend(() => {
        const startedAt = clock.currentTimeNanosUnsafe()
        const envelope = readEnvelope(incoming.frames)
        const command = spanCommand(envelope)
        const transport = incoming.origin?.transport ?? "zmq"
        return Effect.uninterruptibleMask((restore) => handleEnvelope(incoming, refusal, startedAt, envelope, restore)).pipe(
          Effect.withSpan(`orchestrate ${command}`, {
            attributes: { command, transport },
            kind: transport === "zmq" ? "server" : "internal",
            root: transport === "zmq"
          }, { captureStackTrace: false })
        )
      })

    return RequestPipeline.of({ handle: tracing ? handleTraced : handle })
  })

  /** The ZeroMQ command interface's pipeline: callers identified by the Authenticator's signed requests. */
  static readonly layer: Layer.Layer<
    RequestPipeline,
    never,
    CommandHandlers | Authenticator | AuditTrail | CommandInterfaceConfig
  > = Layer.effect(RequestPipeline, Authenticator.use((authenticator) => RequestPipeline.make(authenticator.authenticate)))
}
