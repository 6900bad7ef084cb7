/**
 * The life of one request: check the envelope, then who sent it, the command name, whether the caller may run
 * it, and the arguments, in that order (so a refused command never has its arguments inspected); execute,
 * at most once per request id for a mutating command; encode the result; record the audit event; answer; log.
 * Every request gets exactly one answer and one audit record, whatever happens, including a defect in a handler
 * or the server shutting down mid-command.
 */
import { Cause, Clock, Context, Duration, Effect, Exit, Layer, Predicate, Result, Schema } from "effect"
import { truncateUtf8 } from "../events/truncate.ts"
import { type CommandName, Commands, commandNames, isCommandName, type ResultOf } from "../protocol/Commands.ts"
import { Request, RequestId } from "../protocol/Envelope.ts"
import { fastEncoders } from "../protocol/fastEncode.ts"
import { formatIssues } from "../protocol/issues.ts"
import { checkJsonLimits } from "../protocol/jsonLimits.ts"
import type { Severity } from "../protocol/Model.ts"
import { redactSecrets, redactSecretsInText } from "../protocol/redact.ts"
import { AuditTrail } from "./AuditTrail.ts"
import { type AuthenticationError, Authenticator } from "./Authenticator.ts"
import { CommandHandlers } from "./CommandHandlers.ts"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"
import {
  type CommandFailure,
  defectReply,
  type ErrorReply,
  InvalidArguments,
  MalformedRequest,
  NotAllowed,
  type RequestError,
  RequestTooLarge,
  ShuttingDown,
  toErrorReply,
  UnknownCommand
} from "./errors.ts"
import { type Caller, targetRefusal } from "./Principals.ts"
import { makeReplyCache } from "./ReplyCache.ts"
import type { IncomingRequest } from "./Socket.ts"

/** Deepest JSON nesting accepted in a request. */
export const MAX_JSON_DEPTH = 32

const utf8 = new TextDecoder("utf-8", { fatal: true })
const decodeRequest = Schema.decodeUnknownResult(Request)
const isRequestId = Schema.is(RequestId)
// Every problem at once, unknown keys refused (a typo must not be silently ignored), the offending value quoted.
const strict = { errors: "all", onExcessProperty: "error", reportInput: true } as const

/** Mutating replies remembered for retries; beyond this many the oldest are forgotten before their TTL. */
const REPLY_CACHE_CAPACITY = 10_000

/** What is known of a request once its envelope is read, for the answer and the audit record. */
interface Envelope {
  readonly id: string | undefined
  readonly command: string | null
  readonly args: ReadonlyArray<unknown> | null
  readonly reason?: string | undefined
}

/** A well-formed request, with the frames its sender is authenticated by. */
interface Read extends Envelope {
  readonly request: Request
  readonly body: Uint8Array
  readonly auth: Uint8Array | undefined
}

interface Rejected extends Envelope {
  readonly error: MalformedRequest | RequestTooLarge
  /** The start of what was received, kept in the audit record of a malformed request. */
  readonly received?: string
}

const malformed = (detail: string, extra: Partial<Rejected> = {}): Rejected => ({
  id: undefined,
  command: null,
  args: null,
  error: new MalformedRequest({ detail }),
  ...extra
})

const readEnvelope = (frames: ReadonlyArray<Uint8Array>, maxBytes: number): Result.Result<Read, Rejected> => {
  const [frame, auth, ...more] = frames
  if (frame === undefined || (frame.length === 0 && auth === undefined)) return Result.fail(malformed("empty request"))
  if (more.length > 0) {
    return Result.fail(malformed(`expected one frame (two with CURVE authentication), got ${frames.length}`))
  }
  if (frame.length > maxBytes) {
    return Result.fail({ ...malformed(""), error: new RequestTooLarge({ size: frame.length, limit: maxBytes }) })
  }
  let text: string
  try {
    text = utf8.decode(frame)
  } catch {
    return Result.fail(malformed("request is not valid UTF-8"))
  }
  // Only for the audit record of a request that is refused here; secret-named members are redacted first.
  const received = () => truncateUtf8(redactSecretsInText(text.slice(0, 1024)), 256)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return Result.fail(malformed(`not valid JSON (${error instanceof Error ? error.message : String(error)})`, { received: received() }))
  }
  const id = Predicate.hasProperty(value, "id") && isRequestId(value.id) ? value.id : undefined
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return Result.fail(malformed("expected a JSON object", { received: received() }))
  }
  if (checkJsonLimits(value, { maxDepth: MAX_JSON_DEPTH }) !== undefined) {
    return Result.fail(malformed(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`, { id, received: received() }))
  }
  const decoded = decodeRequest(value, strict)
  if (Result.isFailure(decoded)) {
    const command = Predicate.hasProperty(value, "command") && typeof value.command === "string" ? value.command : null
    return Result.fail(malformed(formatIssues(decoded.failure), { id, command, received: received() }))
  }
  const request = decoded.success
  return Result.succeed({
    id: request.id,
    command: request.command,
    args: request.args,
    reason: request.reason,
    request,
    body: frame,
    auth
  })
}

interface Executed {
  readonly data: unknown
  readonly afterReply: Effect.Effect<void> | undefined
}

type Runner = (
  args: ReadonlyArray<unknown>,
  caller: Caller
) => Effect.Effect<Executed, InvalidArguments | NotAllowed | CommandFailure>

const auditEvent = (code: number): { readonly eventName: string; readonly severity: Severity } =>
  code < 400
    ? { eventName: "COMMAND_EXECUTED", severity: "info" }
    : code === 403
    ? { eventName: "COMMAND_REJECTED", severity: "warning" }
    : { eventName: "COMMAND_FAILED", severity: code >= 500 ? "error" : "warning" }

/** The response to send, and what the audit record says of it. */
interface Answer {
  readonly code: number
  readonly body: string
  readonly failure?: ErrorReply
  readonly afterReply?: Effect.Effect<void> | undefined
}

const withId = <A extends object>(body: A, id: string | undefined) => id === undefined ? body : { ...body, id }

const failed = (failure: ErrorReply, id: string | undefined): Answer => ({
  code: failure.code,
  failure,
  body: JSON.stringify(withId({ status: "error", code: failure.code, error: failure.error, reason: failure.reason }, id))
})

/** Whether a repeat of the request should get this answer: only if the command ran (or started to). */
const worthRepeating = (answer: Answer): boolean =>
  answer.code === 200 || (answer.code === 500 && answer.failure?.reason !== "ShuttingDown")

/** Who the audit record names: the principal, or the key a request that failed authentication claimed. */
const whoOf = (caller: Caller | AuthenticationError | undefined) => {
  if (caller === undefined) return { principal: null }
  if ("allowed" in caller) {
    return caller.keyFingerprint === null
      ? { principal: caller.principal }
      : { principal: caller.principal, key_fingerprint: caller.keyFingerprint }
  }
  return caller._tag === "AuthenticationFailed" && caller.keyFingerprint !== undefined
    ? { principal: null, key_fingerprint: caller.keyFingerprint }
    : { principal: null }
}

const answerOf = (exit: Exit.Exit<Executed, RequestError>, id: string | undefined): Answer => {
  if (Exit.isSuccess(exit)) {
    return {
      code: 200,
      body: JSON.stringify(withId({ status: "success", data: exit.value.data }, id)),
      afterReply: exit.value.afterReply
    }
  }
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "Some") return failed(toErrorReply(error.value), id)
  if (Cause.hasDies(exit.cause)) return failed(defectReply(Cause.squash(exit.cause)), id)
  return failed(toErrorReply(new ShuttingDown({ detail: "Server shut down before the command completed" })), id)
}

export class RequestHandler extends Context.Service<RequestHandler, {
  /**
   * Answers one request and records it; never fails. Given a `refusal`, a well-formed request is answered with
   * it instead of being executed (the server uses this while it shuts down).
   */
  readonly handle: (request: IncomingRequest, refusal?: ShuttingDown) => Effect.Effect<void>
}>()("effect-orchestrate/RequestHandler") {
  static readonly layer: Layer.Layer<
    RequestHandler,
    never,
    CommandHandlers | Authenticator | AuditTrail | CommandInterfaceConfig
  > = Layer.effect(
    RequestHandler,
    Effect.gen(function*() {
      const handlers = yield* CommandHandlers
      const authenticator = yield* Authenticator
      const audit = yield* AuditTrail
      const { maxRequestBytes, idempotencyTtl } = yield* CommandInterfaceConfig
      // The request's timing is read from the Clock service directly: the handler runs for every request, and
      // every Effect step it saves is latency saved (bench/README.md).
      const clock = yield* Clock.Clock
      const replies = makeReplyCache<Answer>({
        ttlMillis: Duration.toMillis(idempotencyTtl),
        capacity: REPLY_CACHE_CAPACITY,
        keep: worthRepeating,
        now: () => clock.currentTimeMillisUnsafe()
      })

      const makeRunner = <K extends CommandName>(name: K): Runner => {
        const spec: Commands[K] = Commands[name]
        const handler: CommandHandlers["Service"][K] = handlers[name]
        const decodeArgs = Schema.decodeUnknownEffect(spec.args)
        const fast: ((result: ResultOf<K>) => unknown) | undefined = fastEncoders[name]
        // A result that does not fit its own schema is a bug in the handler: a defect, reported as 500.
        const encodeResult = fast === undefined
          ? (result: ResultOf<K>) => Effect.orDie(Schema.encodeEffect(spec.result)(result))
          : (result: ResultOf<K>) => Effect.sync(() => fast(result))
        return (args, caller) =>
          decodeArgs(args, strict).pipe(
            Effect.mapError((error) => new InvalidArguments({ command: name, detail: formatIssues(error, "args") })),
            Effect.tap((decoded) => {
              const refusal = targetRefusal(caller, name, decoded)
              return refusal === undefined
                ? Effect.void
                : Effect.fail(new NotAllowed({ command: name, principal: caller.principal, detail: refusal }))
            }),
            Effect.flatMap((decoded) => handler(decoded, caller)),
            Effect.flatMap((reply) => Effect.map(encodeResult(reply.data), (data) => ({ data, afterReply: reply.afterReply })))
          )
      }
      const runners = new Map<string, Runner>(commandNames.map((name) => [name, makeRunner(name)]))

      const execute = (request: Request, caller: Caller): Effect.Effect<Executed, RequestError> => {
        const runner = runners.get(request.command)
        if (runner === undefined || !isCommandName(request.command)) {
          return Effect.fail(new UnknownCommand({ command: request.command }))
        }
        if (!caller.mayRun(request.command)) {
          return Effect.fail(new NotAllowed({ command: request.command, principal: caller.principal }))
        }
        return runner(request.args, caller)
      }

      interface Outcome {
        readonly answer: Answer
        readonly who: Caller | AuthenticationError | undefined
        readonly repeated?: boolean
        readonly received?: string | undefined
      }

      const record = (envelope: Envelope, outcome: Outcome, durationMs: number) => {
        const { answer, received } = outcome
        const { eventName, severity } = auditEvent(answer.code)
        return audit.record({
          eventName,
          severity,
          data: {
            command: envelope.command,
            args: envelope.args === null ? null : redactSecrets(envelope.args),
            code: answer.code,
            duration_ms: durationMs,
            ...whoOf(outcome.who),
            ...(envelope.id === undefined ? {} : { request_id: envelope.id }),
            ...(envelope.reason === undefined ? {} : { reason: envelope.reason }),
            ...(answer.failure === undefined ? {} : { error_reason: answer.failure.reason, error: answer.failure.error }),
            ...(outcome.repeated === true ? { repeated: true } : {}),
            ...(received === undefined ? {} : { received })
          }
        })
      }

      /** Records, answers and logs a request: never interrupted, so no request goes unanswered or unrecorded. */
      const finish = (incoming: IncomingRequest, envelope: Envelope, outcome: Outcome, startedAt: bigint) =>
        Effect.suspend(() => {
          const durationMs = Math.round(Number(clock.currentTimeNanosUnsafe() - startedAt) / 1e3) / 1e3
          const command = envelope.command ?? "(malformed)"
          const { answer } = outcome
          return record(envelope, outcome, durationMs).pipe(
            Effect.andThen(incoming.reply(answer.body)),
            Effect.catch((error) => Effect.logWarning("could not send a reply", error.message)),
            Effect.andThen(Effect.logDebug(`${command} -> ${answer.code} in ${durationMs} ms`)),
            // A repeated request gets the first reply, not a second run of what came after it.
            Effect.andThen(outcome.repeated === true ? Effect.void : answer.afterReply ?? Effect.void)
          )
        })

      const handle = (incoming: IncomingRequest, refusal?: ShuttingDown): Effect.Effect<void> => {
        const startedAt = clock.currentTimeNanosUnsafe()
        const read = readEnvelope(incoming.frames, maxRequestBytes)
        if (Result.isFailure(read)) {
          const rejected = read.failure
          const answer = failed(toErrorReply(rejected.error), rejected.id)
          return Effect.uninterruptible(finish(incoming, rejected, { answer, who: undefined, received: rejected.received }, startedAt))
        }
        const envelope = read.success
        const identified = authenticator.authenticate(envelope.auth, envelope.body)
        if (Result.isFailure(identified)) {
          const answer = failed(toErrorReply(identified.failure), envelope.id)
          return Effect.uninterruptible(finish(incoming, envelope, { answer, who: identified.failure }, startedAt))
        }
        const caller = identified.success
        const command = refusal === undefined ? execute(envelope.request, caller) : Effect.fail(refusal)
        // Only the command itself may be interrupted; answering and recording always complete.
        return Effect.uninterruptibleMask((restore) => {
          const run = Effect.map(Effect.exit(restore(command)), (exit) => answerOf(exit, envelope.id))
          const name = envelope.request.command
          const once = envelope.id !== undefined && isCommandName(name) && Commands[name].mutating
            ? replies.once(JSON.stringify([caller.principal, envelope.id, name, envelope.args]), run)
            : Effect.map(run, (value) => ({ value, repeated: false }))
          return Effect.flatMap(once, ({ value, repeated }) =>
            finish(incoming, envelope, { answer: value, who: caller, repeated }, startedAt))
        })
      }

      return RequestHandler.of({ handle })
    })
  )
}
