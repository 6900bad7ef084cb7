/**
 * How agents' lines look on a terminal, for `logs` and for `up` in the foreground: `name | line`, names padded to
 * one width and coloured per agent on a terminal (as `docker compose` does), the orchestrator's notes (a restart) as
 * one marked line; or exactly what the agent wrote, without a prefix.
 */
import { DateTime } from "effect"
import type { LogLineRecord } from "../protocol/Commands.ts"
import { colored, type Style } from "./output.ts"

/** Agent colours on a terminal, as `docker compose logs` cycles them. */
const PALETTE = ["36", "33", "32", "35", "34", "91", "92", "93", "94", "95", "96"]

export interface LogLayout {
  readonly prefix: boolean
  readonly timestamps: boolean
  readonly style: Style
}

const colourOf = (agent: string, style: Style): (text: string) => string => {
  if (style !== colored) return (text) => text
  let hash = 0
  for (let i = 0; i < agent.length; i++) hash = (hash * 31 + agent.charCodeAt(i)) >>> 0
  const code = PALETTE[hash % PALETTE.length] ?? "36"
  return (text) => `\u001b[${code}m${text}\u001b[0m`
}

/**
 * One line as a person reads it; undefined for the orchestrator's notes where only the agent's bytes are wanted.
 * Its time, when asked for, comes before the agent's text, prefixed or not: `<ISO time> <line>` is still a line
 * that `cut -d' ' -f2-` gives back exactly.
 */
export const renderLogLine = (line: LogLineRecord, width: number, layout: LogLayout): string | undefined => {
  if (line.stream === "orchestrator") {
    return layout.prefix ? layout.style.dim(`--- ${line.agent} ${line.line} ---`) : undefined
  }
  const time = layout.timestamps ? `${DateTime.formatIso(line.timestamp)} ` : ""
  if (!layout.prefix) return `${time}${line.line}`
  const name = colourOf(line.agent, layout.style)(`${line.agent.padEnd(width)} |`)
  return `${name} ${time}${line.line}`
}

/** What `lineWriter` needs of a stream: Node's `process.stdout`, or a fake in a test. */
export interface LineOutput {
  /** True once the stream holds more unwritten data than it wants: a pipe nobody reads, a stopped terminal. */
  readonly writableNeedDrain: boolean
  readonly write: (text: string) => boolean
  readonly once: (event: "drain", listener: () => void) => unknown
}

/**
 * Writes rendered lines to `output` as long as it keeps up; while it does not, drops them and counts them, and once
 * it has drained says how many it dropped, on one dim line. For `up`, which shows agents' output as a courtesy:
 * every line is kept for `orchestrate logs` whatever happens here, and an orchestrator must not hold an unbounded
 * queue of text for a reader that stopped reading. Lines are dropped whole, in the batches they came in.
 */
export const lineWriter = (output: LineOutput, style: Style): (lines: ReadonlyArray<string>) => void => {
  let hidden = 0
  let waiting = false
  const drained = () => {
    waiting = false
    if (hidden === 0) return
    const count = hidden
    hidden = 0
    output.write(`${style.dim(`--- ${count} ${count === 1 ? "line" : "lines"} not shown here (they are kept: orchestrate logs) ---`)}\n`)
  }
  return (lines) => {
    if (lines.length === 0) return
    if (output.writableNeedDrain) {
      hidden += lines.length
      if (!waiting) {
        waiting = true
        output.once("drain", drained)
      }
      return
    }
    output.write(`${lines.join("\n")}\n`)
  }
}

