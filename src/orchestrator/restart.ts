/**
 * When to restart an agent, and how long to wait first.
 */
import { Duration } from "effect"
import type { RestartPolicy } from "../protocol/Model.ts"
import type { Backoff } from "./OrchestratorConfig.ts"

export const wantsRestart = (policy: RestartPolicy, succeeded: boolean): boolean =>
  policy === "always" || (policy === "on-failure" && !succeeded)

/** The delay before restart number `attempt` (1 for the first) of a run of quick failures. */
export const backoffDelay = (backoff: Backoff, attempt: number): Duration.Duration => {
  const initial = Duration.toMillis(backoff.initial)
  const max = Duration.toMillis(backoff.max)
  return Duration.millis(Math.min(max, initial * backoff.factor ** Math.max(0, attempt - 1)))
}
