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

/** One line as a person reads it; undefined for the orchestrator's notes where only the agent's bytes are wanted. */
export const renderLogLine = (line: LogLineRecord, width: number, layout: LogLayout): string | undefined => {
  if (line.stream === "orchestrator") {
    return layout.prefix ? layout.style.dim(`--- ${line.agent} ${line.line} ---`) : undefined
  }
  if (!layout.prefix) return line.line
  const name = colourOf(line.agent, layout.style)(`${line.agent.padEnd(width)} |`)
  const time = layout.timestamps ? `${DateTime.formatIso(line.timestamp)} ` : ""
  return `${name} ${time}${line.line}`
}

