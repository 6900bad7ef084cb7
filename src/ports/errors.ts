/**
 * The errors an orchestrator's ports fail with. The command interface maps them to responses.
 */
import { Schema } from "effect"

export class AgentNotFound extends Schema.TaggedError<AgentNotFound>()("AgentNotFound", {
  agent: Schema.String,
  /** `agent` is a pattern (or `all`) of a control command's targets, which matched no agent. */
  pattern: Schema.optionalKey(Schema.Boolean)
}) {
  override get message(): string {
    return this.pattern === true ? `no agent matches '${this.agent}'` : `agent not found: '${this.agent}'`
  }
}

/** An action that the agent's current state does not allow, such as pausing an agent that has completed. */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>()("InvalidTransition", {
  agent: Schema.String,
  action: Schema.String,
  state: Schema.String
}) {
  override get message(): string {
    return `cannot ${this.action} agent '${this.agent}': it is ${this.state}`
  }
}


/** The orchestrator is shutting down and starts nothing more. */
export class OrchestratorStopping extends Schema.TaggedError<OrchestratorStopping>()("OrchestratorStopping", {
  action: Schema.String
}) {
  override get message(): string {
    return `cannot ${this.action}: the orchestrator is shutting down`
  }
}

/**
 * An agent asked to start failed at once, e.g. because its command does not exist. `lastError` is the agent's own
 * account, as `status` shows it (the supervisor records it from the run's typed outcome).
 */
export class StartFailed extends Schema.TaggedError<StartFailed>()("StartFailed", {
  agent: Schema.String,
  lastError: Schema.NullOr(Schema.String)
}) {
  override get message(): string {
    return `agent '${this.agent}' failed to start: ${this.lastError ?? "no reason was recorded"}`
  }
}

/** An agent cannot be started (or restarted) because a dependency of it is stopped or failed. */
export class DependencyUnavailable extends Schema.TaggedError<DependencyUnavailable>()("DependencyUnavailable", {
  agent: Schema.String,
  action: Schema.Literals(["start", "restart"]),
  dependency: Schema.String,
  state: Schema.String
}) {
  override get message(): string {
    return `cannot ${this.action} agent '${this.agent}': its dependency '${this.dependency}' is ${this.state}`
  }
}

export type AgentControlError = AgentNotFound | InvalidTransition | OrchestratorStopping | StartFailed | DependencyUnavailable
