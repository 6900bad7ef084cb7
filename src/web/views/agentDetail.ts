/**
 * One agent, as `orchestrate status <agent>` shows it: its state and why, its process, restarts and policy,
 * dependencies and dependents, exit code and last error, CPU and memory, each probe's last result, and its log,
 * live. Its actions are those the caller may run on it.
 */
import { api, ApiError, errorText } from "../api.ts"
import { h, setText } from "../dom.ts"
import { formatAgo, formatBytes, formatCpuTime, formatDateTime, formatDuration, formatPercent, formatTimeOfDay } from "../format.ts"
import { agentHref } from "../router.ts"
import type { AgentStatusWire, ProbeStatusWire } from "../wire.ts"
import { actionButtons, updateActionButtons } from "./agentActions.ts"
import { type Context, fact, healthBadge, noteOf, setBadge, stateBadge, type View } from "./common.ts"
import { logTail } from "./logTail.ts"

const links = (names: ReadonlyArray<string>): Node =>
  names.length === 0
    ? document.createTextNode("-")
    : h("span", { class: "links" }, ...names.flatMap((name, i) => [i === 0 ? "" : ", ", h("a", { href: agentHref(name) }, name)]))

const PROBE_COLUMNS = [
  ["role", "Role"],
  ["kind", "Kind"],
  ["target", "Target"],
  ["health", "Health"],
  ["last", "Last result"],
  ["streak", "Consecutive"],
  ["failure", "Last failure"]
] as const

type ProbeColumn = (typeof PROBE_COLUMNS)[number][0]

/**
 * A probe's last failure: an alert while the probe is failing now; once it succeeds again, a past event, said
 * neutrally with when it was (an old start-up failure is no news about a probe that is healthy now).
 */
const failureOf = (probe: ProbeStatusWire, now: number): Node => {
  if (probe.last_failure === null) return h("span", { class: "muted" }, "none")
  const at = probe.last_failure_at === null ? "" : `at ${formatTimeOfDay(probe.last_failure_at)}, `
  const when = `${at}${formatAgo(probe.last_failure_at, now)}`
  const title = formatDateTime(probe.last_failure_at)
  return probe.consecutive_failures > 0
    ? h("span", { class: "probe-failure current", title }, `failing, last ${when}: ${probe.last_failure}`)
    : h("span", { class: "probe-failure past", title }, `${when}: ${probe.last_failure}`)
}

const probeCells = (probe: ProbeStatusWire, now: number): Readonly<Record<ProbeColumn, Node | string>> => ({
  role: probe.role,
  kind: probe.kind,
  target: h("code", {}, probe.target),
  health: healthBadge(probe.health),
  last: probe.last_result === null
    ? h("span", { class: "muted" }, "not tried yet")
    : h("span", { class: `result-${probe.last_result}` }, `${probe.last_result} ${formatAgo(probe.last_checked_at, now)}`),
  streak: `${probe.consecutive_successes} ok / ${probe.consecutive_failures} failed`,
  failure: failureOf(probe, now)
})

/**
 * The probes as a table, which narrow screens show as one labelled card per probe (styles.css); the roles are
 * explicit because a table whose CSS display changed loses them in some browsers.
 */
const probesTable = (probes: ReadonlyArray<ProbeStatusWire>, now: number): HTMLElement =>
  h(
    "table",
    { class: "grid probes-table", role: "table", "aria-label": "Probes" },
    h(
      "thead",
      { role: "rowgroup" },
      h("tr", { role: "row" }, ...PROBE_COLUMNS.map(([, label]) => h("th", { scope: "col", role: "columnheader" }, label)))
    ),
    h(
      "tbody",
      { role: "rowgroup" },
      ...probes.map((probe) => {
        const cells = probeCells(probe, now)
        return h(
          "tr",
          { role: "row", "data-probe": probe.role },
          ...PROBE_COLUMNS.map(([key, label]) =>
            h("td", { role: "cell", "data-col": key, "data-label": label, class: key === "streak" ? "numeric" : "" }, cells[key])
          )
        )
      })
    )
  )

/** The last error: red while it is why the agent is down; a past run's, neutral; none, just a muted dash. */
const lastErrorOf = (agent: AgentStatusWire): Node =>
  agent.last_error === null
    ? h("span", { class: "muted" }, "-")
    : agent.state === "failed"
    ? h("span", { class: "error-current" }, agent.last_error)
    : h("span", { class: "error-past" }, `${agent.last_error} (a previous run's)`)

export const agentDetailView = (context: Context, name: string): View => {
  const { store } = context
  const title = h("h1", {}, name)
  const badges = h("div", { class: "detail-badges" })
  const note = h("p", { class: "note detail-note" })
  const actions = h("div", { class: "detail-actions" })
  const facts = h("dl", { class: "facts" })
  const probes = h("section", { class: "probes", "data-testid": "probes", "aria-labelledby": "probes-title" })
  const missing = h("p", { class: "feedback-error", role: "alert", hidden: true })
  const tail = logTail(name, store)
  let buttons: HTMLElement | undefined
  const factCells = new Map<string, Element>()
  let shownActions = false

  const element = h(
    "section",
    { class: "view view-agent", "data-testid": "agent-detail", "data-agent": name },
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Agents"), h("span", { "aria-hidden": "true" }, " / "), name),
    h("header", { class: "detail-header" }, title, badges, actions),
    note,
    missing,
    h("div", { class: "detail-grid" }, h("section", { class: "card", "aria-label": "Status" }, facts), probes),
    tail.element
  )

  const render = (agent: AgentStatusWire) => {
    missing.hidden = true
    setBadge(badges, `${agent.state} ${agent.health}`, () =>
      h("span", { class: "badges" }, stateBadge(agent.state), agent.health === null ? "" : healthBadge(agent.health)))
    setText(note, noteOf(agent))
    note.hidden = note.textContent === ""
    if (!shownActions) {
      buttons = actionButtons(context, name, agent.state)
      if (buttons !== undefined) actions.append(buttons)
      shownActions = true
    } else if (buttons !== undefined) updateActionButtons(buttons, agent.state)
    const now = Date.now()
    const dependents = (store.status?.agents ?? [])
      .filter((other) => other.dependencies.includes(name))
      .map((other) => other.agent_name)
    const rows: ReadonlyArray<readonly [string, string, Node | string]> = [
      ["kind", "Kind", agent.kind],
      ["state", "State", agent.waiting_for === null ? agent.state : `${agent.state} (${noteOf(agent)})`],
      ["health", "Health", agent.health ?? "no probes"],
      ["pid", "PID", agent.pid === null ? "-" : String(agent.pid)],
      ["uptime", "Uptime", formatDuration(agent.uptime_seconds)],
      ["started-at", "Started at", formatDateTime(agent.started_at)],
      ["heartbeat", "Last heartbeat", formatAgo(agent.last_heartbeat, now)],
      ["restarts", "Restarts", `${agent.restarts} (policy: ${agent.restart_policy})`],
      ["dependencies", "Depends on", links(agent.dependencies)],
      ["dependents", "Needed by", links(dependents)],
      ["exit-code", "Exit code", agent.exit_code === null ? "-" : String(agent.exit_code)],
      ["last-error", "Last error", lastErrorOf(agent)],
      ...(agent.kind === "process"
        ? [
          ["cpu", "CPU", agent.cpu_percent === null ? "-" : `${formatPercent(agent.cpu_percent)}%`],
          ["cpu-time", "CPU time", formatCpuTime(agent.cpu_seconds)],
          ["memory", "Memory", formatBytes(agent.memory_bytes)]
        ] as const
        : [])
    ]
    for (const [key, label, value] of rows) {
      let cell = factCells.get(key)
      if (cell === undefined) {
        const added = fact(label, "", key)
        facts.append(added)
        cell = added.querySelector("dd") ?? added
        factCells.set(key, cell)
      }
      // Rewritten only when it changed, so that a selection in it survives the updates.
      if (typeof value === "string") {
        setText(cell, value)
        cell.classList.toggle("muted", value === "-")
      }
      else if (cell.textContent !== value.textContent) cell.replaceChildren(value)
    }
    probes.replaceChildren(
      h("h2", { id: "probes-title" }, "Probes"),
      agent.probes.length === 0
        ? h("p", { class: "muted" }, "No probes: the agent counts as ready once it runs.")
        : h("div", { class: "table-scroll" }, probesTable(agent.probes, now))
    )
  }

  const refresh = () => {
    const agent = store.agent(name)
    if (agent !== undefined) render(agent)
    else if (store.status !== undefined) {
      missing.hidden = false
      setText(missing, `The orchestrator runs no agent named '${name}' (any more).`)
    }
  }

  // The store's status may be a moment old, or lack an agent a reload just added: asked for once, directly.
  void api.agent(name).then(render, (error: unknown) => {
    if (error instanceof ApiError) {
      missing.hidden = false
      setText(missing, errorText(error))
    }
  })
  refresh()
  const off = store.on("status", refresh)
  return {
    element,
    title: name,
    dispose: () => {
      off()
      tail.dispose()
    }
  }
}
