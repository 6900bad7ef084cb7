/**
 * The request and response envelopes: one ZeroMQ frame of UTF-8 JSON each way.
 */
import { Effect, Schema } from "effect"

/** The longest client request id the server accepts; ids are echoed back and keyed on for retries. */
export const MAX_REQUEST_ID_LENGTH = 128

export const RequestId = Schema.String.check(Schema.isBetweenLength(1, MAX_REQUEST_ID_LENGTH))

/** The longest `reason` a request may give. */
export const MAX_REASON_LENGTH = 500

/**
 * `{"command": string, "args"?: array, "id"?: string, "reason"?: string}`; a missing `args` means `[]`. `reason`
 * says why the operator asks (it is kept in the audit trail); a request with an `id` the server has already
 * executed within its idempotency TTL is answered with the first reply rather than run again.
 */
export const Request = Schema.Struct({
  command: Schema.String,
  args: Schema.Array(Schema.Unknown).pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
  id: Schema.optionalKey(RequestId),
  reason: Schema.optionalKey(Schema.String.check(Schema.isBetweenLength(1, MAX_REASON_LENGTH)))
})
export type Request = typeof Request.Type

/** The status codes the server answers with. */
export const ErrorCode = Schema.Literals([400, 403, 500])
export type ErrorCode = typeof ErrorCode.Type

/**
 * The stable, machine-readable tags of every error the server sends. Clients should branch on these, not on the
 * human-readable `error` text.
 */
export const ErrorReason = Schema.Literals([
  "MalformedRequest",
  "RequestTooLarge",
  "UnknownCommand",
  "AuthenticationFailed",
  "NotAllowed",
  "InvalidArguments",
  "AgentNotFound",
  "ExecutionFailed",
  "ReloadFailed",
  "ShuttingDown",
  "InternalError"
])
export type ErrorReason = typeof ErrorReason.Type

export const SuccessResponse = Schema.Struct({
  status: Schema.Literal("success"),
  data: Schema.Unknown,
  id: Schema.optionalKey(Schema.String)
})
export type SuccessResponse = typeof SuccessResponse.Type

/**
 * `reason` is read as any string so that an older client still understands a newer server's errors; the server
 * only ever sends an `ErrorReason`.
 */
export const ErrorResponse = Schema.Struct({
  status: Schema.Literal("error"),
  code: ErrorCode,
  error: Schema.String,
  reason: Schema.String,
  id: Schema.optionalKey(Schema.String)
})
export type ErrorResponse = typeof ErrorResponse.Type

export const Response = Schema.Union([SuccessResponse, ErrorResponse])
export type Response = typeof Response.Type
