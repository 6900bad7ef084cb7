/**
 * The reload port: re-reads the config file an orchestrator was started from (or another one), and applies what
 * changed without a restart. Implemented where config files are known (`app/`), for orchestrators that have one;
 * the command interface answers `reload` with `NotReloadable` when none is provided.
 */
import { Context, type Effect, Schema } from "effect"
import type { ReloadPlan } from "../protocol/Commands.ts"

/** The new config cannot be used: every problem, by path. Nothing was changed. */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  source: Schema.String,
  problems: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `invalid config ${this.source}:\n${this.problems.map((problem) => `  ${problem}`).join("\n")}`
  }
}

export class UnreadableConfig extends Schema.TaggedError<UnreadableConfig>()("UnreadableConfig", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot read config ${this.path}: ${this.detail}`
  }
}

/** The orchestrator was not started from a config file (it is embedded in a program), so there is none to read. */
export class NotReloadable extends Schema.TaggedError<NotReloadable>()("NotReloadable", {}) {
  override get message(): string {
    return "this orchestrator was not started from a config file ('orchestrate up'): there is nothing to reload"
  }
}

/** The new config asks for something this orchestrator cannot do without a restart of `up`. */
export class CannotApply extends Schema.TaggedError<CannotApply>()("CannotApply", { detail: Schema.String }) {
  override get message(): string {
    return this.detail
  }
}

export const ReloadFailedReason = Schema.Union([InvalidConfig, UnreadableConfig, NotReloadable, CannotApply])
export type ReloadFailedReason = typeof ReloadFailedReason.Type

export class ReloadFailed extends Schema.TaggedError<ReloadFailed>()("ReloadFailed", { reason: ReloadFailedReason }) {
  override get message(): string {
    // First, before a reason that may run over several lines (every problem of an invalid config).
    return `reload: nothing was changed: ${this.reason.message}`
  }
}

export interface ReloadRequest {
  /** An absolute path; the file the orchestrator was started from when absent. */
  readonly config?: string | undefined
  /** Computes the plan and changes nothing. */
  readonly dryRun: boolean
}

export class ConfigReload extends Context.Service<ConfigReload, {
  readonly reload: (request: ReloadRequest) => Effect.Effect<ReloadPlan, ReloadFailed>
}>()("effect-orchestrate/ConfigReload") {}
