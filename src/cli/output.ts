/**
 * Human output: aligned tables, short durations, and colour only where a person is looking. Whether one is, is
 * effect/cli's `TerminalCapabilities`, the answer its own help and error output follow: colour on a terminal,
 * never with NO_COLOR set (FORCE_COLOR forces it, TERM=dumb turns it off). Rendering takes the `Style` as a value,
 * so that it stays a pure function of the data.
 */
import { Effect } from "effect"
import { CliOutput, TerminalCapabilities } from "effect/cli"
import type { AgentState } from "../protocol/Model.ts"

export interface Style {
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly red: (text: string) => string
  readonly green: (text: string) => string
  readonly yellow: (text: string) => string
  /** An agent state, coloured by how it is doing. */
  readonly state: (state: AgentState) => string
}

const makeStyle = (colors: boolean): Style => {
  const paint = (code: string) => (text: string): string => colors ? `\u001b[${code}m${text}\u001b[0m` : text
  const [bold, dim, red, green, yellow] = [paint("1"), paint("2"), paint("31"), paint("32"), paint("33")]
  const stateStyles: Readonly<Record<AgentState, (text: string) => string>> = {
    running: green,
    paused: yellow,
    queued: yellow,
    starting: yellow,
    stopping: yellow,
    failed: red,
    stopped: dim,
    registered: dim,
    completed: (text) => text
  }
  return { bold, dim, red, green, yellow, state: (state) => stateStyles[state](state) }
}

export const plain: Style = makeStyle(false)
export const colored: Style = makeStyle(true)

/** The style for standard output: colored where effect/cli would color its own output. */
export const currentStyle: Effect.Effect<Style> = Effect.map(
  Effect.service(TerminalCapabilities.TerminalCapabilities),
  ({ canColor }) => canColor ? colored : plain
)

/** `45s`, `2m 7s`, `3h 4m`, `2d 5h`; `-` when unknown. */
export const formatDuration = (seconds: number | null): string => {
  if (seconds === null) return "-"
  const total = Math.floor(seconds)
  if (total < 60) return `${total}s`
  if (total < 3600) return `${Math.floor(total / 60)}m ${total % 60}s`
  if (total < 86_400) return `${Math.floor(total / 3600)}h ${Math.floor((total % 3600) / 60)}m`
  return `${Math.floor(total / 86_400)}d ${Math.floor((total % 86_400) / 3600)}h`
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
  const widths = headers.map((_, column) =>
    Math.max(minWidths[column] ?? 0, ...all.map((row) => CliOutput.displayWidth(row[column] ?? ""))))
  return all.map((row) =>
    row.map((cell, column) =>
      column === row.length - 1 ? cell : cell + " ".repeat((widths[column] ?? 0) - CliOutput.displayWidth(cell))
    ).join("  ").trimEnd()
  ).join("\n")
}

/** `label  value` lines with the labels aligned. */
export const details = (pairs: ReadonlyArray<readonly [string, string]>, style: Style): string => {
  const width = Math.max(...pairs.map(([label]) => label.length))
  return pairs.map(([label, value]) => `${style.dim(label.padEnd(width))}  ${value}`).join("\n")
}

export { formatData } from "../events/describe.ts"
