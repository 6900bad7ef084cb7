/**
 * What a request is answered with: the response text (`protocol/Envelope.ts`: success with `data`, or error with
 * `code`, `reason` and `error`, and the request's `id` when it had one), with the error it reports for the audit
 * record. An outcome that is neither a result nor a `RequestError` (a defect, an interruption) is reported as one.
 */
import { Cause, type Effect, Exit } from "effect"
import type { Executed } from "./CommandRouter.ts"
import { type ErrorReply, InternalError, type RequestError, ShuttingDown, toErrorReply } from "./RequestError.ts"

export interface Answer {
  readonly code: 200 | ErrorReply["code"]
  /** The response as sent. */
  readonly body: string
  /** The error it reports, and how the wire shows it. */
  readonly failure: { readonly error: RequestError; readonly reply: ErrorReply } | undefined
  /** What to do once the answer has been sent. */
  readonly afterReply: Effect.Effect<void> | undefined
}

// Written around the result's text, as JSON.stringify writes `{ status, data, id }`: this runs for every request.
export const succeeded = (executed: Executed, id: string | undefined): Answer => ({
  code: 200,
  body: id === undefined
    ? `{"status":"success","data":${executed.json}}`
    : `{"status":"success","data":${executed.json},"id":${JSON.stringify(id)}}`,
  failure: undefined,
  afterReply: executed.afterReply
})

export const failed = (error: RequestError, id: string | undefined): Answer => {
  const reply = toErrorReply(error)
  const response = { status: "error", code: reply.code, error: reply.error, reason: reply.reason }
  return {
    code: reply.code,
    body: JSON.stringify(id === undefined ? response : { ...response, id }),
    failure: { error, reply },
    afterReply: undefined
  }
}

/** A command's outcome as its answer: a defect is an `InternalError`, an interruption the server `ShuttingDown`. */
export const answerOf = (exit: Exit.Exit<Executed, RequestError>, id: string | undefined): Answer => {
  if (Exit.isSuccess(exit)) return succeeded(exit.value, id)
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "Some") return failed(error.value, id)
  if (Cause.hasDies(exit.cause)) return failed(new InternalError({ cause: Cause.squash(exit.cause) }), id)
  return failed(new ShuttingDown({ kind: "Interrupted" }), id)
}
