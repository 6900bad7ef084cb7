/**
 * What `orchestrate stats` prints: each figure on a line of its own. Pure functions of the result, without
 * effect/cli, shared by the command (stats.ts) and the fast path (fast/main.ts).
 */
import type { Stats } from "../../protocol/Commands.ts"
import { details, formatBytes, formatCpu, formatDuration } from "../format.ts"
import type { Style } from "../style.ts"

/** Each figure with its label: the lines of `stats`, and the columns of `stats --all-contexts`. */
export const fields = (stats: Stats): ReadonlyArray<readonly [string, string]> => [
  ["agents", `${stats.totalAgents} total`],
  ["running", String(stats.running)],
  ["paused", String(stats.paused)],
  ["starting", String(stats.starting)],
  ["queued", String(stats.queued)],
  ["completed", String(stats.completed)],
  ["failed", String(stats.failed)],
  ["stopped", String(stats.stopped)],
  ["unhealthy", String(stats.unhealthy)],
  ["restarts", String(stats.restarts)],
  ["workers", String(stats.maxWorkers)],
  ["uptime", formatDuration(stats.uptimeSeconds)],
  ["events", `${stats.eventsRecorded} recorded, ${stats.eventsRetained} retained of ${stats.eventsCapacity}`],
  ["cpu", formatCpu(stats.cpuPercent, stats.cpuSeconds)],
  ["memory", formatBytes(stats.memoryBytes)]
]

export const render = (stats: Stats, style: Style): string => details(fields(stats), style)
