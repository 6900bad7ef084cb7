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
import { Request, RequestId } from "../../protocol/Envelope.ts"
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
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return Result.fail(new MalformedRequest({ reason: new NotAnObject({}), received: receivedOf(text) }))
  }
  const id = Predicate.hasProperty(value, "id") && isRequestId(value.id) ? { id: value.id } : {}
  if (checkJsonLimits(value, { maxDepth: MAX_JSON_DEPTH }) !== undefined) {
    return Result.fail(new MalformedRequest({ reason: new NestedTooDeep({ maxDepth: MAX_JSON_DEPTH }), ...id, received: receivedOf(text) }))
  }
  const decoded = decodeRequest(value)
  if (Result.isFailure(decoded)) {
    const command = Predicate.hasProperty(value, "command") && typeof value.command === "string" ? { command: value.command } : {}
    return Result.fail(
      new MalformedRequest({ reason: new InvalidEnvelope({ cause: decoded.failure }), ...id, ...command, received: receivedOf(text) })
    )
  }
  return Result.succeed({ request: decoded.success, body: frame, credentials })
}
