/**
 * Fast encoders for the results the server sends most: `ps`, `status`, `history` and `stats`.
 *
 * Schema's generic encoder costs about 3 µs per struct, which made encoding most of a `ps` request's server
 * time (measured in bench/README.md). These functions do the same work directly: rename keys to snake_case and
 * write instants as ISO-8601. Each returns its schema's own `Encoded` type, so the compiler rejects one that
 * misses or misnames a field, and test/protocol/fastEncode.test.ts checks on generated values that each gives
 * exactly what `Schema.encodeSync` gives.
 */
import { DateTime } from "effect"
import * as Commands from "./Commands.ts"
import * as Model from "./Model.ts"

const instant = (value: DateTime.Utc | null): string | null => value === null ? null : DateTime.formatIso(value)

const encodeProbeStatus = (probe: Model.ProbeStatus): (typeof Model.ProbeStatus)["Encoded"] => ({
  role: probe.role,
  kind: probe.kind,
  target: probe.target,
  health: probe.health,
  last_result: probe.lastResult,
  last_checked_at: instant(probe.lastCheckedAt),
  consecutive_successes: probe.consecutiveSuccesses,
  consecutive_failures: probe.consecutiveFailures,
  last_failure: probe.lastFailure,
  last_failure_at: instant(probe.lastFailureAt)
})

export const encodeAgentSummary = (agent: Model.AgentSummary): (typeof Model.AgentSummary)["Encoded"] => ({
  name: agent.name,
  state: agent.state,
  pid: agent.pid,
  uptime_seconds: agent.uptimeSeconds,
  restarts: agent.restarts,
  health: agent.health,
  cpu_percent: agent.cpuPercent,
  memory_bytes: agent.memoryBytes
})

export const encodeAgentStatus = (agent: Model.AgentStatus): (typeof Model.AgentStatus)["Encoded"] => ({
  agent_name: agent.agentName,
  kind: agent.kind,
  state: agent.state,
  pid: agent.pid,
  uptime_seconds: agent.uptimeSeconds,
  started_at: instant(agent.startedAt),
  last_heartbeat: instant(agent.lastHeartbeat),
  restarts: agent.restarts,
  restart_policy: agent.restartPolicy,
  waiting_for: agent.waitingFor,
  dependencies: agent.dependencies,
  exit_code: agent.exitCode,
  last_error: agent.lastError,
  health: agent.health,
  probes: agent.probes.map(encodeProbeStatus),
  cpu_percent: agent.cpuPercent,
  memory_bytes: agent.memoryBytes,
  cpu_seconds: agent.cpuSeconds
})

const encodeCounts = (counts: Model.AgentCounts): (typeof Model.AgentCounts)["Encoded"] => ({ ...counts })

export const encodeOrchestratorStatus = (
  status: Model.OrchestratorStatus
): (typeof Model.OrchestratorStatus)["Encoded"] => ({
  state: status.state,
  run_mode: status.runMode,
  started_at: DateTime.formatIso(status.startedAt),
  uptime_seconds: status.uptimeSeconds,
  max_workers: status.maxWorkers,
  agents: status.agents.map(encodeAgentStatus),
  counts: encodeCounts(status.counts)
})

export const encodeHistoryEvent = (event: Model.HistoryEvent): (typeof Model.HistoryEvent)["Encoded"] => ({
  seq: event.seq,
  event_name: event.eventName,
  category: event.category,
  agent_name: event.agentName,
  timestamp: DateTime.formatIso(event.timestamp),
  severity: event.severity,
  data: event.data
})

export const encodeHistoryPage = (page: Commands.HistoryPage): (typeof Commands.HistoryPage)["Encoded"] => ({
  events: page.events.map(encodeHistoryEvent),
  count: page.count,
  limit: page.limit,
  has_more: page.hasMore,
  capacity: page.capacity,
  first_seq: page.firstSeq,
  last_seq: page.lastSeq
})

export const encodeStats = (stats: Commands.Stats): (typeof Commands.Stats)["Encoded"] => {
  const {
    totalAgents,
    maxWorkers,
    uptimeSeconds,
    eventsRecorded,
    eventsRetained,
    eventsCapacity,
    cpuPercent,
    memoryBytes,
    cpuSeconds,
    ...counts
  } = stats
  return {
    ...counts,
    total_agents: totalAgents,
    max_workers: maxWorkers,
    uptime_seconds: uptimeSeconds,
    events_recorded: eventsRecorded,
    events_retained: eventsRetained,
    events_capacity: eventsCapacity,
    cpu_percent: cpuPercent,
    memory_bytes: memoryBytes,
    cpu_seconds: cpuSeconds
  }
}

/** The fast encoder of each command that has one; the others are encoded by their result schema. */
export const fastEncoders: {
  readonly [K in Commands.CommandName]?: (result: Commands.ResultOf<K>) => Commands.Commands[K]["result"]["Encoded"]
} = {
  ps: (result) => ({ agents: result.agents.map(encodeAgentSummary) }),
  status: (result) => "agentName" in result ? encodeAgentStatus(result) : encodeOrchestratorStatus(result),
  history: encodeHistoryPage,
  stats: encodeStats
}
