/**
 * The audit view: the `command` category of the history, the audit trail of every request to the command
 * interface (over ZeroMQ and HTTP, this page's own among them): who ran what, when, from where, with the code, the
 * reason given and the error answered. Newest first, live, with a text filter over every column.
 */
import { h } from "../dom.ts"
import { formatValue } from "../format.ts"
import type { HistoryEventWire } from "../wire.ts"
import { type Context, sessionMemory, type View } from "./common.ts"
import { eventTable } from "./eventTable.ts"
import { timeCell } from "./events.ts"

const remember = sessionMemory(() => ({ filter: "" }))

const text = (value: unknown): string => value === undefined || value === null ? "" : formatValue(value)

/** A record's member, as text; `fallback` when it has none. */
const member = (event: HistoryEventWire, key: string, fallback = ""): string => text(event.data[key]) || fallback

const codeCell = (event: HistoryEventWire): Node => {
  const code = event.data["code"]
  const kind = typeof code !== "number" ? "none" : code < 400 ? "ok" : code < 500 ? "refused" : "failed"
  return h("span", { class: `code code-${kind}` }, text(code) || "-")
}

const argsCell = (event: HistoryEventWire): string => {
  const args = event.data["args"]
  return Array.isArray(args) ? args.map(formatValue).join(" ") : text(args)
}

export const auditView = (context: Context): View => {
  const kept = remember(context)
  const filter = h("input", { id: "audit-filter", type: "search", "data-testid": "audit-filter", autocomplete: "off", value: kept.filter, placeholder: "principal, command, reason…" })
  const wordsOf = (text: string) => text.toLowerCase().split(/\s+/).filter((word) => word !== "")
  // Split once per change of the filter, not once per record tested.
  let words = wordsOf(kept.filter)
  const matches = (event: HistoryEventWire): boolean => {
    if (event.category !== "command") return false
    if (words.length === 0) return true
    const haystack = `${event.event_name} ${JSON.stringify(event.data)}`.toLowerCase()
    return words.every((word) => haystack.includes(word))
  }
  const table = eventTable({
    testid: "audit",
    label: "Audit trail, newest first",
    noun: "record",
    store: context.store,
    categories: () => ["command"],
    matches,
    columns: [
      { key: "time", label: "Time", cell: timeCell, narrow: "head" },
      {
        key: "principal",
        label: "Principal",
        cell: (event) => {
          const principal = member(event, "principal")
          return principal === "" ? h("span", { class: "muted" }, "anonymous") : principal
        },
        narrow: "labelled"
      },
      {
        key: "command",
        label: "Command",
        // Records that are no command (a refused handshake) say what they are instead.
        cell: (event) => h("span", { class: "command" }, member(event, "command", event.event_name)),
        narrow: "head"
      },
      { key: "args", label: "Arguments", cell: argsCell, narrow: "labelled" },
      { key: "code", label: "Code", cell: codeCell, numeric: true, narrow: "head" },
      { key: "transport", label: "Transport", cell: (event) => member(event, "transport", "zmq"), narrow: "labelled" },
      { key: "peer", label: "Peer", cell: (event) => member(event, "peer_address", member(event, "peer", "-")), narrow: "labelled" },
      { key: "reason", label: "Reason", cell: (event) => member(event, "reason"), narrow: "labelled" },
      {
        key: "error",
        label: "Error",
        cell: (event) => {
          const error = member(event, "error")
          return error === "" ? "" : h("span", { class: "audit-error" }, `${member(event, "error_reason")} ${error}`.trim())
        },
        narrow: "labelled"
      }
    ]
  })
  filter.addEventListener("input", () => {
    kept.filter = filter.value.trim()
    words = wordsOf(kept.filter)
    table.redraw()
  })
  const element = h(
    "section",
    { class: "view view-audit", "aria-labelledby": "audit-title" },
    h("div", { class: "view-header" }, h("h1", { id: "audit-title" }, "Audit trail"), table.count),
    h("div", { class: "toolbar filters" }, h("label", { for: "audit-filter" }, "Filter"), filter),
    h("div", { class: "table-scroll" }, table.table),
    table.footer
  )
  return { element, title: "Audit", dispose: table.dispose }
}
