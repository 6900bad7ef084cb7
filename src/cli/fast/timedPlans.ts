/**
 * The plans of `status`, `history` and `logs`, whose results hold instants: the full CLI's queries and renderers,
 * and the args as the wire carries them (requests.ts).
 */
import { historyQuery, render as renderHistory, type HistoryFilters } from "../commands/historyRender.ts"
import { logsLimit, pageText, sinceMillis } from "../commands/logsRender.ts"
import { render as renderStatus } from "../commands/statusRender.ts"
import type { LogsFlags } from "./argv.ts"
import { type Plan, plan } from "./plan.ts"
import { historyArgs, logsArgs, statusArgs } from "./requests.ts"
import { historyResult, logsResult, statusResult } from "./timedResults.ts"

/** `now` is read before the request, as the full CLI reads it: the "ago" of heartbeats is measured from then. */
export const statusPlan = (agent: string | undefined, now: number): Plan =>
  plan("status", statusArgs(agent), statusResult, renderStatus(now))

export const historyPlan = (filters: HistoryFilters): Plan =>
  plan("history", historyArgs(historyQuery(filters)), historyResult, renderHistory)

export const logsPlan = (flags: LogsFlags, now: number): Plan | undefined => {
  const since = flags.since === undefined ? undefined : sinceMillis(flags.since, now)
  // Refused, or beyond what a date can be: the full CLI's error, whatever it is.
  if (since !== undefined && Number.isNaN(new Date(since).getTime())) return undefined
  if (flags.since !== undefined && since === undefined) return undefined
  const args = logsArgs({
    limit: logsLimit(flags.lines),
    ...(flags.agents.length > 0 ? { agents: flags.agents } : {}),
    ...(since === undefined ? {} : { sinceMillis: since }),
    ...(flags.stream === undefined ? {} : { stream: flags.stream })
  })
  return plan("logs", args, logsResult, (page, style) =>
    pageText(page, 0, { prefix: flags.prefix, timestamps: flags.timestamps, style }).text)
}
