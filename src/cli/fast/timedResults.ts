/**
 * The results of `status`, `history` and `logs` as the fast path decodes them (decoders.ts): the same values their
 * schemas in protocol/Commands.ts decode to. They hold instants, decoded by effect's `DateTime` exactly as
 * `Schema.DateTimeUtcFromString` does; this module is loaded only for these commands, so that `ps` never loads it.
 */
import { DateTime, Option } from "effect"
import type { HistoryPage, LogLineRecord, LogsPage, ResultOf } from "../../protocol/Commands.ts"
import type { AgentCounts, AgentStatus, HistoryEvent, OrchestratorStatus, ProbeStatus } from "../../protocol/Model.ts"
import {
  array,
  boolean,
  count,
  type Decoder,
  FAIL,
  field,
  int,
  literals,
  nonNegative,
  nullOr,
  record,
  string,
  struct,
  union
} from "./decoders.ts"
import { agentStates, health } from "./results.ts"

/** As `Schema.DateTimeUtcFromString` decodes: `DateTime.make`, then to UTC. */
const instant: Decoder<DateTime.Utc> = (input) => {
  if (typeof input !== "string") return FAIL
  const made = DateTime.make(input)
  return Option.isSome(made) ? DateTime.toUtc(made.value) : FAIL
}

const probeStatus = struct<ProbeStatus>({
  role: field("role", literals(["readiness", "liveness"])),
  kind: field("kind", literals(["http", "tcp", "exec", "line"])),
  target: field("target", string),
  health: field("health", health),
  lastResult: field("last_result", nullOr(literals(["success", "failure"]))),
  lastCheckedAt: field("last_checked_at", nullOr(instant)),
  consecutiveSuccesses: field("consecutive_successes", count),
  consecutiveFailures: field("consecutive_failures", count),
  lastFailure: field("last_failure", nullOr(string)),
  lastFailureAt: field("last_failure_at", nullOr(instant))
})

const agentStatus = struct<AgentStatus>({
  agentName: field("agent_name", string),
  kind: field("kind", literals(["effect", "process"])),
  state: field("state", agentStates),
  pid: field("pid", nullOr(int)),
  uptimeSeconds: field("uptime_seconds", nullOr(nonNegative)),
  startedAt: field("started_at", nullOr(instant)),
  lastHeartbeat: field("last_heartbeat", nullOr(instant)),
  restarts: field("restarts", count),
  restartPolicy: field("restart_policy", literals(["never", "on-failure", "always"])),
  waitingFor: field("waiting_for", nullOr(literals(["dependencies", "worker", "backoff"]))),
  dependencies: field("dependencies", array(string)),
  exitCode: field("exit_code", nullOr(int)),
  lastError: field("last_error", nullOr(string)),
  health: field("health", nullOr(health)),
  probes: field("probes", array(probeStatus)),
  cpuPercent: field("cpu_percent", nullOr(nonNegative)),
  memoryBytes: field("memory_bytes", nullOr(count)),
  cpuSeconds: field("cpu_seconds", nullOr(nonNegative))
})

const agentCounts = struct<AgentCounts>({
  total: field("total", count),
  registered: field("registered", count),
  queued: field("queued", count),
  starting: field("starting", count),
  running: field("running", count),
  paused: field("paused", count),
  stopping: field("stopping", count),
  completed: field("completed", count),
  failed: field("failed", count),
  stopped: field("stopped", count)
})

const orchestratorStatus = struct<OrchestratorStatus>({
  state: field("state", literals(["starting", "running", "stopping", "stopped"])),
  runMode: field("run_mode", literals(["until-done", "daemon"])),
  startedAt: field("started_at", instant),
  uptimeSeconds: field("uptime_seconds", nonNegative),
  maxWorkers: field("max_workers", count),
  agents: field("agents", array(agentStatus)),
  counts: field("counts", agentCounts)
})

export const statusResult: Decoder<ResultOf<"status">> = union(orchestratorStatus, agentStatus)

const historyEvent = struct<HistoryEvent>({
  seq: field("seq", count),
  eventName: field("event_name", string),
  category: field("category", string),
  agentName: field("agent_name", nullOr(string)),
  timestamp: field("timestamp", instant),
  severity: field("severity", literals(["debug", "info", "warning", "error"])),
  data: field("data", record)
})

export const historyResult = struct<HistoryPage>({
  events: field("events", array(historyEvent)),
  count: field("count", int),
  limit: field("limit", int),
  hasMore: field("has_more", boolean),
  capacity: field("capacity", int),
  firstSeq: field("first_seq", nullOr(int)),
  lastSeq: field("last_seq", nullOr(int))
})

const logLine = struct<LogLineRecord>({
  seq: field("seq", int),
  agent: field("agent", string),
  stream: field("stream", literals(["stdout", "stderr", "orchestrator"])),
  timestamp: field("timestamp", instant),
  line: field("line", string)
})

export const logsResult = struct<LogsPage>({
  lines: field("lines", array(logLine)),
  hasMore: field("has_more", boolean),
  lastSeq: field("last_seq", int),
  dropped: field("dropped", array(string))
})
