/**
 * `orchestrate logs` without `--follow`: what `--since` means, the query its flags make, and the text of a page of
 * lines. Pure functions, without effect/cli, shared by the command (logs.ts) and the fast path (fast/main.ts).
 */
import type { LogsPage } from "../../protocol/Commands.ts"
import { LOGS_LIMIT_MAX } from "../../protocol/pageLimits.ts"
import { type LogLayout, renderLogLine } from "../logLine.ts"

/** `2026-12-01T10:00:00Z`, `2026-12-01T10:00:00.250+02:00`: a date, a time and a zone, nothing looser. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/

const RELATIVE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

const UNIT_MILLIS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * The instant `--since` names, in epoch milliseconds: `10m`, `2h`, `30s`, `1d`, `500ms` before `now`, or an
 * ISO-8601 instant with its zone; undefined for anything else, which is refused rather than guessed at (a bare `5`
 * would be the year 2001 to `Date`, and a date without a zone local time).
 */
export const sinceMillis = (text: string, now: number): number | undefined => {
  const relative = RELATIVE.exec(text.trim())
  if (relative !== null) return now - Number(relative[1]) * (UNIT_MILLIS[relative[2] ?? "s"] ?? 1000)
  if (!ISO_INSTANT.test(text)) return undefined
  const millis = new Date(text).getTime()
  return Number.isNaN(millis) ? undefined : millis
}

/** The `limit` of the query for `-n N`: the server gives at most a page's worth. */
export const logsLimit = (lines: number): number => Math.min(lines, LOGS_LIMIT_MAX)

/**
 * A page's lines as text, the names padded to the widest seen so far (`width`, which a follower carries from page
 * to page); undefined when there is nothing to print (no lines, or only the orchestrator's notes without a prefix).
 */
export const pageText = (page: Pick<LogsPage, "lines">, width: number, layout: LogLayout): { readonly text: string | undefined; readonly width: number } => {
  let widest = width
  for (const line of page.lines) widest = Math.max(widest, line.agent.length)
  const text = page.lines.flatMap((line) => {
    const rendered = renderLogLine(line, widest, layout)
    return rendered === undefined ? [] : [rendered]
  })
  return { text: text.length === 0 ? undefined : text.join("\n"), width: widest }
}
