/**
 * The audit record of a request: one typed record, built from the request (or what could be read of it) and its
 * outcome (who sent it, the answer, whether it repeated an earlier one), for every request whatever happened. The
 * README's "Audit trail" lists its fields; they are the wire's snake_case names, as the EventStore and the audit
 * file keep them.
 */
import type { ErrorReason, Request } from "../../protocol/Envelope.ts"
import type { Severity } from "../../protocol/Model.ts"
import { redactSecrets } from "../../protocol/redact.ts"
import type { AuditRecord } from "../AuditTrail.ts"
import type { Caller } from "../Principals.ts"
import type { RequestOrigin } from "../Socket.ts"
import type { Answer } from "./Answer.ts"
import type { AuthenticationError } from "./RequestError.ts"

export type CommandRecord = {
  /** Null when the envelope could not be read as far as its command. */
  readonly command: string | null
  /** Values under secret-looking keys redacted; null when the envelope could not be read. */
  readonly args: ReadonlyArray<unknown> | null
  readonly code: number
  readonly duration_ms: number
  /** Null without CURVE, and when the caller could not be identified. */
  readonly principal: string | null
  /** The key the caller is, or claimed to be. */
  readonly key_fingerprint?: string
  readonly request_id?: string
  /** The operator's reason for the request. */
  readonly reason?: string
  readonly error_reason?: ErrorReason
  readonly error?: string
  /** Answered with the first answer to the same request. */
  readonly repeated?: true
  /** The start of a malformed request's text. */
  readonly received?: string
  /** Set for a request that came over HTTP; absent for ZeroMQ, whose records are as they always were. */
  readonly transport?: "http"
  /** The HTTP peer's IP address. */
  readonly peer_address?: string | null
}

/** How a request ended, as the pipeline knows it when it answers. */
export interface Outcome {
  /** The request, when its envelope could be read; otherwise the answer's error says what could be read of it. */
  readonly request: Request | undefined
  /** Who sent it: the caller, or why it could not be identified; undefined when the envelope could not be read. */
  readonly who: Caller | AuthenticationError | undefined
  readonly answer: Answer
  readonly repeated: boolean
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

interface Event {
  readonly eventName: string
  readonly severity: Severity
}
const EXECUTED: Event = { eventName: "COMMAND_EXECUTED", severity: "info" }
const REJECTED: Event = { eventName: "COMMAND_REJECTED", severity: "warning" }
const REFUSED: Event = { eventName: "COMMAND_FAILED", severity: "warning" }
const FAILED: Event = { eventName: "COMMAND_FAILED", severity: "error" }

const eventOf = (code: number): Event => code < 400 ? EXECUTED : code === 403 ? REJECTED : code >= 500 ? FAILED : REFUSED

/** The key fingerprint of the caller, or of the key a request that failed authentication named. */
const fingerprintOf = (who: Outcome["who"]): string | undefined => {
  if (who === undefined) return undefined
  if ("allowed" in who) return who.keyFingerprint ?? undefined
  return who._tag === "AuthenticationFailed" ? who.keyFingerprint : undefined
}

/** The arguments as recorded: copied only when one is a container, which may hold a secret-named member. */
const recordedArgs = (args: ReadonlyArray<unknown>): ReadonlyArray<unknown> =>
  args.every((arg) => typeof arg !== "object" || arg === null) ? args : args.map(redactSecrets)

/**
 * The record for `outcome`, which took `durationMs`, from `origin` when its transport knows it (HTTP). Members are set
 * in the order the audit file has always had, the HTTP ones last.
 */
export const commandRecord = (outcome: Outcome, durationMs: number, origin?: RequestOrigin): AuditRecord => {
  const { request, who, answer } = outcome
  const error = answer.failure?.error
  const unread = request === undefined && error?._tag === "MalformedRequest" ? error : undefined
  const data: Mutable<CommandRecord> = {
    command: request?.command ?? unread?.command ?? null,
    args: request === undefined ? null : recordedArgs(request.args),
    code: answer.code,
    duration_ms: durationMs,
    principal: who !== undefined && "allowed" in who ? who.principal : null
  }
  const keyFingerprint = fingerprintOf(who)
  if (keyFingerprint !== undefined) data.key_fingerprint = keyFingerprint
  const id = request?.id ?? unread?.id
  if (id !== undefined) data.request_id = id
  if (request?.reason !== undefined) data.reason = request.reason
  if (answer.failure !== undefined) {
    data.error_reason = answer.failure.reply.reason
    data.error = answer.failure.reply.error
  }
  if (outcome.repeated) data.repeated = true
  if (unread?.received !== undefined) data.received = unread.received
  if (origin !== undefined) {
    data.transport = origin.transport
    data.peer_address = origin.peerAddress
  }
  const { eventName, severity } = eventOf(answer.code)
  return { eventName, severity, data }
}
