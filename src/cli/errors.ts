/**
 * The usage error that several commands share: the command line, or a file it names, is wrong (exit 2). It carries
 * why as a value, one reason per way it happens, each computing its own message, as effect's `SocketError` does:
 * a caller can select a reason with `Effect.catchReason`, and no sentence is ever parsed back.
 */
import { PlatformError, Schema } from "effect"
import { describeReadFailure } from "../readFailure.ts"
import { commandNames } from "../protocol/Commands.ts"

const ReadFailure = Schema.instanceOf(PlatformError.PlatformError)

/** One of `--server-key` and `--client-key` was given without the other. */
export class MissingKeyFlag extends Schema.TaggedError<MissingKeyFlag>()("MissingKeyFlag", {
  flag: Schema.Literals(["--server-key", "--client-key"])
}) {
  override get message(): string {
    return `--server-key and --client-key go together: a CURVE client needs the orchestrator's public key and its own key pair ` +
      `(missing ${this.flag})`
  }
}

/** `up --allow` named commands that do not exist. */
export class UnknownCommandInAllow extends Schema.TaggedError<UnknownCommandInAllow>()("UnknownCommandInAllow", {
  names: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `--allow: unknown command${this.names.length > 1 ? "s" : ""} ${this.names.map((name) => `'${name}'`).join(", ")} ` +
      `(presets: basic, monitoring, all; commands: ${commandNames.join(", ")})`
  }
}

/** The config file `up` was given cannot be read. */
export class UnreadableConfig extends Schema.TaggedError<UnreadableConfig>()("UnreadableConfig", {
  path: Schema.String,
  cause: ReadFailure
}) {
  override get message(): string {
    return `cannot read config file ${this.path}: ${describeReadFailure(this.cause)}`
  }
}

/** The audit file `audit verify` was given cannot be read. */
export class UnreadableAuditFile extends Schema.TaggedError<UnreadableAuditFile>()("UnreadableAuditFile", {
  path: Schema.String,
  cause: ReadFailure
}) {
  override get message(): string {
    return `cannot read audit file ${this.path}: ${describeReadFailure(this.cause)}`
  }
}

/** `logs --since` was neither a duration back from now nor an instant. */
export class InvalidSince extends Schema.TaggedError<InvalidSince>()("InvalidSince", { text: Schema.String }) {
  override get message(): string {
    return `--since: expected a duration such as 10m, 2h or 30s, or an ISO-8601 instant with its zone (2026-12-01T10:00:00Z), got '${this.text}'`
  }
}

/** `logs -n 0` without `--follow`: it would show nothing. */
export class NoLinesWithoutFollow extends Schema.TaggedError<NoLinesWithoutFollow>()("NoLinesWithoutFollow", {}) {
  override get message(): string {
    return "--lines 0 shows no line: it is for --follow (-f -n 0 prints only the lines written from now on)"
  }
}

/** `--context`, `$ORCHESTRATE_CONTEXT` or a `context` subcommand named a context the contexts file does not hold. */
export class UnknownContext extends Schema.TaggedError<UnknownContext>()("UnknownContext", {
  name: Schema.String,
  known: Schema.Array(Schema.String),
  suggestions: Schema.Array(Schema.String)
}) {
  override get message(): string {
    if (this.known.length === 0) {
      return `unknown context '${this.name}': there are no contexts yet (orchestrate context add NAME --address ADDRESS)`
    }
    const guess = this.suggestions.length === 0 ? "" : `: did you mean ${this.suggestions.map((name) => `'${name}'`).join(" or ")}?`
    return `unknown context '${this.name}'${guess} (contexts: ${this.known.join(", ")})`
  }
}

/** `context add` of a name that is taken. */
export class ContextExists extends Schema.TaggedError<ContextExists>()("ContextExists", { name: Schema.String }) {
  override get message(): string {
    return `context '${this.name}' exists already (use --force to replace it)`
  }
}

/** `context add` without `--address`. */
export class ContextNeedsAddress extends Schema.TaggedError<ContextNeedsAddress>()("ContextNeedsAddress", {}) {
  override get message(): string {
    return "context add needs --address: where the orchestrator's command interface is, such as tcp://10.0.0.5:5570"
  }
}

/** `--all-contexts` with no context to ask. */
export class NoContexts extends Schema.TaggedError<NoContexts>()("NoContexts", { path: Schema.String }) {
  override get message(): string {
    return `--all-contexts: ${this.path} holds no contexts (orchestrate context add NAME --address ADDRESS)`
  }
}

/** Two flags that cannot go together, and why. */
export class ConflictingFlags extends Schema.TaggedError<ConflictingFlags>()("ConflictingFlags", {
  first: Schema.String,
  second: Schema.String,
  why: Schema.String
}) {
  override get message(): string {
    return `${this.first} and ${this.second} cannot be used together: ${this.why}`
  }
}

/** `systemd-unit` was given a path or value that a unit file line cannot hold. */
export class NotInAUnitFile extends Schema.TaggedError<NotInAUnitFile>()("NotInAUnitFile", { what: Schema.String, value: Schema.String }) {
  override get message(): string {
    return `${this.what} ${JSON.stringify(this.value)} cannot go in a unit file: it holds a line break or a control character`
  }
}

export const UsageErrorReason = Schema.Union([
  MissingKeyFlag,
  UnknownCommandInAllow,
  UnreadableConfig,
  UnreadableAuditFile,
  InvalidSince,
  NoLinesWithoutFollow,
  UnknownContext,
  ContextExists,
  ContextNeedsAddress,
  NoContexts,
  ConflictingFlags,
  NotInAUnitFile
])
export type UsageErrorReason = typeof UsageErrorReason.Type

/** The command line, or a file it names, is wrong. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { reason: UsageErrorReason }) {
  override get message(): string {
    return this.reason.message
  }
}
