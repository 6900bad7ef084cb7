/**
 * The read port an orchestrator implements for the command interface. With the control port and their errors it
 * sits between the two: the orchestrator implements it, the server uses it, and neither imports the other.
 */
import { Context, type Effect } from "effect"
import type { LogPage, LogQuery } from "../logs/LogStore.ts"
import type { DependencyGraph } from "../protocol/Commands.ts"
import type { AgentStatus, OrchestratorSnapshot } from "../protocol/Model.ts"
import type { AgentNotFound } from "./errors.ts"

/** An agent's status but for its uptime, and when that counts from. */
export interface AgentStanding {
  /** The same object for as long as the agent's status changes only by the passing of time. */
  readonly status: Omit<AgentStatus, "uptimeSeconds">
  /** When its uptime counts from, in epoch milliseconds; null when it has none. */
  readonly upSince: number | null
}

/**
 * The snapshot for a reader that keeps what it makes of each agent: every agent's status without its uptime,
 * the same object until the agent changes (its record, or its figures at a new resource sample), in an array that
 * is the same until any agent changes. The command interface encodes an agent once per change this way, and only
 * its uptime on each request, instead of the whole list (a `ps` of 10,000 agents: bench/README.md).
 */
export interface SnapshotView extends Omit<OrchestratorSnapshot, "agents"> {
  /** When it was taken, in epoch milliseconds: the agents' uptimes count to it. */
  readonly now: number
  readonly agents: ReadonlyArray<AgentStanding>
}

/** An uptime in seconds, from when it counts to `now` (both epoch milliseconds). */
export const uptimeOf = (upSince: number | null, now: number): number | null =>
  upSince === null ? null : Math.max(0, now - upSince) / 1000

/** The snapshot a view stands for, every uptime counted to the view's `now`. */
export const snapshotOf = ({ now, agents, ...orchestrator }: SnapshotView): OrchestratorSnapshot => ({
  ...orchestrator,
  agents: agents.map(({ status, upSince }) => ({ ...status, uptimeSeconds: uptimeOf(upSince, now) }))
})

export class OrchestratorQuery extends Context.Service<OrchestratorQuery, {
  /** One consistent view of the orchestrator and every agent, taken at once. */
  readonly snapshot: Effect.Effect<OrchestratorSnapshot>
  /** The same, for a reader that keeps what it makes of each agent (see `SnapshotView`). */
  readonly view: Effect.Effect<SnapshotView>
  /** One agent's status, without building the whole snapshot. */
  readonly agent: (name: string) => Effect.Effect<AgentStatus, AgentNotFound>
  /** The agents with what each depends on and what depends on it, and the order they start in. */
  readonly dependencies: Effect.Effect<DependencyGraph>
  /** A page of agents' output lines; an agent it does not run is `AgentNotFound`. */
  readonly logs: (query: LogQuery) => Effect.Effect<LogPage, AgentNotFound>
}>()("effect-orchestrate/OrchestratorQuery") {}
