/**
 * `orchestrate history` without `--follow`: the query its flags make, and the table of events it prints. Pure
 * functions, without effect/cli, shared by the command (history.ts) and the fast path (fast/main.ts).
 */
import { DateTime } from "effect"
import type { HistoryPage, HistoryQuery } from "../../protocol/Commands.ts"
import { HISTORY_LIMIT_MAX } from "../../protocol/pageLimits.ts"
import { formatData, table } from "../format.ts"
import type { Style } from "../style.ts"

/** The flags that filter events, each absent when not given. */
export interface HistoryFilters {
  readonly limit: number | undefined
  readonly category: string | undefined
  readonly all: boolean
  readonly agent: string | undefined
  readonly event: string | undefined
  readonly afterSeq: number | undefined
}

export const historyQuery = (filters: HistoryFilters): HistoryQuery => ({
  ...(filters.limit === undefined ? {} : { limit: filters.limit }),
  // Without a category, what happened to the agents and the orchestrator: the audit trail is asked for by name.
  ...(filters.category !== undefined
    ? { category: filters.category }
    : filters.all ? {} : { categories: ["agent", "orchestrator"] }),
  ...(filters.agent === undefined ? {} : { agent: filters.agent }),
  ...(filters.event === undefined ? {} : { event: filters.event }),
  ...(filters.afterSeq === undefined ? {} : { afterSeq: filters.afterSeq })
})

export const HEADERS = ["SEQ", "TIME", "CATEGORY", "EVENT", "AGENT", "DATA"]

export const rows = (page: HistoryPage, style: Style) =>
  page.events.map((event) => [
    String(event.seq),
    DateTime.formatIso(event.timestamp),
    event.category,
    event.severity === "error" ? style.red(event.eventName) : event.severity === "warning" ? style.yellow(event.eventName) : event.eventName,
    event.agentName ?? "-",
    formatData(event.data)
  ])

export const render = (page: HistoryPage, style: Style): string =>
  page.events.length === 0
    ? "no events"
    : table(HEADERS, rows(page, style), style) + (page.hasMore ? `\n${style.dim(`(more events match; raise --limit, at most ${HISTORY_LIMIT_MAX})`)}` : "")
