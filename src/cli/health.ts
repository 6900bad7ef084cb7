/**
 * How agents' health is shown: the HEALTH column of `ps` (`formatHealth`, in format.ts) and the probes of
 * `status <agent>`. No effect/cli here: the fast path renders `status` with it too.
 */
import { DateTime } from "effect"
import type { ProbeStatus } from "../protocol/Model.ts"
import { formatDuration, formatHealth } from "./format.ts"
import type { Style } from "./style.ts"

/** How long before `now` an instant was (`2m 7s ago`); `unknown` for none. */
export const ago = (instant: DateTime.Utc | null, now: number, unknown: string): string =>
  instant === null ? unknown : `${formatDuration(Math.max(0, now - DateTime.toEpochMillis(instant)) / 1000)} ago`

/**
 * One probe as `status <agent>` lines: its kind and target, health, last result and when, consecutive failures,
 * and the last failure's output.
 */
export const probeLines = (probe: ProbeStatus, now: number, style: Style): ReadonlyArray<readonly [string, string]> => [
  [`${probe.role}`, `${probe.kind} ${probe.target}: ${formatHealth(probe.health, style)}`],
  [
    "  last result",
    probe.lastResult === null ? "not tried yet" : `${probe.lastResult === "success" ? style.green("success") : style.red("failure")} ${ago(probe.lastCheckedAt, now, "never")}`
  ],
  ["  failures in a row", String(probe.consecutiveFailures)],
  [
    "  last failure",
    probe.lastFailure === null ? "-" : `${ago(probe.lastFailureAt, now, "never")}: ${probe.lastFailure.replace(/\s+/g, " ")}`
  ]
]
