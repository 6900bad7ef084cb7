/**
 * An agent's log, live: its newest lines from `GET /logs`, then every new one from an event stream of its own
 * (`?agent=<name>&logs=1`, resumed from the page's line cursor, so that no line falls between the two). It follows
 * the newest line unless paused, filters by stream and by text, and loads older lines on demand.
 *
 * Older lines: `GET /logs` pages forward only (`after_seq`), and seqs are shared by every agent, so the lines
 * before the oldest shown are found by looking back ever further (`after_seq` = oldest - window, the window
 * growing fourfold) and paging forward from there until reaching what is shown.
 */
import { api, errorText } from "../api.ts"
import { h, setText } from "../dom.ts"
import { formatClock, formatDateTime } from "../format.ts"
import { LiveStream } from "../liveStream.ts"
import type { Store } from "../store.ts"
import type { DroppedWire, LogLineWire } from "../wire.ts"

/** Lines asked for at first, and added by each "older" request. */
const PAGE = 200
/** Most lines kept in the page; the oldest go first. */
const MAX_LINES = 10_000
const STREAM_LABEL: Readonly<Record<string, string>> = { stdout: "out", stderr: "err", orchestrator: "orch" }

type StreamFilter = "all" | "stdout" | "stderr"

export const logTail = (agent: string, store: Store) => {
  let paused = false
  let unseen = 0
  let oldest: number | undefined
  let mayHaveOlder = true
  let streamFilter: StreamFilter = "all"
  let textFilter = ""
  let stream: LiveStream | undefined
  let disposed = false
  const seqs = new Set<number>()

  const lines = h("div", {
    class: "log-lines",
    "data-testid": "log-tail",
    role: "log",
    "aria-label": `${agent}'s output`,
    "aria-live": "off",
    tabindex: 0
  })
  const pause = h("button", { type: "button", class: "small", "data-testid": "log-pause", "aria-pressed": "false" }, "Pause scrolling")
  const streamSelect = h(
    "select",
    { id: "log-stream", "data-testid": "log-stream" },
    h("option", { value: "all" }, "all streams"),
    h("option", { value: "stdout" }, "stdout"),
    h("option", { value: "stderr" }, "stderr")
  )
  const filter = h("input", { id: "log-filter", type: "search", "data-testid": "log-filter", placeholder: "text in the line", autocomplete: "off" })
  const older = h("button", { type: "button", class: "small", "data-testid": "log-older" }, "Load older lines")
  const state = h("span", { class: "muted log-state", "aria-live": "polite" }, "Loading…")

  const element = h(
    "section",
    { class: "log-tail", "aria-labelledby": "log-title" },
    h(
      "div",
      { class: "log-toolbar" },
      h("h2", { id: "log-title" }, "Log"),
      pause,
      h("label", { for: "log-stream", class: "visually-hidden" }, "Stream"),
      streamSelect,
      h("label", { for: "log-filter", class: "visually-hidden" }, "Filter the log by text"),
      filter,
      older,
      state
    ),
    lines
  )

  const visible = (line: HTMLElement): boolean =>
    (streamFilter === "all" || line.dataset["stream"] === streamFilter) &&
    (textFilter === "" || (line.dataset["text"] ?? "").toLowerCase().includes(textFilter))

  const lineElement = (line: LogLineWire): HTMLElement => {
    const element = h(
      "div",
      { class: `log-line stream-${line.stream}`, "data-seq": line.seq, "data-stream": line.stream },
      h("time", { class: "log-time", datetime: line.timestamp, title: formatDateTime(line.timestamp) }, formatClock(line.timestamp)),
      h("span", { class: "log-stream" }, STREAM_LABEL[line.stream] ?? line.stream),
      h("span", { class: "log-text" }, line.line)
    )
    element.dataset["text"] = line.line
    element.hidden = !visible(element)
    return element
  }

  const scrollToEnd = () => {
    lines.scrollTop = lines.scrollHeight
  }

  const trim = () => {
    while (lines.childElementCount > MAX_LINES && lines.firstElementChild !== null) {
      const first = lines.firstElementChild
      if (first instanceof HTMLElement && first.dataset["seq"] !== undefined) seqs.delete(Number(first.dataset["seq"]))
      first.remove()
      mayHaveOlder = true
    }
    const first = lines.querySelector<HTMLElement>(".log-line")
    oldest = first === null ? oldest : Number(first.dataset["seq"])
  }

  const append = (fresh: ReadonlyArray<LogLineWire>) => {
    const added = fresh.filter((line) => !seqs.has(line.seq))
    if (added.length === 0) return
    for (const line of added) seqs.add(line.seq)
    lines.append(...added.map(lineElement))
    trim()
    if (paused) {
      unseen += added.length
      setText(pause, `Follow (${unseen} new)`)
    } else scrollToEnd()
  }

  const prepend = (fresh: ReadonlyArray<LogLineWire>) => {
    const added = fresh.filter((line) => !seqs.has(line.seq))
    for (const line of added) seqs.add(line.seq)
    const before = lines.scrollHeight
    lines.prepend(...added.map(lineElement))
    // Keeps the lines being read where they were.
    lines.scrollTop += lines.scrollHeight - before
    if (added[0] !== undefined) oldest = added[0].seq
  }

  const gap = (text: string) => {
    lines.append(h("div", { class: "log-gap", role: "note" }, text))
    if (!paused) scrollToEnd()
  }

  const setPaused = (value: boolean) => {
    paused = value
    unseen = 0
    pause.setAttribute("aria-pressed", String(value))
    setText(pause, value ? "Follow" : "Pause scrolling")
    if (!value) scrollToEnd()
  }

  const refilter = () => {
    for (const line of lines.querySelectorAll<HTMLElement>(".log-line")) {
      const show = visible(line)
      if (line.hidden === show) line.hidden = !show
    }
    if (!paused) scrollToEnd()
  }

  const showError = (error: unknown) =>
    setText(state, errorText(error))

  /** The lines before `before`, up to `PAGE` of them or more, oldest first; complete from where it looked. */
  const fetchOlder = async (before: number) => {
    let window = PAGE * 4
    for (;;) {
      const from = Math.max(0, before - window)
      const found: Array<LogLineWire> = []
      let cursor = from
      for (;;) {
        const page = await api.logs({ agents: [agent], after_seq: cursor, limit: 1000 })
        found.push(...page.lines.filter((line) => line.seq < before))
        const last = page.lines.at(-1)
        if (last === undefined || last.seq >= before || !page.has_more) break
        cursor = last.seq
      }
      if (found.length >= PAGE || from === 0) return { lines: found, complete: from === 0 }
      window *= 4
    }
  }

  const loadOlder = async () => {
    if (oldest === undefined) return
    older.disabled = true
    setText(state, "Loading older lines…")
    try {
      const found = await fetchOlder(oldest)
      prepend(found.lines)
      mayHaveOlder = !found.complete
      setText(state, found.lines.length === 0 ? "No older lines are kept" : `${found.lines.length} older lines loaded`)
    } catch (error) {
      showError(error)
    } finally {
      older.disabled = !mayHaveOlder
    }
  }

  const start = async () => {
    try {
      const first = await api.logs({ agents: [agent], limit: PAGE })
      if (disposed) return
      append(first.lines)
      oldest = first.lines[0]?.seq
      mayHaveOlder = first.has_more
      older.disabled = !mayHaveOlder
      setText(state, first.lines.length === 0 ? "No output yet" : "")
      // Resumed after the last line read, and after the newest event the page has: this stream's events are the
      // page's main stream's too, so they are skipped here.
      const events = store.events.at(-1)?.seq ?? 0
      stream = new LiveStream({
        path: `/api/v1/events?agent=${encodeURIComponent(agent)}&logs=1`,
        lastEventId: `${events}:${first.last_seq}`,
        staleAfterMs: 40_000,
        onMessage: (message) => {
          if (message.event === "log") {
            append([JSON.parse(message.data) as LogLineWire])
            if (state.textContent === "No output yet") setText(state, "")
          } else if (message.event === "dropped") {
            const dropped = JSON.parse(message.data) as DroppedWire
            if (dropped.logs_after_seq !== undefined) gap("Some lines were dropped before they could be shown (the agent wrote faster than they were read).")
          }
        },
        onConnection: (connection) => element.classList.toggle("disconnected", connection === "closed"),
        onRefused: showError
      })
      stream.start()
    } catch (error) {
      showError(error)
    }
  }

  pause.addEventListener("click", () => setPaused(!paused))
  streamSelect.addEventListener("change", () => {
    const value = streamSelect.value
    streamFilter = value === "stdout" || value === "stderr" ? value : "all"
    refilter()
  })
  filter.addEventListener("input", () => {
    textFilter = filter.value.toLowerCase()
    refilter()
  })
  older.addEventListener("click", () => void loadOlder())

  void start()
  return {
    element,
    dispose: () => {
      disposed = true
      stream?.stop()
    }
  }
}
