/**
 * One run of an agent's program, whichever kind: what the supervisor needs to watch and control it.
 */
import type { Duration, Effect } from "effect"
import type { ByteLines } from "../logs/ByteLines.ts"
import type { Run } from "./ProcessTable.ts"

/** How a run ended: an exit code (0 is success), a process killed by a signal, or a program that failed. */
export type RunOutcome =
  | { readonly _tag: "Exited"; readonly code: number }
  | { readonly _tag: "Killed"; readonly signal: string }
  | { readonly _tag: "Crashed"; readonly error: string }

export const isSuccess = (outcome: RunOutcome): boolean => outcome._tag === "Exited" && outcome.code === 0

export const describeOutcome = (outcome: RunOutcome): string => {
  switch (outcome._tag) {
    case "Exited":
      return `exited with code ${outcome.code}`
    case "Killed":
      return `killed by ${outcome.signal}`
    case "Crashed":
      return outcome.error
  }
}

/** What a run reports back as it goes. */
export interface RunHooks {
  /** The program has been started (with its pid, for a process). Called once, before anything else. */
  readonly started: (pid: number | null) => Effect.Effect<void>
  readonly ready: Effect.Effect<void>
  readonly heartbeat: Effect.Effect<void>
  /**
   * Lines the program wrote, in order: as many at once as arrived together (a chunk of a pipe, say), as ranges of
   * the bytes they came in, valid during the call. Handled at once, with no Effect to run per chunk (what a flood
   * of output costs is mostly per chunk), unless a LogSink works through one: then that Effect is returned, and a
   * pipe is read no further until it is done.
   */
  readonly output: (stream: "stdout" | "stderr", lines: ReadonlyArray<ByteLines>) => Effect.Effect<void> | undefined
}

export interface AgentRun {
  /** Completes when the program ends, by itself or because it was stopped. */
  readonly outcome: Effect.Effect<RunOutcome>
  /** Asks the program to stop, then forces it after `grace`; says whether it had to force. */
  readonly stop: (grace: Duration.Duration) => Effect.Effect<{ readonly forced: boolean }>
  readonly pause: Effect.Effect<void>
  readonly resume: Effect.Effect<void>
  /** A process agent's run as the process table finds it (leader, marker, when the leader exited), as of now. */
  readonly processes?: () => Run
}
