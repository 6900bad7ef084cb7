/**
 * The results of `ps`, `stats`, `commands` and `whoami` as the fast path decodes them (decoders.ts): the same
 * values their schemas in protocol/Commands.ts decode to. None of them holds an instant, so none loads effect.
 */
import type { CommandList, Identity, Stats } from "../../protocol/Commands.ts"
import type { AgentState, AgentSummary, Health } from "../../protocol/Model.ts"
import { array, boolean, count, type Decoder, field, int, finite, literals, nonNegative, nullOr, string, struct } from "./decoders.ts"

export const agentStates = literals<AgentState>([
  "registered", "queued", "starting", "running", "paused", "stopping", "completed", "failed", "stopped"
])

export const health = literals<Health>(["starting", "healthy", "unhealthy"])

const agentSummary = struct<AgentSummary>({
  name: field("name", string),
  state: field("state", agentStates),
  pid: field("pid", nullOr(int)),
  uptimeSeconds: field("uptime_seconds", nullOr(nonNegative)),
  restarts: field("restarts", count),
  health: field("health", nullOr(health)),
  cpuPercent: field("cpu_percent", nullOr(nonNegative)),
  memoryBytes: field("memory_bytes", nullOr(count))
})

export const psResult: Decoder<{ readonly agents: ReadonlyArray<AgentSummary> }> = struct({ agents: field("agents", array(agentSummary)) })

export const statsResult = struct<Stats>({
  totalAgents: field("total_agents", int),
  registered: field("registered", count),
  queued: field("queued", count),
  starting: field("starting", count),
  running: field("running", count),
  paused: field("paused", count),
  stopping: field("stopping", count),
  completed: field("completed", count),
  failed: field("failed", count),
  stopped: field("stopped", count),
  unhealthy: field("unhealthy", int),
  restarts: field("restarts", int),
  maxWorkers: field("max_workers", int),
  uptimeSeconds: field("uptime_seconds", finite),
  eventsRecorded: field("events_recorded", int),
  eventsRetained: field("events_retained", int),
  eventsCapacity: field("events_capacity", int),
  cpuPercent: field("cpu_percent", nullOr(nonNegative)),
  memoryBytes: field("memory_bytes", nullOr(count)),
  cpuSeconds: field("cpu_seconds", nullOr(nonNegative))
})

export const commandsResult = struct<CommandList>({
  allowed: field("allowed", array(string)),
  known: field("known", array(struct({
    name: field("name", string),
    usage: field("usage", string),
    summary: field("summary", string),
    mutating: field("mutating", boolean),
    allowed: field("allowed", boolean)
  })))
})

export const whoamiResult = struct<Identity>({
  principal: field("principal", nullOr(string)),
  keyFingerprint: field("key_fingerprint", nullOr(string)),
  allowed: field("allowed", array(string)),
  agents: field("agents", nullOr(array(string)))
})
