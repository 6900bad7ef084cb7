/**
 * How the CLI ends: every way a command can fail, its exit code, and the one line it prints. Documented in
 * `--help` and the README: 0 success; 1 the orchestrator answered with an error (or an agent failed, or an audit
 * file is broken); 2 usage or configuration error, including an orchestrator that cannot start; 3 not reachable
 * or no answer within the timeout.
 *
 * `CliFailure` is the error channel `runMain` accepts, so a command that can fail with anything else does not
 * compile, and `exitCodes` must name every tag of it, so neither does a failure without an exit code. The errors
 * of `up`, the client and effect/cli are imported as types only: the classes would pull the orchestrator and the
 * server into every command's bundle.
 */
import { Cause, Exit, Result } from "effect"
import type { CliError } from "effect/cli"
import type { BadResponse, CommandRefused, Unreachable } from "../client/CommandClient.ts"
import type { GuardianError } from "../orchestrator/Guardian.ts"
import type { ConfigError } from "../orchestrator/OrchestratorConfig.ts"
import type { KeyFileError } from "../security/keys.ts"
import type { AuditFileError } from "../server/AuditTrail.ts"
import type { HttpStartupError } from "../server/http/HttpStartupError.ts"
import type { BindError } from "../server/Socket.ts"
import type { AuditChainBroken } from "./commands/audit.ts"
import type { AgentsFailed } from "./commands/runUp.ts"
import type { NeverReady, WaitTimedOut } from "./commands/status.ts"
import type { ContextsRefused, ContextsUnanswered, ContextsUnusable } from "./contexts/allContexts.ts"
import type { ContextsFileError } from "./contexts/ContextsFile.ts"
import type { UsageError } from "./errors.ts"
import { errorLine, ExitCode } from "./exitCode.ts"

export { ExitCode } from "./exitCode.ts"

/** Every error a command can fail with. */
export type CliFailure =
  // The command line: effect/cli's parse errors and help, and the CLI's own checks.
  | CliError.CliError
  | UsageError
  // The named contexts' file (contexts.json) cannot be read or written.
  | ContextsFileError
  // Talking to an orchestrator.
  | Unreachable
  | BadResponse
  | CommandRefused
  | WaitTimedOut
  | NeverReady
  // `--all-contexts`: the worst of what the contexts did.
  | ContextsUnanswered
  | ContextsUnusable
  | ContextsRefused
  // `up`: an orchestrator that cannot start, or agents that failed.
  | ConfigError
  | BindError
  | HttpStartupError
  | KeyFileError
  | AuditFileError
  | GuardianError
  | AgentsFailed
  // `audit verify`.
  | AuditChainBroken

/** The exit code of each failure but help, whose code depends on whether it reports usage errors. */
const exitCodes = {
  UsageError: ExitCode.usage,
  UnrecognizedOption: ExitCode.usage,
  DuplicateOption: ExitCode.usage,
  MissingOption: ExitCode.usage,
  MissingArgument: ExitCode.usage,
  UnexpectedArgument: ExitCode.usage,
  InvalidValue: ExitCode.usage,
  UnknownSubcommand: ExitCode.usage,
  ValidationError: ExitCode.usage,
  // effect/cli's wrapper for a handler's own failure; no command here fails with it.
  UserError: ExitCode.failed,
  ContextsFileError: ExitCode.usage,
  Unreachable: ExitCode.unreachable,
  WaitTimedOut: ExitCode.unreachable,
  NeverReady: ExitCode.failed,
  BadResponse: ExitCode.failed,
  CommandRefused: ExitCode.failed,
  // A context that did not answer counts most, as Unreachable does alone; then one whose key files cannot be
  // read (KeyFileError); then one that answered with an error (CommandRefused).
  ContextsUnanswered: ExitCode.unreachable,
  ContextsUnusable: ExitCode.usage,
  ContextsRefused: ExitCode.failed,
  ConfigError: ExitCode.usage,
  BindError: ExitCode.usage,
  HttpStartupError: ExitCode.usage,
  KeyFileError: ExitCode.usage,
  AuditFileError: ExitCode.usage,
  GuardianError: ExitCode.usage,
  AgentsFailed: ExitCode.failed,
  AuditChainBroken: ExitCode.failed
} as const satisfies Record<Exclude<CliFailure["_tag"], "ShowHelp">, ExitCode>

/** How the program ended: the exit code, and the line to print on stderr, if any. */
export interface Conclusion {
  readonly code: ExitCode
  readonly line?: string
}

const concludeFailure = (failure: CliFailure): Conclusion =>
  // Help, and the usage errors that came with it, have been presented already; asked for, it is a success.
  failure._tag === "ShowHelp"
    ? { code: failure.errors.length === 0 ? ExitCode.ok : ExitCode.usage }
    : { code: exitCodes[failure._tag], line: errorLine(failure.message) }

export const conclude = (exit: Exit.Exit<unknown, CliFailure>, signalled: boolean): Conclusion => {
  if (Exit.isSuccess(exit)) return { code: ExitCode.ok }
  // Interrupted by SIGINT or SIGTERM after shutting down gracefully: a clean end, as a service manager expects.
  if (Cause.hasInterruptsOnly(exit.cause)) return { code: signalled ? ExitCode.ok : ExitCode.interrupted }
  const failure = Cause.findError(exit.cause)
  if (Result.isSuccess(failure)) return concludeFailure(failure.success)
  // No failure, so a defect: a bug, which says what went wrong but has no exit code of its own.
  const [defect] = Cause.prettyErrors(failure.failure)
  return { code: ExitCode.failed, line: `error: internal error: ${defect?.message ?? "unknown"}` }
}
