/**
 * Reading the envelope: a message's frames to a `Request`. The `Request` (command, arguments, id and reason, as
 * `protocol/Envelope.ts` defines it) is what every later stage and the audit record know of the request; the
 * frame after it, if any, is the transport's proof of who sent it, left to the transport to read.
 *
 * Checks run cheapest and most fundamental first: frame count, size (before anything is parsed), UTF-8, JSON, a
 * JSON object, nesting depth, then the schema. Synchronous on purpose: it runs for every request, and every Effect
 * step saved is latency saved (bench/README.md).
 */
import { Predicate, Result, Schema } from "effect"
import { truncateUtf8 } from "../../events/truncate.ts"
import { MAX_REASON_LENGTH, MAX_REQUEST_ID_LENGTH, Request, RequestId } from "../../protocol/Envelope.ts"
import { checkJsonLimits } from "../../protocol/jsonLimits.ts"
import { redactSecretsInText } from "../../protocol/redact.ts"
import {
  EmptyRequest,
  InvalidEnvelope,
  MalformedRequest,
  NestedTooDeep,
  NotAnObject,
  NotJson,
  NotUtf8,
  RequestTooLarge,
  TooManyFrames
} from "./RequestError.ts"

/** Deepest JSON nesting accepted in a request. */
export const MAX_JSON_DEPTH = 32

/** A well-formed request, with the bytes its sender is identified by. */
export interface Envelope {
  readonly request: Request
  /** The request frame's exact bytes: what a signature covers. */
  readonly body: Uint8Array
  /** The frame after the request, if any: with CURVE, the authentication frame. */
  readonly credentials: Uint8Array | undefined
}

export type EnvelopeError = MalformedRequest | RequestTooLarge

const utf8 = new TextDecoder("utf-8", { fatal: true })
// Every problem at once, unknown keys refused (a typo must not be silently ignored), the offending value quoted.
const decodeRequest = Schema.decodeUnknownResult(Request, { errors: "all", onExcessProperty: "error", reportInput: true })
const isRequestId = Schema.is(RequestId)

/**
 * The request `value` is, when it is one as plainly as nearly every request is: no member but `command`, `args`,
 * `id` and `reason`, each of its type and within its limits. Anything else is left to the schema, which says what
 * is wrong with it. Decoding with the schema was most of this stage's cost, about 2 µs a request;
 * test/server/envelope.test.ts checks on generated values that this accepts nothing the schema refuses and gives
 * what it gives.
 */
export const plainRequest = (value: Readonly<Record<string, unknown>>): Request | undefined => {
  let command: string | undefined
  let args: ReadonlyArray<unknown> | undefined
  let id: string | undefined
  let reason: string | undefined
  for (const key in value) {
    const member = value[key]
    switch (key) {
      case "command":
        if (typeof member !== "string") return undefined
        command = member
        break
      case "args":
        if (!Array.isArray(member)) return undefined
        args = member
        break
      case "id":
        if (typeof member !== "string" || member.length < 1 || member.length > MAX_REQUEST_ID_LENGTH) return undefined
        id = member
        break
      case "reason":
        if (typeof member !== "string" || member.length < 1 || member.length > MAX_REASON_LENGTH) return undefined
        reason = member
        break
      default:
        return undefined
    }
  }
  if (command === undefined) return undefined
  const request: { command: string; args: ReadonlyArray<unknown>; id?: string; reason?: string } = { command, args: args ?? [] }
  if (id !== undefined) request.id = id
  if (reason !== undefined) request.reason = reason
  return request
}

/** The start of what was received, for the audit record of a request refused here; secret-named members redacted. */
const receivedOf = (text: string) => truncateUtf8(redactSecretsInText(text.slice(0, 1024)), 256)

/** Reads envelopes of at most `maxRequestBytes`. */
export const makeEnvelopeReader = (maxRequestBytes: number) =>
(frames: ReadonlyArray<Uint8Array>): Result.Result<Envelope, EnvelopeError> => {
  const [frame, credentials, ...more] = frames
  if (frame === undefined || (frame.length === 0 && credentials === undefined)) {
    return Result.fail(new MalformedRequest({ reason: new EmptyRequest({}) }))
  }
  if (more.length > 0) return Result.fail(new MalformedRequest({ reason: new TooManyFrames({ frames: frames.length }) }))
  if (frame.length > maxRequestBytes) return Result.fail(new RequestTooLarge({ size: frame.length, limit: maxRequestBytes }))
  let text: string
  try {
    text = utf8.decode(frame)
  } catch {
    return Result.fail(new MalformedRequest({ reason: new NotUtf8({}) }))
  }
  let value: unknown
  try {
    // Parsed before decoding, not with Schema.fromJsonString: the nesting check below must see the value before
    // the schema recurses into it (see protocol/jsonLimits.ts).
    value = JSON.parse(text)
  } catch (cause) {
    // JSON.parse throws a SyntaxError for any text it cannot read, and nothing else.
    if (!(cause instanceof SyntaxError)) throw cause
    return Result.fail(new MalformedRequest({ reason: new NotJson({ cause }), received: receivedOf(text) }))
  }
  if (!Predicate.isObject(value)) {
    return Result.fail(new MalformedRequest({ reason: new NotAnObject({}), received: receivedOf(text) }))
  }
  const idOf = () => Predicate.hasProperty(value, "id") && isRequestId(value.id) ? { id: value.id } : {}
  // A text nests at most half its length deep (each level opens and closes), so short ones need no check.
  if (frame.length >= 2 * (MAX_JSON_DEPTH + 1) && checkJsonLimits(value, { maxDepth: MAX_JSON_DEPTH }) !== undefined) {
    return Result.fail(new MalformedRequest({ reason: new NestedTooDeep({ maxDepth: MAX_JSON_DEPTH }), ...idOf(), received: receivedOf(text) }))
  }
  const plain = plainRequest(value)
  if (plain !== undefined) return Result.succeed({ request: plain, body: frame, credentials })
  const decoded = decodeRequest(value)
  if (Result.isFailure(decoded)) {
    const command = Predicate.hasProperty(value, "command") && typeof value.command === "string" ? { command: value.command } : {}
    return Result.fail(
      new MalformedRequest({ reason: new InvalidEnvelope({ cause: decoded.failure }), ...idOf(), ...command, received: receivedOf(text) })
    )
  }
  return Result.succeed({ request: decoded.success, body: frame, credentials })
}
