/**
 * What `orchestrate status` prints: the orchestrator and a table of its agents, or one agent in detail. Pure
 * functions of the result and the time, without effect/cli, shared by the command (status.ts) and the fast path
 * (fast/main.ts).
 */
import { DateTime } from "effect"
import type { ResultOf } from "../../protocol/Commands.ts"
import type { AgentCounts, AgentStatus, OrchestratorStatus } from "../../protocol/Model.ts"
import { waitingDescriptions } from "../../protocol/waiting.ts"
import { details, formatBytes, formatCpu, formatDuration, formatList, table } from "../format.ts"
import { ago, probeLines } from "../health.ts"
import type { Style } from "../style.ts"

/**
 * What it waits for, or its last error: its own if the error ended it (failed), else a previous run's, and said so
 * (as the dashboard does; a stop sets none).
 */
const note = (agent: AgentStatus): string => {
  if (agent.waitingFor !== null) return waitingDescriptions[agent.waitingFor]
  if (agent.lastError === null) return ""
  return agent.state === "failed" ? agent.lastError : `previous run: ${agent.lastError}`
}

/** An agent's columns after its NAME: the table of `status`, and with `status <agent> --all-contexts` after CONTEXT. */
export const AGENT_HEADERS = ["STATE", "PID", "UPTIME", "RESTARTS", "HEARTBEAT", "NOTE"]

export const agentColumns = (agent: AgentStatus, now: number, style: Style): ReadonlyArray<string> => [
  style.state(agent.state),
  agent.pid === null ? "-" : String(agent.pid),
  formatDuration(agent.uptimeSeconds),
  String(agent.restarts),
  ago(agent.lastHeartbeat, now, "-"),
  note(agent)
]

export const summarize = (counts: AgentCounts): string => {
  const states = (["running", "paused", "starting", "queued", "stopping", "completed", "failed", "stopped", "registered"] as const)
    .filter((state) => counts[state] > 0)
    .map((state) => `${counts[state]} ${state}`)
  return `${counts.total} total${states.length === 0 ? "" : `: ${states.join(", ")}`}`
}

const renderOrchestrator = (status: OrchestratorStatus, now: number, style: Style): string =>
  [
    details([
      ["orchestrator", `${status.state === "running" ? style.green(status.state) : style.yellow(status.state)} ${style.dim(`(${status.runMode})`)}, up ${formatDuration(status.uptimeSeconds)}`],
      ["workers", String(status.maxWorkers)],
      ["agents", summarize(status.counts)]
    ], style),
    "",
    table(["NAME", ...AGENT_HEADERS], status.agents.map((agent) => [agent.agentName, ...agentColumns(agent, now, style)]), style)
  ].join("\n")

const renderAgent = (agent: AgentStatus, now: number, style: Style): string =>
  details([
    ["agent", agent.agentName],
    ["kind", agent.kind],
    ["state", `${style.state(agent.state)}${agent.waitingFor === null ? "" : ` (${waitingDescriptions[agent.waitingFor]})`}`],
    ["pid", agent.pid === null ? "-" : String(agent.pid)],
    ["uptime", formatDuration(agent.uptimeSeconds)],
    ["started at", agent.startedAt === null ? "-" : DateTime.formatIso(agent.startedAt)],
    ["last heartbeat", ago(agent.lastHeartbeat, now, "-")],
    ["restarts", `${agent.restarts} (policy: ${agent.restartPolicy})`],
    ["depends on", formatList(agent.dependencies)],
    ["exit code", agent.exitCode === null ? "-" : String(agent.exitCode)],
    ["last error", agent.lastError ?? "-"],
    ...(agent.kind === "process"
      ? [["cpu", formatCpu(agent.cpuPercent, agent.cpuSeconds)], ["memory", formatBytes(agent.memoryBytes)]] as const
      : []),
    ...(agent.health === null ? [] : [["health", agent.health] as const]),
    ...agent.probes.flatMap((probe) => probeLines(probe, now, style))
  ], style)

export const render = (now: number) => (status: ResultOf<"status">, style: Style): string =>
  "agentName" in status ? renderAgent(status, now, style) : renderOrchestrator(status, now, style)
