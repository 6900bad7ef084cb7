/**
 * Why a request was not executed, as typed errors, and the one place where each becomes a status code, a stable
 * reason tag and a message on the wire.
 */
import { Match, Schema } from "effect"
import type { AgentControlError } from "../ports/errors.ts"
import type { ErrorCode, ErrorReason } from "../protocol/Envelope.ts"

/** Not one frame of UTF-8 JSON with a string `command`: the envelope itself is wrong. */
export class MalformedRequest extends Schema.TaggedError<MalformedRequest>()("MalformedRequest", {
  detail: Schema.String
}) {
  override get message(): string {
    return `Invalid command format: ${this.detail}`
  }
}

export class RequestTooLarge extends Schema.TaggedError<RequestTooLarge>()("RequestTooLarge", {
  size: Schema.Int,
  limit: Schema.Int
}) {
  override get message(): string {
    return `Request too large: ${this.size} bytes exceeds the limit of ${this.limit} bytes`
  }
}

export class UnknownCommand extends Schema.TaggedError<UnknownCommand>()("UnknownCommand", {
  command: Schema.String
}) {
  override get message(): string {
    return `Unknown command '${this.command}'`
  }
}

export class NotAllowed extends Schema.TaggedError<NotAllowed>()("NotAllowed", {
  command: Schema.String,
  /** The principal refused, when the server authenticates callers. */
  principal: Schema.optionalKey(Schema.NullOr(Schema.String)),
  /** Why, when it is more than the command itself: the agent it would act on. */
  detail: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    const who = this.principal === undefined || this.principal === null ? "" : ` for '${this.principal}'`
    return `Command '${this.command}' not allowed${who}${this.detail === undefined ? "" : `: ${this.detail}`}`
  }
}

/** A CURVE server could not tell who sent a request: unsigned, unknown key, bad signature, stale or replayed. */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>()("AuthenticationFailed", {
  detail: Schema.String,
  /** The fingerprint of the key the request claimed, when it named one. */
  keyFingerprint: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    return `Authentication failed: ${this.detail}`
  }
}

export class InvalidArguments extends Schema.TaggedError<InvalidArguments>()("InvalidArguments", {
  command: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Invalid arguments for '${this.command}': ${this.detail}`
  }
}

/** A command that ran and could not do what it was asked. */
export class ExecutionFailed extends Schema.TaggedError<ExecutionFailed>()("ExecutionFailed", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/** The server is stopping: it no longer starts commands, or stopped one before it finished. */
export class ShuttingDown extends Schema.TaggedError<ShuttingDown>()("ShuttingDown", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/** What a command's execution may fail with. */
export type CommandFailure = AgentControlError | ExecutionFailed

export type RequestError =
  | MalformedRequest
  | RequestTooLarge
  | UnknownCommand
  | AuthenticationFailed
  | NotAllowed
  | InvalidArguments
  | CommandFailure
  | ShuttingDown

export interface ErrorReply {
  readonly code: ErrorCode
  readonly reason: ErrorReason
  readonly error: string
}

const failedToExecute = (reason: ErrorReason, cause: string): ErrorReply => ({
  code: 500,
  reason,
  error: `Failed to execute command: ${cause}`
})

export const toErrorReply: (error: RequestError) => ErrorReply = Match.type<RequestError>().pipe(
  Match.tagsExhaustive({
    MalformedRequest: (e): ErrorReply => ({ code: 400, reason: "MalformedRequest", error: e.message }),
    RequestTooLarge: (e): ErrorReply => ({ code: 400, reason: "RequestTooLarge", error: e.message }),
    UnknownCommand: (e): ErrorReply => ({ code: 400, reason: "UnknownCommand", error: e.message }),
    InvalidArguments: (e): ErrorReply => ({ code: 400, reason: "InvalidArguments", error: e.message }),
    AuthenticationFailed: (e): ErrorReply => ({ code: 403, reason: "AuthenticationFailed", error: e.message }),
    NotAllowed: (e): ErrorReply => ({ code: 403, reason: "NotAllowed", error: e.message }),
    AgentNotFound: (e) => failedToExecute("AgentNotFound", e.message),
    InvalidTransition: (e) => failedToExecute("ExecutionFailed", e.message),
    OrchestratorStopping: (e) => failedToExecute("ShuttingDown", e.message),
    StartFailed: (e) => failedToExecute("ExecutionFailed", e.message),
    DependencyUnavailable: (e) => failedToExecute("ExecutionFailed", e.message),
    ExecutionFailed: (e) => failedToExecute("ExecutionFailed", e.message),
    ShuttingDown: (e): ErrorReply => ({ code: 500, reason: "ShuttingDown", error: e.message })
  })
)

/** A defect inside a handler: reported, never fatal to the server. */
export const defectReply = (defect: unknown): ErrorReply => ({
  code: 500,
  reason: "InternalError",
  error: `Internal server error: ${defect instanceof Error ? defect.message : String(defect)}`
})
