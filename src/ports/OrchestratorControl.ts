/**
 * The control port an orchestrator implements for the command interface.
 *
 * Each agent action completes when the agent has reached its new state (a stop may take the grace period) and
 * reports that state with a message. Asking for the state an agent is already in succeeds and says so, so
 * scripts can be declarative; an action the state does not allow fails with `InvalidTransition`.
 */
import { Context, type Effect } from "effect"
import type { AgentActionResult } from "../protocol/Commands.ts"
import type { AgentControlError } from "./errors.ts"

export type AgentAction = "start" | "stop" | "restart" | "pause" | "resume"

/** What an action did: the wire's `{message, agent}`, and whether the agent was already in that state. */
export interface ControlResult extends AgentActionResult {
  readonly already: boolean
}

export class OrchestratorControl extends Context.Service<OrchestratorControl, {
  readonly control: (action: AgentAction, agent: string) => Effect.Effect<ControlResult, AgentControlError>
  /** Starts a graceful shutdown and returns at once; the shutdown itself runs elsewhere. */
  readonly requestShutdown: Effect.Effect<void>
}>()("effect-orchestrate/OrchestratorControl") {}
