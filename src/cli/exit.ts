/**
 * How the CLI ends: exit codes and the one line it prints for an error. Documented in `--help` and the README:
 * 0 success; 1 the orchestrator answered with an error (or an agent failed, or an audit file is broken); 2 usage
 * or configuration error, including an orchestrator that cannot start; 3 not reachable or no answer within the
 * timeout.
 */
import { Cause, Exit, Predicate, Schema } from "effect"

export const ExitCode = { ok: 0, refused: 1, usage: 2, unreachable: 3, interrupted: 130 } as const

/** The command line or a config file is wrong. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { detail: Schema.String }) {
  override get message(): string {
    return this.detail
  }
}

/** `status --wait` ran out of time. */
export class WaitTimedOut extends Schema.TaggedError<WaitTimedOut>()("WaitTimedOut", { detail: Schema.String }) {
  override get message(): string {
    return this.detail
  }
}

/** `up` in until-done mode finished with failed agents. */
export class AgentsFailed extends Schema.TaggedError<AgentsFailed>()("AgentsFailed", {
  agents: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `agents failed: ${this.agents.join(", ")}`
  }
}

const tagOf = (error: unknown): string | undefined =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : undefined

/** A usage error effect/cli found while parsing (its help output has already said what). */
const isParseError = (error: unknown): boolean =>
  tagOf(error) === "ShowHelp" && Predicate.hasProperty(error, "errors") && Array.isArray(error.errors) &&
  error.errors.length > 0

const codeOf = (error: unknown): number => {
  if (isParseError(error)) return ExitCode.usage
  switch (tagOf(error)) {
    case "ShowHelp":
      return ExitCode.ok
    case "UsageError":
    case "ConfigError":
    case "BindError":
    case "KeyFileError":
    case "AuditFileError":
    case "GuardianError":
      return ExitCode.usage
    case "Unreachable":
    case "WaitTimedOut":
      return ExitCode.unreachable
    default:
      return ExitCode.refused
  }
}

/** The line to print for a failure, if any (parse errors and help were already presented). */
const lineOf = (error: unknown): string | undefined => {
  if (tagOf(error) === "ShowHelp") return undefined
  if (error instanceof Error) return `error: ${tagOf(error) === undefined ? `internal error: ${error.message}` : error.message}`
  return `error: ${String(error)}`
}

/** The exit code for how the program ended, printing the error line on stderr. */
export const conclude = (exit: Exit.Exit<unknown, unknown>, signalled: boolean): number => {
  if (Exit.isSuccess(exit)) return ExitCode.ok
  // Interrupted by SIGINT or SIGTERM after shutting down gracefully: a clean end, as a service manager expects.
  if (Cause.hasInterruptsOnly(exit.cause)) return signalled ? ExitCode.ok : ExitCode.interrupted
  const error = Cause.squash(exit.cause)
  const line = lineOf(error)
  if (line !== undefined) process.stderr.write(`${line}\n`)
  return codeOf(error)
}
