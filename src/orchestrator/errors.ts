/**
 * The errors an orchestrator's ports fail with. The command interface maps them to responses.
 */
import { Schema } from "effect"

export class AgentNotFound extends Schema.TaggedError<AgentNotFound>()("AgentNotFound", {
  agent: Schema.String
}) {
  override get message(): string {
    return `agent not found: '${this.agent}'`
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

export type AgentControlError = AgentNotFound | InvalidTransition
