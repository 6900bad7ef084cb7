/**
 * The data the command interface reports, defined once as Schemas.
 *
 * Each schema's Type is the camelCase domain value the orchestrator produces and the CLI consumes; its Encoded
 * form is the snake_case JSON on the wire (`encodeKeys`), with instants as ISO-8601 UTC strings. Encoding a
 * domain value is how the server builds a response, and decoding is how a client reads one.
 */
import { Schema } from "effect"

export const AgentState = Schema.Literals([
  "registered",
  "queued",
  "starting",
  "running",
  "paused",
  "stopping",
  "completed",
  "failed",
  "stopped"
])
export type AgentState = typeof AgentState.Type

/** Completed, failed or stopped: nothing runs, and nothing will unless asked. */
export const isFinished = (state: AgentState): boolean =>
  state === "completed" || state === "failed" || state === "stopped"

export const AgentKind = Schema.Literals(["effect", "process"])
export type AgentKind = typeof AgentKind.Type

export const RestartPolicy = Schema.Literals(["never", "on-failure", "always"])
export type RestartPolicy = typeof RestartPolicy.Type

export const RunMode = Schema.Literals(["until-done", "daemon"])
export type RunMode = typeof RunMode.Type

export const OrchestratorState = Schema.Literals(["starting", "running", "stopping", "stopped"])
export type OrchestratorState = typeof OrchestratorState.Type

/** Why a queued agent is not running yet. */
export const WaitingFor = Schema.Literals(["dependencies", "worker", "backoff"])
export type WaitingFor = typeof WaitingFor.Type

export { waitingDescriptions } from "./waiting.ts"

/** What a dependency must have done before its dependent starts, as in Compose's `depends_on`. */
export const DependencyCondition = Schema.Literals(["started", "ready", "completed", "completed_successfully"])
export type DependencyCondition = typeof DependencyCondition.Type

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Seconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
/** CPU time over wall time, in percent of one core: an agent busy on several cores exceeds 100. */
export const CpuPercent = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Instant = Schema.DateTimeUtcFromString

/** What an agent's probes say: null (on the wire) when it has none. */
export const Health = Schema.Literals(["starting", "healthy", "unhealthy"])
export type Health = typeof Health.Type

export const ProbeRole = Schema.Literals(["readiness", "liveness"])
export type ProbeRole = typeof ProbeRole.Type

export const ProbeKind = Schema.Literals(["http", "tcp", "exec", "line"])
export type ProbeKind = typeof ProbeKind.Type

/** One probe of an agent in its current (or last) run, as `status <agent>` reports it. */
export const ProbeStatus = Schema.Struct({
  role: ProbeRole,
  kind: ProbeKind,
  /** The URL, `host:port`, command line or expression it checks. */
  target: Schema.String,
  health: Health,
  lastResult: Schema.NullOr(Schema.Literals(["success", "failure"])),
  lastCheckedAt: Schema.NullOr(Instant),
  consecutiveSuccesses: Count,
  consecutiveFailures: Count,
  /** What the last failing try saw (a status and body, an error, a command's output), truncated. */
  lastFailure: Schema.NullOr(Schema.String),
  lastFailureAt: Schema.NullOr(Instant)
}).pipe(Schema.encodeKeys({
  lastResult: "last_result",
  lastCheckedAt: "last_checked_at",
  consecutiveSuccesses: "consecutive_successes",
  consecutiveFailures: "consecutive_failures",
  lastFailure: "last_failure",
  lastFailureAt: "last_failure_at"
}))
export type ProbeStatus = typeof ProbeStatus.Type

/** One row of `ps`. */
export const AgentSummary = Schema.Struct({
  name: Schema.String,
  state: AgentState,
  pid: Schema.NullOr(Schema.Int),
  uptimeSeconds: Schema.NullOr(Seconds),
  restarts: Count,
  health: Schema.NullOr(Health),
  /** Null for an Effect agent, and for a process agent with no process running at the last sample. */
  cpuPercent: Schema.NullOr(CpuPercent),
  memoryBytes: Schema.NullOr(Count)
}).pipe(Schema.encodeKeys({ uptimeSeconds: "uptime_seconds", cpuPercent: "cpu_percent", memoryBytes: "memory_bytes" }))
export type AgentSummary = typeof AgentSummary.Type

/** Everything known about one agent: `status <agent>`. */
export const AgentStatus = Schema.Struct({
  agentName: Schema.String,
  kind: AgentKind,
  state: AgentState,
  pid: Schema.NullOr(Schema.Int),
  uptimeSeconds: Schema.NullOr(Seconds),
  startedAt: Schema.NullOr(Instant),
  lastHeartbeat: Schema.NullOr(Instant),
  restarts: Count,
  restartPolicy: RestartPolicy,
  waitingFor: Schema.NullOr(WaitingFor),
  dependencies: Schema.Array(Schema.String),
  exitCode: Schema.NullOr(Schema.Int),
  lastError: Schema.NullOr(Schema.String),
  health: Schema.NullOr(Health),
  probes: Schema.Array(ProbeStatus),
  /** A process agent's processes, summed; null for an Effect agent, or when nothing of it ran at the last sample. */
  cpuPercent: Schema.NullOr(CpuPercent),
  memoryBytes: Schema.NullOr(Count),
  /** CPU time its processes have used in all, across restarts, as far as sampled; null until first sampled. */
  cpuSeconds: Schema.NullOr(Seconds)
}).pipe(Schema.encodeKeys({
  agentName: "agent_name",
  cpuPercent: "cpu_percent",
  memoryBytes: "memory_bytes",
  cpuSeconds: "cpu_seconds",
  uptimeSeconds: "uptime_seconds",
  startedAt: "started_at",
  lastHeartbeat: "last_heartbeat",
  restartPolicy: "restart_policy",
  waitingFor: "waiting_for",
  exitCode: "exit_code",
  lastError: "last_error"
}))
export type AgentStatus = typeof AgentStatus.Type

/** One count per agent state, as fields of `status` counts and of `stats`. */
export const stateCountFields = {
  registered: Count,
  queued: Count,
  starting: Count,
  running: Count,
  paused: Count,
  stopping: Count,
  completed: Count,
  failed: Count,
  stopped: Count
} satisfies Record<AgentState, typeof Count>

/** How many agents are in each state. */
export const AgentCounts = Schema.Struct({ total: Count, ...stateCountFields })
export type AgentCounts = typeof AgentCounts.Type

const snapshotFields = {
  state: OrchestratorState,
  runMode: RunMode,
  startedAt: Instant,
  uptimeSeconds: Seconds,
  maxWorkers: Count,
  agents: Schema.Array(AgentStatus)
}
const snapshotKeys = {
  runMode: "run_mode",
  startedAt: "started_at",
  uptimeSeconds: "uptime_seconds",
  maxWorkers: "max_workers"
} as const

/** One consistent view of a running orchestrator: what the `OrchestratorQuery` port returns. */
export const OrchestratorSnapshot = Schema.Struct(snapshotFields).pipe(Schema.encodeKeys(snapshotKeys))
export type OrchestratorSnapshot = typeof OrchestratorSnapshot.Type

/** What `status` without an agent reports: the snapshot with its counts by state. */
export const OrchestratorStatus = Schema.Struct({ ...snapshotFields, counts: AgentCounts }).pipe(
  Schema.encodeKeys(snapshotKeys)
)
export type OrchestratorStatus = typeof OrchestratorStatus.Type

export const Severity = Schema.Literals(["debug", "info", "warning", "error"])
export type Severity = typeof Severity.Type

/** One recorded event, as `history` reports it. */
export const HistoryEvent = Schema.Struct({
  seq: Count,
  eventName: Schema.String,
  category: Schema.String,
  agentName: Schema.NullOr(Schema.String),
  timestamp: Instant,
  severity: Severity,
  data: Schema.Record(Schema.String, Schema.Unknown)
}).pipe(Schema.encodeKeys({ eventName: "event_name", agentName: "agent_name" }))
export type HistoryEvent = typeof HistoryEvent.Type
