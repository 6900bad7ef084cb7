/**
 * The orchestrator at a glance, above the agents table: its state and run mode, uptime, workers in use, the
 * agents counted by state, and the CPU and memory of its process agents, live from the store's status.
 */
import { h, setText } from "../dom.ts"
import { formatBytes, formatDuration, formatPercent } from "../format.ts"
import type { Store } from "../store.ts"
import { AGENT_STATES, type AgentState, type OrchestratorStatusWire } from "../wire.ts"

/** The states in which an agent holds a worker slot: from when it starts until it has stopped. */
const HOLDS_A_WORKER: ReadonlySet<AgentState> = new Set(["starting", "running", "paused", "stopping"])

const sum = (values: ReadonlyArray<number | null>): number | null =>
  values.some((value) => value !== null) ? values.reduce<number>((total, value) => total + (value ?? 0), 0) : null

const tile = (label: string, ...value: ReadonlyArray<Node>) =>
  h("div", { class: "tile", "data-tile": label.toLowerCase().replace(/\W+/g, "-") }, h("div", { class: "tile-label" }, label), h("div", { class: "tile-value" }, ...value))

export const summaryView = (store: Store, onState: (state: AgentState) => void) => {
  const state = h("span", { "data-testid": "summary-state", class: "badge" })
  const runMode = h("span", { class: "muted", "data-testid": "summary-run-mode" })
  const uptime = h("span", { "data-testid": "summary-uptime" })
  const workers = h("span", { "data-testid": "summary-workers" })
  const counts = h("div", { class: "counts", "data-testid": "summary-counts" })
  const cpu = h("span", { "data-testid": "summary-cpu" })
  const memory = h("span", { "data-testid": "summary-memory" })
  const element = h(
    "section",
    { class: "summary", "data-testid": "summary", "aria-label": "Orchestrator summary" },
    tile("Orchestrator", state, runMode),
    tile("Uptime", uptime),
    tile("Workers in use", workers),
    h("div", { class: "tile tile-wide" }, h("div", { class: "tile-label" }, "Agents by state"), counts),
    tile("CPU (processes)", cpu),
    tile("Memory (processes)", memory)
  )

  const render = (status: OrchestratorStatusWire) => {
    setText(state, status.state)
    state.className = `badge orchestrator-${status.state}`
    setText(runMode, status.run_mode)
    setText(uptime, formatDuration(status.uptime_seconds))
    uptime.title = `since ${new Date(status.started_at).toLocaleString()}`
    const inUse = status.agents.filter((agent) => HOLDS_A_WORKER.has(agent.state)).length
    setText(workers, `${inUse} / ${status.max_workers}`)
    workers.title = "Agents starting, running, paused or stopping, of maxWorkers"
    const cpuTotal = sum(status.agents.map((agent) => agent.cpu_percent))
    setText(cpu, cpuTotal === null ? "-" : `${formatPercent(cpuTotal)}%`)
    setText(memory, formatBytes(sum(status.agents.map((agent) => agent.memory_bytes))))
    const chips = [
      h("span", { class: "count-total" }, `${status.counts.total} total`),
      ...AGENT_STATES.filter((name) => status.counts[name] > 0).map((name) =>
        h(
          "button",
          {
            type: "button",
            class: `chip state-${name}`,
            title: `Show the ${name} agents`,
            "data-state": name,
            onclick: () => onState(name)
          },
          h("span", { class: "dot", "aria-hidden": "true" }),
          `${status.counts[name]} ${name}`
        )
      )
    ]
    const key = chips.map((chip) => chip.textContent).join("|")
    if (counts.getAttribute("data-shows") !== key) {
      counts.setAttribute("data-shows", key)
      counts.replaceChildren(...chips)
    }
  }

  const refresh = () => {
    if (store.status !== undefined) render(store.status)
  }
  refresh()
  const off = store.on("status", refresh)
  return { element, dispose: off }
}
