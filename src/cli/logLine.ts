/**
 * One agent's line as a person reads it: `name | line` (the name padded, and coloured per agent on a terminal, as
 * `docker compose` does), the orchestrator's notes (a restart) as one marked line, or exactly what the agent wrote.
 * Without effect/cli or the log store, so that `logs` renders with it in the fast path (fast/main.ts) as well as in
 * the full CLI and `up` (logLines.ts).
 */
import { DateTime } from "effect"
import type { LogLineRecord } from "../protocol/Commands.ts"
import { colored, type Style } from "./style.ts"

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
  return `${linePrefix(line.agent, line.timestamp, width, layout)}${line.line}`
}

/** What `renderLogLine` puts before an agent's own text: its name (unless without prefix), then its time if asked. */
export const linePrefix = (agent: string, timestamp: DateTime.Utc, width: number, layout: LogLayout): string => {
  const time = layout.timestamps ? `${DateTime.formatIso(timestamp)} ` : ""
  return layout.prefix ? `${colourOf(agent, layout.style)(`${agent.padEnd(width)} |`)} ${time}` : time
}
