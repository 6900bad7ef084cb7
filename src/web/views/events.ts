/**
 * The events view: the history, newest first, following live, filtered by category, agent and event name as
 * `orchestrate history` filters them, and by default showing what it shows: what happened to the agents and the
 * orchestrator. The audit trail's records (every command, this page's own requests among them) are one choice
 * of the category filter away, and have their own view. Older events load on request.
 */
import { h } from "../dom.ts"
import { formatClock, formatData, formatDateTime } from "../format.ts"
import { agentHref } from "../router.ts"
import type { HistoryEventWire } from "../wire.ts"
import { CATEGORIES, type Category } from "../store.ts"
import { type Context, sessionMemory, type View } from "./common.ts"
import { eventTable } from "./eventTable.ts"

/** The category filter's choices, the first the default: `orchestrate history`'s (src/cli/commands/historyRender.ts). */
const CHOICES: ReadonlyArray<{ readonly value: string; readonly label: string; readonly categories: ReadonlyArray<Category> }> = [
  { value: "agent,orchestrator", label: "agents and orchestrator", categories: ["agent", "orchestrator"] },
  { value: "agent", label: "agent", categories: ["agent"] },
  { value: "orchestrator", label: "orchestrator", categories: ["orchestrator"] },
  { value: "command", label: "command (audit trail)", categories: ["command"] },
  { value: "all", label: "all, commands included", categories: CATEGORIES }
]
const DEFAULT_CHOICE = CHOICES[0]?.value ?? "all"

const HEARTBEAT = "AGENT_HEARTBEAT"

const remember = sessionMemory(() => ({ category: DEFAULT_CHOICE, agent: "", event: "", heartbeats: false }))

export const timeCell = (event: HistoryEventWire): Node =>
  h("time", { datetime: event.timestamp, title: formatDateTime(event.timestamp) }, formatClock(event.timestamp))

const agentCell = (name: string | null): Node | string => name === null ? "-" : h("a", { href: agentHref(name) }, name)

export const eventsView = (context: Context): View => {
  const { store } = context
  const kept = remember(context)
  const category = h(
    "select",
    { id: "event-category", "data-testid": "event-category" },
    ...CHOICES.map((choice) => h("option", { value: choice.value }, choice.label))
  )
  category.value = kept.category
  const categories = (): ReadonlyArray<Category> =>
    CHOICES.find((choice) => choice.value === kept.category)?.categories ?? CATEGORIES
  let shownCategories = new Set<string>(categories())
  const agentNames = h("datalist", { id: "event-agent-names" })
  const eventNames = h("datalist", { id: "event-names" })
  const agent = h("input", { id: "event-agent", type: "search", "data-testid": "event-agent", list: "event-agent-names", autocomplete: "off", value: kept.agent })
  const heartbeats = h("input", { id: "event-heartbeats", type: "checkbox", "data-testid": "event-heartbeats" })
  heartbeats.checked = kept.heartbeats
  const eventName = h("input", { id: "event-name", type: "search", "data-testid": "event-name", list: "event-names", autocomplete: "off", value: kept.event })

  const matches = (event: HistoryEventWire): boolean =>
    shownCategories.has(event.category) &&
    (kept.agent === "" || (event.agent_name ?? "").toLowerCase().includes(kept.agent.toLowerCase())) &&
    (kept.event === "" || event.event_name.toLowerCase().includes(kept.event.toLowerCase())) &&
    // Every agent's pulse, every few seconds: noise unless asked for, by the box or by the event's name.
    (event.event_name !== HEARTBEAT || kept.heartbeats || kept.event !== "")

  const table = eventTable({
    testid: "events",
    label: "Events, newest first",
    noun: "event",
    store,
    categories,
    matches,
    columns: [
      { key: "time", label: "Time", cell: timeCell, narrow: "head" },
      // The filter says which categories are shown, and the event's name which it is of.
      { key: "category", label: "Category", cell: (event) => event.category, narrow: "hidden" },
      { key: "agent", label: "Agent", cell: (event) => agentCell(event.agent_name), narrow: "head" },
      { key: "event", label: "Event", cell: (event) => h("span", { class: "event-name" }, event.event_name), narrow: "head" },
      {
        key: "details",
        label: "Details",
        cell: (event) => {
          const details = formatData(event.data)
          return details === "" ? "" : h("span", { class: "details" }, details)
        },
        narrow: "line"
      }
    ]
  })

  const suggestions = () => {
    const agents = new Set((store.status?.agents ?? []).map((a) => a.agent_name))
    const names = new Set(store.events.map((event) => event.event_name))
    agentNames.replaceChildren(...[...agents].sort().map((name) => h("option", { value: name })))
    eventNames.replaceChildren(...[...names].sort().map((name) => h("option", { value: name })))
  }

  const changed = () => {
    kept.category = category.value
    shownCategories = new Set(categories())
    kept.agent = agent.value.trim()
    kept.event = eventName.value.trim()
    kept.heartbeats = heartbeats.checked
    table.redraw()
  }
  category.addEventListener("change", changed)
  agent.addEventListener("input", changed)
  eventName.addEventListener("input", changed)
  heartbeats.addEventListener("change", changed)
  agent.addEventListener("focus", suggestions)
  eventName.addEventListener("focus", suggestions)

  const element = h(
    "section",
    { class: "view view-events", "aria-labelledby": "events-title" },
    h("div", { class: "view-header" }, h("h1", { id: "events-title" }, "Events"), table.count),
    h(
      "div",
      { class: "toolbar filters" },
      h("label", { for: "event-category" }, "Category"),
      category,
      h("label", { for: "event-agent" }, "Agent"),
      agent,
      h("label", { for: "event-name" }, "Event"),
      eventName,
      h("label", { class: "check" }, heartbeats, "Show heartbeats"),
      agentNames,
      eventNames
    ),
    h("div", { class: "table-scroll" }, table.table),
    table.footer
  )
  return { element, title: "Events", dispose: table.dispose }
}
