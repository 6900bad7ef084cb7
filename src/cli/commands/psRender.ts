/**
 * What `orchestrate ps` prints: a table of the agents. Pure functions of the result, without effect/cli, shared by
 * the command (ps.ts) and the fast path (fast/main.ts).
 */
import type { AgentSummary } from "../../protocol/Model.ts"
import { formatBytes, formatDuration, formatHealth, formatPercent, table } from "../format.ts"
import type { Style } from "../style.ts"

export const HEADERS = ["NAME", "STATE", "HEALTH", "PID", "CPU%", "MEM", "UPTIME", "RESTARTS"]

interface Agents {
  readonly agents: ReadonlyArray<AgentSummary>
}

/** One row per agent, under HEADERS: the table here, and with --all-contexts after each agent's CONTEXT. */
export const rows = ({ agents }: Agents, style: Style) =>
  agents.map((agent) => [
    agent.name,
    style.state(agent.state),
    formatHealth(agent.health, style),
    agent.pid === null ? "-" : String(agent.pid),
    formatPercent(agent.cpuPercent),
    formatBytes(agent.memoryBytes),
    formatDuration(agent.uptimeSeconds),
    String(agent.restarts)
  ])

export const render = (data: Agents, style: Style): string =>
  data.agents.length === 0 ? "no agents" : table(HEADERS, rows(data, style), style)

/** Piped, a `--watch` refresh is its time and how many agents, then the table. */
export const logged = (data: Agents, style: Style): string => `${data.agents.length} agents\n${render(data, style)}`
