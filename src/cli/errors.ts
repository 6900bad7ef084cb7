/**
 * The usage error that several commands share: the command line, or a file it names, is wrong (exit 2). It carries
 * why as a value, one reason per way it happens, each computing its own message, as effect's `SocketError` does:
 * a caller can select a reason with `Effect.catchReason`, and no sentence is ever parsed back.
 */
import { PlatformError, Schema } from "effect"
import { commandNames } from "../protocol/Commands.ts"

/** Why a file the command line named could not be read, in a few words. */
const describeReadFailure = (error: PlatformError.PlatformError): string => {
  switch (error.reason._tag) {
    case "NotFound":
      return "no such file"
    case "PermissionDenied":
      return "permission denied"
    default:
      return error.message
  }
}

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
    return `--since: expected a duration such as 10m, 2h or 30s, or an ISO-8601 instant, got '${this.text}'`
  }
}

export const UsageErrorReason = Schema.Union([MissingKeyFlag, UnknownCommandInAllow, UnreadableConfig, UnreadableAuditFile, InvalidSince])
export type UsageErrorReason = typeof UsageErrorReason.Type

/** The command line, or a file it names, is wrong. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { reason: UsageErrorReason }) {
  override get message(): string {
    return this.reason.message
  }
}
