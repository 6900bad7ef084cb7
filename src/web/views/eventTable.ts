/**
 * A table of recorded events, newest first, live: the events and audit views. New events are added at the top as
 * they arrive (rows already shown are left alone); a filter change draws it again from the store. It lists a run
 * without holes: only events from the seq on which the store holds every event of the view's categories, and
 * "Load older events" extends it backwards, first with events the store holds beyond the rows drawn, then with
 * pages of the history (olderEvents.ts), as the log tail loads older lines.
 */
import { errorText } from "../api.ts"
import { h, setText } from "../dom.ts"
import { counted } from "../format.ts"
import { olderEvents } from "../olderEvents.ts"
import type { Category, Store } from "../store.ts"
import type { HistoryEventWire } from "../wire.ts"

/** Rows drawn at first, and added by each "older" request. */
const FIRST_ROWS = 500
const MORE_ROWS = 200

/**
 * Where a cell goes on a narrow screen, where each row becomes a card (styles.css): on its first line, on a line
 * of its own (labelled, or not), or nowhere.
 */
export type NarrowPlace = "head" | "line" | "labelled" | "hidden"

export interface EventColumn {
  readonly key: string
  readonly label: string
  readonly cell: (event: HistoryEventWire) => Node | string
  readonly numeric?: boolean
  readonly narrow: NarrowPlace
}

export interface EventTableOptions {
  readonly testid: string
  readonly label: string
  readonly columns: ReadonlyArray<EventColumn>
  readonly store: Store
  /** The categories the view lists now: what it asks for when loading older events. */
  readonly categories: () => ReadonlyArray<Category>
  /** Whether an event belongs in the table now (the view's filters, its categories among them). */
  readonly matches: (event: HistoryEventWire) => boolean
  readonly rowClass?: (event: HistoryEventWire) => string
  /** What a row is called: "event", "record". */
  readonly noun: string
}

export const eventTable = (options: EventTableOptions) => {
  const { store, columns } = options
  const body = h("tbody", { role: "rowgroup" })
  const count = h("span", { class: "muted", "aria-live": "polite" })
  const empty = h("tr", { class: "empty" }, h("td", { colspan: columns.length }, "No events match."))
  // Roles spelled out: narrow screens draw the rows as cards, and a table whose CSS display changed loses them.
  const table = h(
    "table",
    { "data-testid": options.testid, class: "grid events", role: "table", "aria-label": options.label },
    h(
      "thead",
      { role: "rowgroup" },
      h("tr", { role: "row" }, ...columns.map((column) => h("th", { scope: "col", role: "columnheader", class: column.numeric === true ? "numeric" : "" }, column.label)))
    ),
    body
  )
  const older = h("button", { type: "button", class: "small", "data-testid": `${options.testid}-older` }, `Load older ${options.noun}s`)
  const state = h("span", { class: "muted", "aria-live": "polite" })
  const footer = h("div", { class: "table-footer" }, older, state)
  let limit = FIRST_ROWS
  let loading = false
  /** The newest seq drawn, and the oldest the store held then: telling new events from older or a store started over. */
  let newest = -1
  let storeFirst: number | undefined

  /** The oldest seq the table may list: from there on, the store holds every event of the view's categories. */
  const bound = () => store.completeFrom(options.categories())

  const row = (event: HistoryEventWire): HTMLTableRowElement =>
    h(
      "tr",
      { "data-seq": event.seq, role: "row", class: `severity-${event.severity} ${options.rowClass?.(event) ?? ""}` },
      ...columns.map((column) =>
        h("td", {
          "data-col": column.key,
          "data-label": column.label,
          role: "cell",
          class: `narrow-${column.narrow}${column.numeric === true ? " numeric" : ""}`
        }, column.cell(event))
      )
    )

  /** How many matching events the store holds, from the bound on. */
  const held = (): number => {
    const from = bound()
    let matching = 0
    for (let i = store.events.length - 1; i >= 0; i--) {
      const event = store.events[i]
      if (event === undefined || event.seq < from) break
      if (options.matches(event)) matching++
    }
    return matching
  }

  const drawn = () => body.querySelectorAll("tr[data-seq]").length

  const finish = () => {
    const rows = drawn()
    if (rows === 0 && empty.parentElement !== body) body.append(empty)
    if (rows > 0) empty.remove()
    setText(count, `${counted(rows, options.noun)} shown`)
    const atStart = bound() === 0 && held() <= rows
    older.disabled = loading || atStart
    if (!loading && atStart) setText(state, "Nothing older is in the history.")
    else if (!loading && state.textContent === "Nothing older is in the history.") setText(state, "")
  }

  /** Draws the table again from the store: for a filter change, older events, or a store that started over. */
  const redraw = () => {
    const from = bound()
    const matching: Array<HistoryEventWire> = []
    for (let i = store.events.length - 1; i >= 0 && matching.length < limit; i--) {
      const event = store.events[i]
      if (event === undefined || event.seq < from) break
      if (options.matches(event)) matching.push(event)
    }
    body.replaceChildren(...matching.map(row))
    newest = store.events.at(-1)?.seq ?? -1
    storeFirst = store.events[0]?.seq
    finish()
  }

  /** Adds what arrived since the last look, newest on top. */
  const update = () => {
    const first = store.events[0]?.seq
    const last = store.events.at(-1)?.seq ?? -1
    if (last < newest || (storeFirst !== undefined && first !== undefined && first < storeFirst)) return redraw()
    for (const seq of store.removed) body.querySelector(`tr[data-seq="${seq}"]`)?.remove()
    const from = bound()
    const fresh: Array<HTMLTableRowElement> = []
    for (let i = store.events.length - 1; i >= 0; i--) {
      const event = store.events[i]
      if (event === undefined || event.seq <= newest) break
      if (event.seq >= from && options.matches(event)) fresh.push(row(event))
    }
    newest = last
    storeFirst = first
    if (fresh.length > 0) {
      body.prepend(...fresh)
      const rows = body.querySelectorAll("tr[data-seq]")
      for (let i = limit; i < rows.length; i++) rows[i]?.remove()
    }
    finish()
  }

  const loadOlder = async () => {
    limit = drawn() + MORE_ROWS
    const categories = options.categories()
    const before = bound()
    const available = held()
    // What the store holds beyond the rows drawn comes first; the history is asked only for what it lacks.
    if (available >= limit || before === 0 || !Number.isFinite(before)) return redraw()
    loading = true
    older.disabled = true
    setText(state, `Loading older ${options.noun}s…`)
    try {
      const found = await olderEvents(before, categories, limit - available, options.matches)
      const shown = found.events.filter(options.matches).length
      limit = Math.max(limit, available + shown)
      store.addOlderEvents(found.events)
      store.markComplete(categories, found.from)
      setText(state, `${counted(found.events.length, `older ${options.noun}`)} loaded${shown === found.events.length ? "" : `, ${shown} of them shown`}.`)
    } catch (error) {
      setText(state, errorText(error))
    } finally {
      loading = false
      redraw()
    }
  }
  older.addEventListener("click", () => void loadOlder())

  redraw()
  const off = store.on("events", update)
  return { table, count, footer, redraw, dispose: off }
}
