/**
 * How agents' health is shown: the HEALTH column of `ps` and the probes of `status <agent>`.
 */
import { DateTime } from "effect"
import type { Health, ProbeStatus } from "../protocol/Model.ts"
import { formatDuration, type Style } from "./output.ts"

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

const ago = (instant: DateTime.Utc | null, now: number): string =>
  instant === null ? "never" : `${formatDuration(Math.max(0, now - DateTime.toEpochMillis(instant)) / 1000)} ago`

/**
 * One probe as `status <agent>` lines: its kind and target, health, last result and when, consecutive failures,
 * and the last failure's output.
 */
export const probeLines = (probe: ProbeStatus, now: number, style: Style): ReadonlyArray<readonly [string, string]> => [
  [`${probe.role}`, `${probe.kind} ${probe.target}: ${formatHealth(probe.health, style)}`],
  [
    "  last result",
    probe.lastResult === null ? "not tried yet" : `${probe.lastResult === "success" ? style.green("success") : style.red("failure")} ${ago(probe.lastCheckedAt, now)}`
  ],
  ["  failures in a row", String(probe.consecutiveFailures)],
  [
    "  last failure",
    probe.lastFailure === null ? "-" : `${ago(probe.lastFailureAt, now)}: ${probe.lastFailure.replace(/\s+/g, " ")}`
  ]
]
