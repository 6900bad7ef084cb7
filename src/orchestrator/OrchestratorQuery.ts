/**
 * The read port an orchestrator implements for the command interface.
 */
import { Context, type Effect } from "effect"
import type { AgentStatus, OrchestratorSnapshot } from "../protocol/Model.ts"
import type { AgentNotFound } from "./errors.ts"

export class OrchestratorQuery extends Context.Service<OrchestratorQuery, {
  /** One consistent view of the orchestrator and every agent, taken at once. */
  readonly snapshot: Effect.Effect<OrchestratorSnapshot>
  /** One agent's status, without building the whole snapshot. */
  readonly agent: (name: string) => Effect.Effect<AgentStatus, AgentNotFound>
}>()("effect-orchestrate/OrchestratorQuery") {}
