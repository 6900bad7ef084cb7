/**
 * Human output: aligned tables, short durations, sizes and percentages, agents' health. Pure functions of the data
 * and a `Style`, without effect, so that the full CLI and the fast path (fast/main.ts) print the same bytes from
 * the same code.
 */
import type { Health } from "../protocol/Model.ts"
import { displayWidth } from "./displayWidth.ts"
import type { Style } from "./style.ts"

/** `45s`, `2m 7s`, `3h 4m`, `2d 5h`; `-` when unknown. */
export const formatDuration = (seconds: number | null): string => {
  if (seconds === null) return "-"
  const total = Math.floor(seconds)
  if (total < 60) return `${total}s`
  if (total < 3600) return `${Math.floor(total / 60)}m ${total % 60}s`
  if (total < 86_400) return `${Math.floor(total / 3600)}h ${Math.floor((total % 3600) / 60)}m`
  return `${Math.floor(total / 86_400)}d ${Math.floor((total % 86_400) / 3600)}h`
}

const BYTE_UNITS = ["KiB", "MiB", "GiB", "TiB"] as const

/** `512 B`, `12.3 MiB`, `1.5 GiB` (powers of 1024, as `ps` and `top` count memory); `-` when unknown. */
export const formatBytes = (bytes: number | null): string => {
  if (bytes === null) return "-"
  if (bytes < 1024) return `${bytes} B`
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit] ?? ""}`
}

/** CPU in percent of one core, to a tenth (`0.0`, `187.5`); `-` when unknown. */
export const formatPercent = (percent: number | null): string => percent === null ? "-" : percent.toFixed(1)

/** CPU as `status <agent>` and `stats` show it: `12.3%, 4.56s in all` (either part alone when the other is unknown). */
export const formatCpu = (percent: number | null, seconds: number | null): string => {
  const parts = [
    ...(percent === null ? [] : [`${formatPercent(percent)}%`]),
    ...(seconds === null ? [] : [`${seconds < 60 ? `${seconds.toFixed(2)}s` : formatDuration(seconds)} in all`])
  ]
  return parts.length === 0 ? "-" : parts.join(", ")
}

/** Names separated by commas; `-` when there are none. */
export const formatList = (names: ReadonlyArray<string>): string => names.length === 0 ? "-" : names.join(", ")

/** An agent's health, coloured by how it is doing; `-` for an agent without probes. */
export const formatHealth = (health: Health | null, style: Style): string => {
  switch (health) {
    case null:
      return "-"
    case "healthy":
      return style.green(health)
    case "unhealthy":
      return style.red(health)
    case "starting":
      return style.yellow(health)
  }
}

/**
 * Columns padded to their widest cell in terminal cells (colour codes count for nothing, wide characters for
 * two), two spaces apart, and to at least `minWidths` (so that rows printed later line up with earlier ones);
 * the last column is not padded.
 */
export const table = (
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  style: Style,
  minWidths: ReadonlyArray<number> = []
): string => {
  const all = [headers.map((header) => style.bold(header)), ...rows]
  const widths = headers.map((_, column) => Math.max(minWidths[column] ?? 0, ...all.map((row) => displayWidth(row[column] ?? ""))))
  return all.map((row) =>
    row.map((cell, column) => column === row.length - 1 ? cell : cell + " ".repeat((widths[column] ?? 0) - displayWidth(cell)))
      .join("  ").trimEnd()
  ).join("\n")
}

/** `label  value` lines with the labels aligned. */
export const details = (pairs: ReadonlyArray<readonly [string, string]>, style: Style): string => {
  const width = Math.max(...pairs.map(([label]) => label.length))
  return pairs.map(([label, value]) => `${style.dim(label.padEnd(width))}  ${value}`).join("\n")
}

export { formatData } from "../events/describe.ts"
