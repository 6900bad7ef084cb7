/**
 * Commands that keep polling (`logs -f`, `history --follow`, `--watch`) outlast the orchestrator going away, as
 * `tail -F` outlasts a file that was moved: a restart of `up` (by systemd, say) leaves nothing listening for a
 * moment, and a command that ended there would have to be started again by hand each time.
 */
import { Console, type Duration, Effect } from "effect"
import type { ClientError, CommandRefused } from "../client/CommandClient.ts"
import { colored, plain, type Style } from "./output.ts"

/** What a follower says when the orchestrator it follows is another one than before (seqs started again). */
export const RESTARTED = "--- the orchestrator restarted ---"

/** A follower's note on stderr besides what it follows, dim where stderr is a terminal that shows colour. */
export const noteOnStderr = (style: Style) => {
  const dim = style === colored && process.stderr.isTTY ? colored.dim : plain.dim
  return (text: string) => Console.error(dim(text))
}

/** Why a poll found no orchestrator to answer it, if waiting can cure that. */
const outageOf = (error: ClientError | CommandRefused): { readonly why: string; readonly gone: boolean } | undefined => {
  if (error._tag === "CommandRefused") return error.reason === "ShuttingDown" ? { why: "shutting down", gone: true } : undefined
  if (error._tag !== "Unreachable") return undefined
  if (error.reason._tag === "ConnectionRefused") return { why: "connection refused", gone: true }
  return error.reason._tag === "NoAnswer" ? { why: "no answer in time", gone: false } : undefined
}

/**
 * A poll's answer, and whether the orchestrator that gave it is another one than before it: one that refused
 * connections or was shutting down meanwhile was replaced, whatever its seqs say (a new one may already be past the
 * follower's cursor). One that only took too long to answer may be the same.
 */
export interface Polled<A> {
  readonly answer: A
  readonly replaced: boolean
}

/**
 * Wraps every poll of one command: once one has been answered, while the orchestrator cannot be reached, a poll says
 * so once through `note` and asks again every `interval`, until it answers (said too). Before the first answer, and
 * for any other error, it fails as the command did: an address nothing ever answered at is a mistake to report.
 */
export const outlastingOutages = (address: string, interval: Duration.Duration, note: (text: string) => Effect.Effect<void>) => {
  let answered = false
  let waiting = false
  let replaced = false
  return <A, R>(poll: Effect.Effect<A, ClientError | CommandRefused, R>): Effect.Effect<Polled<A>, ClientError | CommandRefused, R> => {
    const attempt: Effect.Effect<A, ClientError | CommandRefused, R> = Effect.catch(poll, (error) => {
      const outage = answered ? outageOf(error) : undefined
      if (outage === undefined) return Effect.fail(error)
      const said = waiting ? Effect.void : note(`--- no orchestrator answers at ${address} (${outage.why}); waiting for it (Ctrl-C to stop) ---`)
      waiting = true
      replaced ||= outage.gone
      return Effect.andThen(said, Effect.delay(Effect.suspend(() => attempt), interval))
    })
    return Effect.flatMap(attempt, (answer) => {
      const polled = { answer, replaced }
      answered = true
      replaced = false
      if (!waiting) return Effect.succeed(polled)
      waiting = false
      return Effect.as(note("--- the orchestrator answers again ---"), polled)
    })
  }
}
