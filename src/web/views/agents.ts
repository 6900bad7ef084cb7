/**
 * The agents view: the summary, then every agent in a table kept live from the store's status (rows keyed by
 * name, cells rewritten only when their text changes, so that focus, selection and a text selection survive the
 * updates), sortable by any column, filtered by a text, with a checkbox per row for actions on a selection.
 */
import { ACTION_LABELS } from "../actions.ts"
import { h, setAttribute, setText } from "../dom.ts"
import { counted, formatBytes, formatDuration, formatPercent } from "../format.ts"
import { agentHref } from "../router.ts"
import { AGENT_STATES, type AgentAction, type AgentStatusWire } from "../wire.ts"
import { actionButtons, updateActionButtons } from "./agentActions.ts"
import { type Context, healthBadge, noteOf, sessionMemory, setBadge, stateBadge, type View } from "./common.ts"
import { arrowKeysBetweenRows } from "./rowKeys.ts"
import { summaryView } from "./summary.ts"

type Column = "name" | "kind" | "state" | "health" | "pid" | "uptime" | "restarts" | "cpu" | "memory"

type SortValue = string | number | null

const HEALTH_ORDER: Readonly<Record<string, number>> = { unhealthy: 0, starting: 1, healthy: 2 }

const COLUMNS: ReadonlyArray<{
  readonly key: Column
  readonly label: string
  readonly numeric: boolean
  readonly value: (agent: AgentStatusWire) => SortValue
}> = [
  { key: "name", label: "Name", numeric: false, value: (agent) => agent.agent_name },
  { key: "kind", label: "Kind", numeric: false, value: (agent) => agent.kind },
  { key: "state", label: "State", numeric: false, value: (agent) => AGENT_STATES.indexOf(agent.state) },
  { key: "health", label: "Health", numeric: false, value: (agent) => agent.health === null ? null : HEALTH_ORDER[agent.health] ?? null },
  { key: "pid", label: "PID", numeric: true, value: (agent) => agent.pid },
  { key: "uptime", label: "Uptime", numeric: true, value: (agent) => agent.uptime_seconds },
  { key: "restarts", label: "Restarts", numeric: true, value: (agent) => agent.restarts },
  { key: "cpu", label: "CPU %", numeric: true, value: (agent) => agent.cpu_percent },
  { key: "memory", label: "Memory", numeric: true, value: (agent) => agent.memory_bytes }
]

interface Sort {
  readonly column: Column
  readonly direction: "ascending" | "descending"
}

interface AgentsMemory {
  sort: Sort | undefined
  filter: string
  readonly selected: Set<string>
}

const remember = sessionMemory((): AgentsMemory => ({ sort: undefined, filter: "", selected: new Set() }))

/** Unknown values sort last whichever the direction. */
const compare = (a: SortValue, b: SortValue, direction: Sort["direction"]): number => {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1
  const order = typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))
  return direction === "ascending" ? order : -order
}

const matches = (agent: AgentStatusWire, filter: string): boolean => {
  const words = filter.toLowerCase().split(/\s+/).filter((word) => word !== "")
  const text = `${agent.agent_name} ${agent.kind} ${agent.state} ${agent.health ?? ""}`.toLowerCase()
  return words.every((word) => text.includes(word))
}

interface Row {
  readonly element: HTMLTableRowElement
  readonly cells: Readonly<Record<Column, HTMLTableCellElement>>
  readonly note: HTMLElement
  readonly checkbox: HTMLInputElement | undefined
  readonly actions: HTMLElement | undefined
}

export const agentsView = (context: Context): View => {
  const { store, permissions } = context
  const kept = remember(context)
  const selectable = permissions.agentActions.length > 0
  const rows = new Map<string, Row>()

  const filter = h("input", {
    id: "agent-filter",
    type: "search",
    "data-testid": "agent-filter",
    placeholder: "name, state, health…",
    autocomplete: "off",
    value: kept.filter
  })
  const shown = h("span", { class: "muted", "aria-live": "polite" })
  const selectionCount = h("span", { class: "selection-count" })
  const selectionButtons: Array<HTMLButtonElement> = permissions.agentActions.map((action: AgentAction) =>
    h("button", {
      type: "button",
      class: `small action-${action}`,
      "data-action": action,
      onclick: () => void context.controls.act(action, selectedNames())
    }, ACTION_LABELS[action])
  )
  const selectionBar = selectable
    ? h(
      "div",
      { class: "selection-actions", "data-testid": "selection-actions", role: "group", "aria-label": "Actions on the selected agents" },
      selectionCount,
      ...selectionButtons,
      h("button", { type: "button", class: "small ghost", "aria-label": "Clear the selection", onclick: () => setSelection([]) }, "Clear")
    )
    : null

  const selectAll = selectable
    ? h("input", { type: "checkbox", "aria-label": "Select every agent shown", onchange: () => toggleAll() })
    : undefined
  const headers = new Map<Column, HTMLTableCellElement>()
  const headRow = h("tr", {}, selectAll === undefined ? null : h("th", { class: "select", scope: "col" }, selectAll))
  for (const column of COLUMNS) {
    const th = h(
      "th",
      { scope: "col", "aria-sort": "none", "data-col": column.key, class: column.numeric ? "numeric" : "" },
      h("button", { type: "button", class: "sort", onclick: () => sortBy(column.key) }, column.label, h("span", { class: "sort-mark", "aria-hidden": "true" }))
    )
    headers.set(column.key, th)
    headRow.append(th)
  }
  if (permissions.agentActions.length > 0) headRow.append(h("th", { scope: "col", class: "row-actions" }, h("span", { class: "visually-hidden" }, "Actions")))
  const body = h("tbody")
  arrowKeysBetweenRows(body, "tr[data-agent]")
  const empty = h("tr", { class: "empty" }, h("td", { colspan: headRow.children.length }, ""))
  const table = h("table", { "data-testid": "agents", class: "grid agents" }, h("thead", {}, headRow), body)

  const summary = summaryView(store, (state) => {
    filter.value = state
    kept.filter = state
    render()
  })

  const element = h(
    "section",
    { class: "view view-agents", "aria-labelledby": "agents-title" },
    h("h1", { id: "agents-title", class: "visually-hidden" }, "Agents"),
    summary.element,
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: "agent-filter", class: "filter-label" }, "Filter agents"),
      filter,
      shown,
      selectionBar
    ),
    h("div", { class: "table-scroll" }, table)
  )

  const selectedNames = () => [...kept.selected].filter((name) => rows.has(name))

  const setSelection = (names: ReadonlyArray<string>) => {
    kept.selected.clear()
    for (const name of names) kept.selected.add(name)
    render()
  }

  const visibleNames = () =>
    (store.status?.agents ?? []).filter((agent) => matches(agent, kept.filter)).map((agent) => agent.agent_name)

  const toggleAll = () => {
    const visible = visibleNames()
    const all = visible.length > 0 && visible.every((name) => kept.selected.has(name))
    setSelection(all ? [] : [...new Set([...kept.selected, ...visible])])
  }

  const sortBy = (column: Column) => {
    const current = kept.sort
    kept.sort = current?.column === column && current.direction === "ascending"
      ? { column, direction: "descending" }
      : { column, direction: "ascending" }
    render()
  }

  const makeRow = (agent: AgentStatusWire): Row => {
    const name = agent.agent_name
    const cell = (column: Column) =>
      h("td", { "data-col": column, class: COLUMNS.find((c) => c.key === column)?.numeric === true ? "numeric" : "" })
    const cells = {
      name: cell("name"),
      kind: cell("kind"),
      state: cell("state"),
      health: cell("health"),
      pid: cell("pid"),
      uptime: cell("uptime"),
      restarts: cell("restarts"),
      cpu: cell("cpu"),
      memory: cell("memory")
    }
    cells.name.append(h("a", { href: agentHref(name) }, name))
    const note = h("span", { class: "note" })
    const checkbox = selectable
      ? h("input", {
        type: "checkbox",
        "data-select": name,
        "aria-label": `Select ${name}`,
        onchange: (event: Event) => {
          const target = event.currentTarget
          if (!(target instanceof HTMLInputElement)) return
          if (target.checked) kept.selected.add(name)
          else kept.selected.delete(name)
          renderSelection()
        }
      })
      : undefined
    const actions = actionButtons(context, name, agent.state, { foldable: true })
    const element = h(
      "tr",
      { "data-agent": name },
      checkbox === undefined ? null : h("td", { class: "select" }, checkbox),
      ...COLUMNS.map((column) => cells[column.key]),
      permissions.agentActions.length > 0 ? h("td", { class: "row-actions" }, actions ?? null) : null
    )
    return { element, cells, note, checkbox, actions }
  }

  const updateRow = (row: Row, agent: AgentStatusWire) => {
    setBadge(row.cells.state, agent.state, () => stateBadge(agent.state))
    const note = noteOf(agent)
    setText(row.note, note)
    if (note === "") row.note.remove()
    else if (row.note.parentElement === null) row.cells.state.append(row.note)
    setAttribute(row.cells.state, "title", note === "" ? null : note)
    setText(row.cells.kind, agent.kind)
    setBadge(row.cells.health, agent.health ?? "-", () => healthBadge(agent.health))
    setText(row.cells.pid, agent.pid === null ? "-" : String(agent.pid))
    setText(row.cells.uptime, formatDuration(agent.uptime_seconds))
    setText(row.cells.restarts, String(agent.restarts))
    setText(row.cells.cpu, formatPercent(agent.cpu_percent))
    setText(row.cells.memory, formatBytes(agent.memory_bytes))
    if (row.actions !== undefined) updateActionButtons(row.actions, agent.state)
    // The checkbox and the `selected` class: renderSelection, after every row.
    row.element.classList.toggle("row-failed", agent.state === "failed" || agent.health === "unhealthy")
  }

  const renderSelection = () => {
    const names = selectedNames()
    setText(selectionCount, names.length === 0 ? "Select agents for actions on several" : `${names.length} selected`)
    selectionBar?.classList.toggle("has-selection", names.length > 0)
    for (const button of selectionButtons) {
      button.disabled = names.length === 0
      setAttribute(button, "aria-label", names.length === 0 ? null : `${button.textContent ?? ""} ${names.length} selected`)
    }
    if (selectAll !== undefined) {
      const visible = visibleNames()
      const count = visible.filter((name) => kept.selected.has(name)).length
      selectAll.checked = visible.length > 0 && count === visible.length
      selectAll.indeterminate = count > 0 && count < visible.length
    }
    for (const [name, row] of rows) {
      if (row.checkbox !== undefined) row.checkbox.checked = kept.selected.has(name)
      row.element.classList.toggle("selected", kept.selected.has(name))
    }
  }

  const render = () => {
    const agents = store.status?.agents ?? []
    const names = new Set(agents.map((agent) => agent.agent_name))
    for (const [name, row] of rows) {
      if (names.has(name)) continue
      row.element.remove()
      rows.delete(name)
      kept.selected.delete(name)
    }
    const sort = kept.sort
    const column = sort === undefined ? undefined : COLUMNS.find((c) => c.key === sort.column)
    const ordered = sort === undefined || column === undefined
      ? agents
      : [...agents].sort((a, b) => compare(column.value(a), column.value(b), sort.direction) || a.agent_name.localeCompare(b.agent_name))
    const wanted: Array<HTMLTableRowElement> = []
    for (const agent of ordered) {
      let row = rows.get(agent.agent_name)
      if (row === undefined) {
        row = makeRow(agent)
        rows.set(agent.agent_name, row)
      }
      updateRow(row, agent)
      const visible = matches(agent, kept.filter)
      if (row.element.hidden === visible) row.element.hidden = !visible
      wanted.push(row.element)
    }
    // Moved only when the order changed: moving a row would take the focus from a button in it.
    const current = [...body.children].filter((child) => child !== empty)
    if (current.length !== wanted.length || current.some((child, i) => child !== wanted[i])) body.replaceChildren(...wanted)
    const visibleCount = wanted.filter((row) => !row.hidden).length
    const emptyText = agents.length === 0 ? "No agents." : visibleCount === 0 ? `No agent matches “${kept.filter}”.` : ""
    const emptyCell = empty.firstElementChild
    if (emptyCell !== null) setText(emptyCell, emptyText)
    if (emptyText === "") empty.remove()
    else if (empty.parentElement !== body) body.append(empty)
    setText(shown, kept.filter === "" ? counted(agents.length, "agent") : `${visibleCount} of ${counted(agents.length, "agent")}`)
    for (const c of COLUMNS) {
      const th = headers.get(c.key)
      if (th !== undefined) th.setAttribute("aria-sort", sort?.column === c.key ? sort.direction : "none")
    }
    renderSelection()
  }

  filter.addEventListener("input", () => {
    kept.filter = filter.value
    render()
  })
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && filter.value !== "") {
      filter.value = ""
      kept.filter = ""
      render()
    }
  })

  render()
  const off = store.on("status", render)
  return {
    element,
    title: "Agents",
    dispose: () => {
      off()
      summary.dispose()
    }
  }
}
