/**
 * Retry safety for mutating commands. A client that lost a reply may send the same request (same id) again;
 * within the TTL it gets the first reply instead of the command running twice, and a resend that arrives while
 * the first is still running waits for its reply. The request handler keys replies by caller, id, command and
 * arguments, so one principal's ids never answer another's requests, and an id reused for a different request
 * does not answer it with a reply that was never its own. Read-only commands need none of this (running them again is harmless), so their often
 * large replies are never kept.
 */
import { Deferred, Effect } from "effect"

export interface ReplyCache<A> {
  /** `run`'s outcome, computed once per key within the TTL, and whether this call repeated an earlier one. */
  readonly once: (key: string, run: Effect.Effect<A>) => Effect.Effect<{ readonly value: A; readonly repeated: boolean }>
}

export const makeReplyCache = <A>(options: {
  readonly ttlMillis: number
  /** The most replies kept; beyond it the oldest are forgotten early. */
  readonly capacity: number
  /** Whether an outcome is worth repeating (a refusal that did not run the command is not). */
  readonly keep: (value: A) => boolean
  readonly now: () => number
}): ReplyCache<A> => {
  // Insertion order is roughly expiry order, so expired entries are found at the front.
  const entries = new Map<string, { readonly reply: Deferred.Deferred<A>; expiresAt: number }>()

  const forget = (now: number) => {
    for (const [key, entry] of entries) {
      if (entry.expiresAt > now && entries.size < options.capacity) return
      entries.delete(key)
    }
  }

  const once = (key: string, run: Effect.Effect<A>) =>
    Effect.suspend(() => {
      forget(options.now())
      const existing = entries.get(key)
      if (existing !== undefined) {
        return Effect.map(Deferred.await(existing.reply), (value) => ({ value, repeated: true }))
      }
      const entry = { reply: Deferred.makeUnsafe<A>(), expiresAt: Number.POSITIVE_INFINITY }
      entries.set(key, entry)
      return run.pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (exit._tag === "Success" && options.keep(exit.value)) {
              entry.expiresAt = options.now() + options.ttlMillis
            } else {
              entries.delete(key)
            }
            Deferred.doneUnsafe(entry.reply, exit)
          })
        ),
        Effect.map((value) => ({ value, repeated: false }))
      )
    })

  return { once }
}
