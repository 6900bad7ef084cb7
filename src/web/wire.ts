/**
 * What the page reads from and sends to the HTTP API, as the protocol's own schemas say it is on the wire (their
 * `Encoded` side: snake_case, instants as ISO-8601 text). Types only: the page loads no Schema, and a change to a
 * schema is a compile error here rather than a surprise in the browser.
 */
import type {
  AgentActionResult,
  DependencyGraph,
  HistoryPage,
  Identity,
  LogLineRecord,
  LogsPage,
  MultiActionResult,
  ReloadPlan,
  TargetResult
} from "../protocol/Commands.ts"
import type { AgentState, AgentStatus, HistoryEvent, OrchestratorStatus, ProbeStatus } from "../protocol/Model.ts"

export type { AgentState, Health, Severity } from "../protocol/Model.ts"

export type AgentStatusWire = (typeof AgentStatus)["Encoded"]
export type ProbeStatusWire = (typeof ProbeStatus)["Encoded"]
export type OrchestratorStatusWire = (typeof OrchestratorStatus)["Encoded"]
export type HistoryEventWire = (typeof HistoryEvent)["Encoded"]
export type HistoryPageWire = (typeof HistoryPage)["Encoded"]
export type LogLineWire = (typeof LogLineRecord)["Encoded"]
export type LogsPageWire = (typeof LogsPage)["Encoded"]
export type DependencyGraphWire = (typeof DependencyGraph)["Encoded"]
export type IdentityWire = (typeof Identity)["Encoded"]
export type ActionResultWire = (typeof AgentActionResult)["Encoded"] | (typeof MultiActionResult)["Encoded"]
export type TargetResultWire = (typeof TargetResult)["Encoded"]
export type ReloadPlanWire = (typeof ReloadPlan)["Encoded"]

/** The control commands a row, the detail view and a selection offer. */
export type AgentAction = "start" | "stop" | "restart" | "pause" | "resume"
export const AGENT_ACTIONS: ReadonlyArray<AgentAction> = ["start", "stop", "restart", "pause", "resume"]

/** Every agent state, in the order the summary counts them. */
export const AGENT_STATES: ReadonlyArray<AgentState> = [
  "running",
  "paused",
  "starting",
  "queued",
  "stopping",
  "completed",
  "failed",
  "stopped",
  "registered"
]

/** A `status` message of the event stream: the orchestrator's status, or with `agent=` one agent's. */
export type StatusMessageWire = OrchestratorStatusWire | AgentStatusWire

/** A `dropped` message: what the store evicted before the stream could send it. */
export interface DroppedWire {
  readonly events_after_seq?: number
  readonly evicted_before_seq?: number
  readonly logs_after_seq?: number
  readonly agents?: ReadonlyArray<string>
}
