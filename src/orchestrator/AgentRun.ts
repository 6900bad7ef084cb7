/**
 * One run of an agent's program, whichever kind: what the supervisor needs to watch and control it.
 */
import type { Duration, Effect } from "effect"

/** How a run ended by itself: an exit code (0 is success), or a crash with a reason. */
export type RunOutcome =
  | { readonly _tag: "Exited"; readonly code: number }
  | { readonly _tag: "Crashed"; readonly error: string }

export const isSuccess = (outcome: RunOutcome): boolean => outcome._tag === "Exited" && outcome.code === 0

export const describeOutcome = (outcome: RunOutcome): string =>
  outcome._tag === "Crashed" ? outcome.error : `exited with code ${outcome.code}`

/** What a run reports back as it goes. */
export interface RunHooks {
  /** The program has been started (with its pid, for a process). Called once, before anything else. */
  readonly started: (pid: number | null) => Effect.Effect<void>
  readonly ready: Effect.Effect<void>
  readonly heartbeat: Effect.Effect<void>
  readonly output: (stream: "stdout" | "stderr", line: string) => Effect.Effect<void>
}

export interface AgentRun {
  /** Completes when the program ends, by itself or because it was stopped. */
  readonly outcome: Effect.Effect<RunOutcome>
  /** Asks the program to stop, then forces it after `grace`; says whether it had to force. */
  readonly stop: (grace: Duration.Duration) => Effect.Effect<{ readonly forced: boolean }>
  readonly pause: Effect.Effect<void>
  readonly resume: Effect.Effect<void>
}
