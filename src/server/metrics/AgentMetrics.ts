/**
 * The agents' metrics, taken from the orchestrator's snapshot when Prometheus scrapes: `orchestrate_agent_up`,
 * `orchestrate_agent_state` (1 for an agent's state, 0 for the others), `orchestrate_agent_restarts_total`,
 * `orchestrate_agent_cpu_seconds_total` and `orchestrate_agent_memory_bytes`.
 *
 * Why at scrape time: every one of them is already in the snapshot (state, restarts, resource usage sampled by
 * `ResourceUsage`), and PrometheusMetrics renders whatever the registry holds when it is asked. Recording on every
 * change would put a metric update into every state change and every resource sample, and still read the same
 * values; setting them from one snapshot per scrape costs nothing between scrapes and cannot disagree with `ps`.
 * The two counters get what the snapshot's totals grew by since the last scrape (Effect counters only add); a
 * total that went down (an agent replaced by a reload starts from 0) adds what it is now, as Prometheus reads a
 * counter reset. An agent gone since the last scrape keeps its series, at 0, so a dashboard sees it leave.
 */
import { Metric } from "effect"
import { AgentState, type OrchestratorSnapshot } from "../../protocol/Model.ts"
import { NO_CONTEXT } from "./LabelSets.ts"

// Each made with its attributes, once per agent: cheaper to update than `Metric.withAttributes` (LabelSets.ts).
const up = (agent: string) =>
  Metric.gauge("orchestrate_agent_up", {
    description: "1 while the agent is running (started, and ready if it has a readiness probe), 0 otherwise",
    attributes: { agent }
  })
const state = (agent: string, state: string) =>
  Metric.gauge("orchestrate_agent_state", { description: "1 for the agent's current state, 0 for the others", attributes: { agent, state } })
const restarts = (agent: string) =>
  Metric.counter("orchestrate_agent_restarts_total", { description: "Times the agent was restarted", incremental: true, attributes: { agent } })
const cpu = (agent: string) =>
  Metric.counter("orchestrate_agent_cpu_seconds_total", {
    description: "CPU time the agent's processes used, in seconds, as far as sampled",
    incremental: true,
    attributes: { agent }
  })
const memory = (agent: string) =>
  Metric.gauge("orchestrate_agent_memory_bytes", {
    description: "Resident memory of the agent's processes at the last sample, in bytes",
    attributes: { agent }
  })

const STATES = AgentState.literals

/** An agent's metrics, made once per agent. */
interface AgentSeries {
  readonly up: Metric.Gauge<number>
  readonly states: ReadonlyArray<readonly [string, Metric.Gauge<number>]>
  readonly restarts: Metric.Counter<number>
  readonly cpu: Metric.Counter<number>
  readonly memory: Metric.Gauge<number>
  lastRestarts: number
  lastCpu: number
}

const seriesOf = (agent: string): AgentSeries => ({
  up: up(agent),
  states: STATES.map((name) => [name, state(agent, name)] as const),
  restarts: restarts(agent),
  cpu: cpu(agent),
  memory: memory(agent),
  lastRestarts: 0,
  lastCpu: 0
})

/** What a total grew by, or all of it after a reset. */
const growth = (now: number, last: number): number => now >= last ? now - last : now

/**
 * Every agent's series, for the whole process, as the registry holding them is the process's: whichever setter
 * reads a snapshot (a scrape of `/metrics`, the OTLP export's refresh), the counters get what the totals grew by
 * since any of them last read one, never the same growth twice.
 */
const known = new Map<string, AgentSeries>()

/** Sets the agents' metrics from `snapshot`; returns nothing, the registry holds them. */
export const makeAgentMetrics = () => {
  return (snapshot: OrchestratorSnapshot): void => {
    const present = new Set<string>()
    for (const agent of snapshot.agents) {
      present.add(agent.agentName)
      let series = known.get(agent.agentName)
      if (series === undefined) {
        series = seriesOf(agent.agentName)
        known.set(agent.agentName, series)
      }
      series.up.updateUnsafe(agent.state === "running" ? 1 : 0, NO_CONTEXT)
      for (const [name, gauge] of series.states) gauge.updateUnsafe(name === agent.state ? 1 : 0, NO_CONTEXT)
      series.restarts.updateUnsafe(growth(agent.restarts, series.lastRestarts), NO_CONTEXT)
      series.lastRestarts = agent.restarts
      if (agent.cpuSeconds !== null) {
        series.cpu.updateUnsafe(growth(agent.cpuSeconds, series.lastCpu), NO_CONTEXT)
        series.lastCpu = agent.cpuSeconds
      }
      series.memory.updateUnsafe(agent.memoryBytes ?? 0, NO_CONTEXT)
    }
    for (const [name, series] of known) {
      if (present.has(name)) continue
      series.up.updateUnsafe(0, NO_CONTEXT)
      for (const [, gauge] of series.states) gauge.updateUnsafe(0, NO_CONTEXT)
      series.memory.updateUnsafe(0, NO_CONTEXT)
      // Its totals start again from 0 if it comes back.
      series.lastRestarts = 0
      series.lastCpu = 0
    }
  }
}
