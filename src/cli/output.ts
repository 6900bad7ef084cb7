/**
 * Human output: aligned tables, short durations, and colour only where a person is looking (a TTY, and never
 * with NO_COLOR set).
 */
import type { AgentState } from "../protocol/Model.ts"

/** https://no-color.org: any non-empty NO_COLOR turns colour off. */
export const colorsEnabled = (stream: { readonly isTTY?: boolean } = process.stdout): boolean =>
  stream.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

const ANSI = /\u001b\[[0-9;]*m/g

const paint = (code: string) => (text: string): string =>
  colorsEnabled() ? `\u001b[${code}m${text}\u001b[0m` : text

export const style = {
  bold: paint("1"),
  dim: paint("2"),
  red: paint("31"),
  green: paint("32"),
  yellow: paint("33"),
  cyan: paint("36")
}

const visibleLength = (text: string): number => text.replace(ANSI, "").length

const stateStyles: Readonly<Record<AgentState, (text: string) => string>> = {
  running: style.green,
  paused: style.yellow,
  queued: style.yellow,
  starting: style.yellow,
  stopping: style.yellow,
  failed: style.red,
  stopped: style.dim,
  registered: style.dim,
  completed: (text) => text
}

export const colorState = (state: AgentState): string => stateStyles[state](state)

/** `45s`, `2m 7s`, `3h 4m`, `2d 5h`; `-` when unknown. */
export const formatDuration = (seconds: number | null): string => {
  if (seconds === null) return "-"
  const total = Math.floor(seconds)
  if (total < 60) return `${total}s`
  if (total < 3600) return `${Math.floor(total / 60)}m ${total % 60}s`
  if (total < 86_400) return `${Math.floor(total / 3600)}h ${Math.floor((total % 3600) / 60)}m`
  return `${Math.floor(total / 86_400)}d ${Math.floor((total % 86_400) / 3600)}h`
}

/** Columns padded to their widest cell (colour codes not counted), two spaces apart; the last column is not padded. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const all = [headers.map((header) => style.bold(header)), ...rows]
  const widths = headers.map((_, column) => Math.max(...all.map((row) => visibleLength(row[column] ?? ""))))
  return all.map((row) =>
    row.map((cell, column) =>
      column === row.length - 1 ? cell : cell + " ".repeat((widths[column] ?? 0) - visibleLength(cell))
    ).join("  ").trimEnd()
  ).join("\n")
}

/** `label  value` lines with the labels aligned. */
export const details = (pairs: ReadonlyArray<readonly [string, string]>): string => {
  const width = Math.max(...pairs.map(([label]) => label.length))
  return pairs.map(([label, value]) => `${style.dim(label.padEnd(width))}  ${value}`).join("\n")
}

export { formatData } from "../events/describe.ts"
