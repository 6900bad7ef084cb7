/**
 * The read port an orchestrator implements for the command interface. With the control port and their errors it
 * sits between the two: the orchestrator implements it, the server uses it, and neither imports the other.
 */
import { Context, type Effect } from "effect"
import type { LogPage, LogQuery } from "../logs/LogStore.ts"
import type { DependencyGraph } from "../protocol/Commands.ts"
import type { AgentStatus, OrchestratorSnapshot } from "../protocol/Model.ts"
import type { AgentNotFound } from "./errors.ts"

export class OrchestratorQuery extends Context.Service<OrchestratorQuery, {
  /** One consistent view of the orchestrator and every agent, taken at once. */
  readonly snapshot: Effect.Effect<OrchestratorSnapshot>
  /** One agent's status, without building the whole snapshot. */
  readonly agent: (name: string) => Effect.Effect<AgentStatus, AgentNotFound>
  /** The agents with what each depends on and what depends on it, and the order they start in. */
  readonly dependencies: Effect.Effect<DependencyGraph>
  /** A page of agents' output lines; an agent it does not run is `AgentNotFound`. */
  readonly logs: (query: LogQuery) => Effect.Effect<LogPage, AgentNotFound>
}>()("effect-orchestrate/OrchestratorQuery") {}
