/**
 * The life of one request: check the envelope, then the command name, the whitelist and the arguments, in that
 * order (so a refused command never has its arguments inspected); execute; encode the result; record the audit
 * event; answer; log. Every request gets exactly one answer and one audit record, whatever happens, including
 * a defect in a handler or the server shutting down mid-command.
 */
import { Cause, Clock, Context, Effect, Exit, Layer, Predicate, Result, Schema } from "effect"
import { EventCategory, EventStore } from "../events/EventStore.ts"
import { truncateUtf8 } from "../events/truncate.ts"
import { type CommandName, Commands, commandNames, isCommandName, type ResultOf } from "../protocol/Commands.ts"
import { Request, RequestId } from "../protocol/Envelope.ts"
import { fastEncoders } from "../protocol/fastEncode.ts"
import { formatIssues } from "../protocol/issues.ts"
import type { Severity } from "../protocol/Model.ts"
import { CommandHandlers } from "./CommandHandlers.ts"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"
import {
  type CommandFailure,
  defectReply,
  type ErrorReply,
  InvalidArguments,
  MalformedRequest,
  type RequestError,
  RequestTooLarge,
  ShuttingDown,
  toErrorReply,
  UnknownCommand
} from "./errors.ts"
import type { IncomingRequest } from "./Socket.ts"
import { Whitelist } from "./Whitelist.ts"

/** Deepest JSON nesting accepted in a request. */
export const MAX_JSON_DEPTH = 32

const utf8 = new TextDecoder("utf-8", { fatal: true })
const decodeRequest = Schema.decodeUnknownResult(Request)
const isRequestId = Schema.is(RequestId)
// Every problem at once, unknown keys refused (a typo must not be silently ignored), the offending value quoted.
const strict = { errors: "all", onExcessProperty: "error", reportInput: true } as const

const nestedDeeperThan = (value: unknown, max: number): boolean => {
  const pending: Array<readonly [unknown, number]> = [[value, 1]]
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const [node, depth] = item
    if (typeof node !== "object" || node === null) continue
    if (depth > max) return true
    for (const child of Array.isArray(node) ? node : Object.values(node)) pending.push([child, depth + 1])
  }
  return false
}

/** What is known of a request once its envelope is read, for the answer and the audit record. */
interface Envelope {
  readonly id: string | undefined
  readonly command: string | null
  readonly args: ReadonlyArray<unknown> | null
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

const readEnvelope = (
  frames: ReadonlyArray<Uint8Array>,
  maxBytes: number
): Result.Result<Envelope & { readonly request: Request }, Rejected> => {
  const [frame, ...more] = frames
  if (frame === undefined || (frame.length === 0 && more.length === 0)) return Result.fail(malformed("empty request"))
  if (more.length > 0) return Result.fail(malformed(`expected one frame, got ${frames.length}`))
  if (frame.length > maxBytes) {
    return Result.fail({ ...malformed(""), error: new RequestTooLarge({ size: frame.length, limit: maxBytes }) })
  }
  let text: string
  try {
    text = utf8.decode(frame)
  } catch {
    return Result.fail(malformed("request is not valid UTF-8"))
  }
  const received = truncateUtf8(text, 256)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return Result.fail(malformed(`not valid JSON (${error instanceof Error ? error.message : String(error)})`, { received }))
  }
  const id = Predicate.hasProperty(value, "id") && isRequestId(value.id) ? value.id : undefined
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return Result.fail(malformed("expected a JSON object", { received }))
  }
  if (nestedDeeperThan(value, MAX_JSON_DEPTH)) {
    return Result.fail(malformed(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`, { id, received }))
  }
  const decoded = decodeRequest(value, strict)
  if (Result.isFailure(decoded)) {
    const command = Predicate.hasProperty(value, "command") && typeof value.command === "string" ? value.command : null
    return Result.fail(malformed(formatIssues(decoded.failure), { id, command, received }))
  }
  const request = decoded.success
  return Result.succeed({ id: request.id, command: request.command, args: request.args, request })
}

interface Executed {
  readonly data: unknown
  readonly afterReply: Effect.Effect<void> | undefined
}

type Runner = (args: ReadonlyArray<unknown>) => Effect.Effect<Executed, InvalidArguments | CommandFailure>

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
    CommandHandlers | Whitelist | EventStore | CommandInterfaceConfig
  > = Layer.effect(
    RequestHandler,
    Effect.gen(function*() {
      const handlers = yield* CommandHandlers
      const whitelist = yield* Whitelist
      const events = yield* EventStore
      const { maxRequestBytes } = yield* CommandInterfaceConfig

      const makeRunner = <K extends CommandName>(name: K): Runner => {
        const spec: Commands[K] = Commands[name]
        const handler: CommandHandlers["Service"][K] = handlers[name]
        const decodeArgs = Schema.decodeUnknownEffect(spec.args)
        const fast: ((result: ResultOf<K>) => unknown) | undefined = fastEncoders[name]
        // A result that does not fit its own schema is a bug in the handler: a defect, reported as 500.
        const encodeResult = fast === undefined
          ? (result: ResultOf<K>) => Effect.orDie(Schema.encodeEffect(spec.result)(result))
          : (result: ResultOf<K>) => Effect.sync(() => fast(result))
        return (args) =>
          decodeArgs(args, strict).pipe(
            Effect.mapError((error) => new InvalidArguments({ command: name, detail: formatIssues(error, "args") })),
            Effect.flatMap(handler),
            Effect.flatMap((reply) => Effect.map(encodeResult(reply.data), (data) => ({ data, afterReply: reply.afterReply })))
          )
      }
      const runners = new Map<string, Runner>(commandNames.map((name) => [name, makeRunner(name)]))

      const execute = (request: Request): Effect.Effect<Executed, RequestError> => {
        const runner = runners.get(request.command)
        if (runner === undefined || !isCommandName(request.command)) {
          return Effect.fail(new UnknownCommand({ command: request.command }))
        }
        return Effect.andThen(whitelist.check(request.command), runner(request.args))
      }

      const record = (envelope: Envelope, answer: Answer, durationMs: number, received: string | undefined) => {
        const { eventName, severity } = auditEvent(answer.code)
        return events.record({
          eventName,
          category: EventCategory.command,
          severity,
          data: {
            command: envelope.command,
            args: envelope.args,
            code: answer.code,
            duration_ms: durationMs,
            ...(envelope.id === undefined ? {} : { request_id: envelope.id }),
            ...(answer.failure === undefined ? {} : { reason: answer.failure.reason, error: answer.failure.error }),
            ...(received === undefined ? {} : { received })
          }
        })
      }

      // The request's timing is read from the Clock service directly: the handler runs for every request, and
      // every Effect step it saves is latency saved (bench/README.md).
      const clock = yield* Clock.Clock

      /** Records, answers and logs a request: never interrupted, so no request goes unanswered or unrecorded. */
      const finish = (
        incoming: IncomingRequest,
        envelope: Envelope,
        answer: Answer,
        startedAt: bigint,
        received: string | undefined
      ) =>
        Effect.suspend(() => {
          const durationMs = Math.round(Number(clock.currentTimeNanosUnsafe() - startedAt) / 1e3) / 1e3
          const command = envelope.command ?? "(malformed)"
          return record(envelope, answer, durationMs, received).pipe(
            Effect.andThen(incoming.reply(answer.body)),
            Effect.catch((error) => Effect.logWarning("could not send a reply", error.message)),
            Effect.andThen(Effect.logDebug(`${command} -> ${answer.code} in ${durationMs} ms`)),
            Effect.andThen(answer.afterReply ?? Effect.void)
          )
        })

      const handle = (incoming: IncomingRequest, refusal?: ShuttingDown): Effect.Effect<void> => {
        const startedAt = clock.currentTimeNanosUnsafe()
        const read = readEnvelope(incoming.frames, maxRequestBytes)
        if (Result.isFailure(read)) {
          const rejected = read.failure
          return Effect.uninterruptible(
            finish(incoming, rejected, failed(toErrorReply(rejected.error), rejected.id), startedAt, rejected.received)
          )
        }
        const envelope = read.success
        const command = refusal === undefined ? execute(envelope.request) : Effect.fail(refusal)
        // Only the command itself may be interrupted; answering and recording always complete.
        return Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(Effect.exit(restore(command)), (exit) =>
            finish(incoming, envelope, answerOf(exit, envelope.id), startedAt, undefined))
        )
      }

      return RequestHandler.of({ handle })
    })
  )
}
