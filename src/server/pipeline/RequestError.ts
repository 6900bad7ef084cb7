/**
 * `RequestError`: why a request was not executed, or did not complete. Every stage of the pipeline fails with one
 * of its variants, each a tagged class whose fields say why (a reason, never a string to be parsed) and which
 * computes its own message; `toErrorReply` is the one place where each becomes a status code, a stable reason tag
 * and a message on the wire.
 */
import { Duration, Match, Schema } from "effect"
import type { ReloadFailed } from "../../ports/ConfigReload.ts"
import type { AgentControlError } from "../../ports/errors.ts"
import { TargetResult } from "../../protocol/Commands.ts"
import type { ErrorCode, ErrorReason } from "../../protocol/Envelope.ts"
import { formatIssues } from "../../protocol/issues.ts"
import { messageOf } from "../../messageOf.ts"

// ---------------------------------------------------------------------------------------------------------------
// The envelope
// ---------------------------------------------------------------------------------------------------------------

export class EmptyRequest extends Schema.TaggedError<EmptyRequest>()("EmptyRequest", {}) {
  override get message(): string {
    return "empty request"
  }
}

/** More frames than the request and its authentication frame. */
export class TooManyFrames extends Schema.TaggedError<TooManyFrames>()("TooManyFrames", { frames: Schema.Int }) {
  override get message(): string {
    return `expected one frame (two with CURVE authentication), got ${this.frames}`
  }
}

export class NotUtf8 extends Schema.TaggedError<NotUtf8>()("NotUtf8", {}) {
  override get message(): string {
    return "request is not valid UTF-8"
  }
}

export class NotJson extends Schema.TaggedError<NotJson>()("NotJson", { cause: Schema.instanceOf(SyntaxError) }) {
  override get message(): string {
    return `not valid JSON (${this.cause.message})`
  }
}

export class NotAnObject extends Schema.TaggedError<NotAnObject>()("NotAnObject", {}) {
  override get message(): string {
    return "expected a JSON object"
  }
}

export class NestedTooDeep extends Schema.TaggedError<NestedTooDeep>()("NestedTooDeep", { maxDepth: Schema.Int }) {
  override get message(): string {
    return `JSON nested deeper than ${this.maxDepth} levels`
  }
}

/** A JSON object that is not a request: no string `command`, an unknown key, a bad `id` or `reason`... */
export class InvalidEnvelope extends Schema.TaggedError<InvalidEnvelope>()("InvalidEnvelope", {
  cause: Schema.instanceOf(Schema.SchemaError)
}) {
  override get message(): string {
    return formatIssues(this.cause)
  }
}

/** An authentication frame sent to a transport that identifies no callers by it. */
export class UnexpectedCredentials extends Schema.TaggedError<UnexpectedCredentials>()("UnexpectedCredentials", {}) {
  override get message(): string {
    return "unexpected authentication frame: this server does not authenticate requests (CURVE is off)"
  }
}

export const MalformedRequestReason = Schema.Union([
  EmptyRequest,
  TooManyFrames,
  NotUtf8,
  NotJson,
  NotAnObject,
  NestedTooDeep,
  InvalidEnvelope,
  UnexpectedCredentials
])
export type MalformedRequestReason = typeof MalformedRequestReason.Type

/**
 * The envelope itself is wrong. It keeps what could be read of the request anyway: the id to echo, the command
 * and the start of the text for the audit record.
 */
export class MalformedRequest extends Schema.TaggedError<MalformedRequest>()("MalformedRequest", {
  reason: MalformedRequestReason,
  id: Schema.optionalKey(Schema.String),
  command: Schema.optionalKey(Schema.String),
  /** The start of what was received, secret-named members redacted. */
  received: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    return `Invalid command format: ${this.reason.message}`
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

// ---------------------------------------------------------------------------------------------------------------
// The caller
// ---------------------------------------------------------------------------------------------------------------

export class NotSigned extends Schema.TaggedError<NotSigned>()("NotSigned", {}) {
  override get message(): string {
    return "the request is not signed; this server requires CURVE credentials (the CLI's --server-key and --client-key)"
  }
}

export class FrameTooLarge extends Schema.TaggedError<FrameTooLarge>()("FrameTooLarge", { limit: Schema.Int }) {
  override get message(): string {
    return `the authentication frame exceeds ${this.limit} bytes`
  }
}

export class FrameNotJson extends Schema.TaggedError<FrameNotJson>()("FrameNotJson", {}) {
  override get message(): string {
    return "the authentication frame is not UTF-8 JSON"
  }
}

export class InvalidFrame extends Schema.TaggedError<InvalidFrame>()("InvalidFrame", { cause: Schema.instanceOf(Schema.SchemaError) }) {
  override get message(): string {
    return `invalid authentication frame: ${formatIssues(this.cause)}`
  }
}

export class UnknownKey extends Schema.TaggedError<UnknownKey>()("UnknownKey", {}) {
  override get message(): string {
    return "the request is signed with a key no principal has"
  }
}

/** The signed timestamp is further from the server's clock than the authentication window allows. */
export class StaleTimestamp extends Schema.TaggedError<StaleTimestamp>()("StaleTimestamp", {
  skew: Schema.Duration,
  window: Schema.Duration
}) {
  override get message(): string {
    return `its timestamp is ${Duration.format(this.skew)} from the server's clock, outside the ` +
      `${Duration.format(this.window)} window (a stale or replayed request, or clocks out of sync)`
  }
}

export class BadSignature extends Schema.TaggedError<BadSignature>()("BadSignature", {}) {
  override get message(): string {
    return "the signature does not match the request (altered, or signed for another server)"
  }
}

export class Replayed extends Schema.TaggedError<Replayed>()("Replayed", {}) {
  override get message(): string {
    return "replayed request: its nonce was already used"
  }
}

/** The nonce memory is full: a principal signs faster than the window lets the server remember. */
export class TooManyNonces extends Schema.TaggedError<TooManyNonces>()("TooManyNonces", {}) {
  override get message(): string {
    return "too many signed requests within the authentication window; retry shortly"
  }
}

/** An HTTP request without a bearer token, to a server that has tokens (`http/HttpAuthentication.ts`). */
export class MissingToken extends Schema.TaggedError<MissingToken>()("MissingToken", {}) {
  override get message(): string {
    return "no bearer token: this server requires 'Authorization: Bearer <token>' (orchestrate token create makes one)"
  }
}

/** An HTTP request whose bearer token is none of the server's (or the server has none). */
export class UnknownToken extends Schema.TaggedError<UnknownToken>()("UnknownToken", { tokensConfigured: Schema.Boolean }) {
  override get message(): string {
    return this.tokensConfigured
      ? "the bearer token is none of this server's tokens"
      : "the bearer token is none of this server's: it has no tokens (http.tokens), so send no Authorization header"
  }
}

export const AuthenticationFailedReason = Schema.Union([
  NotSigned,
  FrameTooLarge,
  FrameNotJson,
  InvalidFrame,
  UnknownKey,
  StaleTimestamp,
  BadSignature,
  Replayed,
  TooManyNonces,
  MissingToken,
  UnknownToken
])
export type AuthenticationFailedReason = typeof AuthenticationFailedReason.Type

/** The transport could not tell who sent a request. */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>()("AuthenticationFailed", {
  reason: AuthenticationFailedReason,
  /** The fingerprint of the key the request claimed, when it named one. */
  keyFingerprint: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    return `Authentication failed: ${this.reason.message}`
  }
}

/** Why a caller could not be identified: refused, or credentials where the transport expects none. */
export type AuthenticationError = AuthenticationFailed | MalformedRequest

// ---------------------------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------------------------

export class UnknownCommand extends Schema.TaggedError<UnknownCommand>()("UnknownCommand", {
  command: Schema.String
}) {
  override get message(): string {
    return `Unknown command '${this.command}'`
  }
}

/** The command is outside what the caller may run: the whitelist, or its principal's role within it. */
export class OutsideRole extends Schema.TaggedError<OutsideRole>()("OutsideRole", {
  /** A command the caller may run that lists what it may (`whoami`, else `commands`), if there is one. */
  listedBy: Schema.NullOr(Schema.String)
}) {}

/** The command acts on an agent none of the principal's patterns match. */
export class OutsideAgentPatterns extends Schema.TaggedError<OutsideAgentPatterns>()("OutsideAgentPatterns", {
  agent: Schema.String,
  patterns: Schema.Array(Schema.String)
}) {}

/** The command acts on every agent, and the principal may act only on some. */
export class ActsOnEveryAgent extends Schema.TaggedError<ActsOnEveryAgent>()("ActsOnEveryAgent", {
  patterns: Schema.Array(Schema.String)
}) {}

export class NotAllowed extends Schema.TaggedError<NotAllowed>()("NotAllowed", {
  command: Schema.String,
  /** The principal refused; null when the server does not authenticate callers. */
  principal: Schema.NullOr(Schema.String),
  reason: Schema.Union([OutsideRole, OutsideAgentPatterns, ActsOnEveryAgent])
}) {
  override get message(): string {
    const refused = `Command '${this.command}' not allowed${this.principal === null ? "" : ` for '${this.principal}'`}`
    const limit = (patterns: ReadonlyArray<string>) => `'${this.principal}' may act only on agents matching ${patterns.join(", ")}`
    switch (this.reason._tag) {
      case "OutsideRole": {
        // Which commands are allowed is the server's setting (its whitelist, a principal's role): say where to look,
        // with a command the caller may run if it has one.
        const where = this.reason.listedBy !== null
          ? `see the '${this.reason.listedBy}' command`
          : this.principal === null
          ? "the server's commandInterface.allowedCommands"
          : "the role the server's config gives it"
        return `${refused}: not among the commands ${this.principal === null ? "this server allows" : "its role allows"} (${where})`
      }
      case "OutsideAgentPatterns":
        return `${refused}: not on agent '${this.reason.agent}': ${limit(this.reason.patterns)}`
      case "ActsOnEveryAgent":
        return `${refused}: it acts on every agent, and ${limit(this.reason.patterns)}`
    }
  }
}

export class InvalidArguments extends Schema.TaggedError<InvalidArguments>()("InvalidArguments", {
  command: Schema.String,
  cause: Schema.instanceOf(Schema.SchemaError)
}) {
  override get message(): string {
    return `Invalid arguments for '${this.command}': ${formatIssues(this.cause, "args")}`
  }
}

/**
 * A control command naming several targets, some of which failed (not merely refused by their state): every
 * target's outcome, one line each, so that the error says which.
 */
export class TargetsFailed extends Schema.TaggedError<TargetsFailed>()("TargetsFailed", {
  command: Schema.String,
  results: Schema.Array(TargetResult)
}) {
  override get message(): string {
    const failed = this.results.filter((result) => result.outcome === "failed")
    return `${this.command}: ${failed.length} of ${this.results.length} agents failed (${failed.map((result) => result.agent).join(", ")})\n` +
      this.results.map((result) => `${result.agent}: ${result.outcome}: ${result.message}`).join("\n")
  }
}

/**
 * What a command's execution may fail with: the orchestrator's answer; or, for a control command naming several
 * targets, a target outside the principal's agent patterns once expanded, or some targets failing; or a reload
 * that could not be made.
 */
export type CommandFailure = AgentControlError | NotAllowed | TargetsFailed | ReloadFailed

// ---------------------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------------------

/**
 * The server is stopping: it no longer starts commands (`NotStarted`), or stopped one before it finished
 * (`Interrupted`).
 */
export class ShuttingDown extends Schema.TaggedError<ShuttingDown>()("ShuttingDown", {
  kind: Schema.Literals(["NotStarted", "Interrupted"])
}) {
  override get message(): string {
    return this.kind === "NotStarted" ? "Server is shutting down" : "Server shut down before the command completed"
  }
}

/** A defect in a handler: reported, never fatal to the server. */
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", { cause: Schema.Defect() }) {
  override get message(): string {
    // A defect is whatever was thrown or died with; an Error says what it is by its message.
    return messageOf(this.cause)
  }
}

export type RequestError =
  | MalformedRequest
  | RequestTooLarge
  | AuthenticationFailed
  | UnknownCommand
  | NotAllowed
  | InvalidArguments
  | CommandFailure
  | ShuttingDown
  | InternalError

/** What the wire says of an error: its status code, its stable reason tag, and the message for people. */
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
    TargetsFailed: (e) => failedToExecute("ExecutionFailed", e.message),
    ReloadFailed: (e) => failedToExecute("ReloadFailed", e.message),
    ShuttingDown: (e): ErrorReply => ({ code: 500, reason: "ShuttingDown", error: e.message }),
    InternalError: (e): ErrorReply => ({ code: 500, reason: "InternalError", error: `Internal server error: ${e.message}` })
  })
)
