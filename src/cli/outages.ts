/**
 * Followers (`logs -f`, `history --follow`) outlast the orchestrator going away, as `tail -F` outlasts a file that
 * was moved: a restart of `up` (by systemd, say) leaves nothing listening for a moment, and a follower that ended
 * there would have to be started again by hand each time.
 */
import { Console, type Duration, Effect } from "effect"
import type { ClientError, CommandRefused, Unreachable } from "../client/CommandClient.ts"
import { colored, plain, type Style } from "./output.ts"

/** What a follower says when the orchestrator it follows is another one than before (seqs started again). */
export const RESTARTED = "--- the orchestrator restarted ---"

/** A follower's note on stderr besides what it follows, dim where stderr is a terminal that shows colour. */
export const noteOnStderr = (style: Style) => {
  const dim = style === colored && process.stderr.isTTY ? colored.dim : plain.dim
  return (text: string) => Console.error(dim(text))
}

/** Nothing listens at the address, or nothing answered in time: what waiting can cure. */
const isOutage = (error: ClientError | CommandRefused): error is Unreachable =>
  error._tag === "Unreachable" && (error.reason._tag === "ConnectionRefused" || error.reason._tag === "NoAnswer")

/**
 * Wraps a follower's polls: while the orchestrator cannot be reached, one poll says so once through `note` and asks
 * again every `interval`, until it answers (said too); any other error ends the follower as before.
 */
export const outlastingOutages = (interval: Duration.Duration, note: (text: string) => Effect.Effect<void>) => {
  let waiting = false
  return <A, R>(poll: Effect.Effect<A, ClientError | CommandRefused, R>): Effect.Effect<A, ClientError | CommandRefused, R> => {
    const attempt: Effect.Effect<A, ClientError | CommandRefused, R> = Effect.catchIf(poll, isOutage, (error) => {
      const why = error.reason._tag === "NoAnswer" ? "no answer in time" : "connection refused"
      const said = waiting ? Effect.void : note(`--- no orchestrator answers at ${error.address} (${why}); waiting for it (Ctrl-C to stop) ---`)
      waiting = true
      return Effect.andThen(said, Effect.delay(Effect.suspend(() => attempt), interval))
    })
    return Effect.tap(attempt, () => {
      if (!waiting) return Effect.void
      waiting = false
      return note("--- the orchestrator answers again ---")
    })
  }
}
