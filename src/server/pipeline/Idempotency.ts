/**
 * Idempotency around the run: retry safety for mutating commands. A client that lost a reply may send the same
 * request (same id) again; within the TTL it gets the first answer instead of the command running twice, and a
 * resend that arrives while the first is still running waits for its answer. Answers are keyed by caller, id,
 * command and arguments, so one principal's ids never answer another's requests, and an id reused for a different
 * request does not answer it with an answer that was never its own. Read-only commands need none of this (running
 * them again is harmless), so their often large answers are never kept; neither are refusals, which did not run.
 */
import { Deferred, Effect } from "effect"
import type { Request } from "../../protocol/Envelope.ts"
import type { Caller } from "../Principals.ts"
import type { Answer } from "./Answer.ts"
import type { Route } from "./CommandRouter.ts"

export interface Once {
  readonly answer: Answer
  /** Whether this request repeated one answered (or being answered) already. */
  readonly repeated: boolean
}

/** Whether a repeat of the request should get this answer: only if the command ran, or started to. */
const worthRepeating = (answer: Answer): boolean =>
  answer.code === 200 || (answer.code === 500 && answer.failure?.reply.reason !== "ShuttingDown")

const firstRun = (answer: Answer): Once => ({ answer, repeated: false })

export const makeIdempotency = (options: {
  readonly ttlMillis: number
  /** The most answers kept; beyond it the oldest are forgotten early. */
  readonly capacity: number
  readonly now: () => number
}) => {
  // Insertion order is roughly expiry order, so expired entries are found at the front.
  const entries = new Map<string, { readonly answer: Deferred.Deferred<Answer>; expiresAt: number }>()

  const forget = (now: number) => {
    for (const [key, entry] of entries) {
      if (entry.expiresAt > now && entries.size < options.capacity) return
      entries.delete(key)
    }
  }

  const keyed = (key: string, run: Effect.Effect<Answer>): Effect.Effect<Once> =>
    Effect.suspend(() => {
      forget(options.now())
      const existing = entries.get(key)
      if (existing !== undefined) return Effect.map(Deferred.await(existing.answer), (answer): Once => ({ answer, repeated: true }))
      const entry = { answer: Deferred.makeUnsafe<Answer>(), expiresAt: Number.POSITIVE_INFINITY }
      entries.set(key, entry)
      return run.pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (exit._tag === "Success" && worthRepeating(exit.value)) {
              entry.expiresAt = options.now() + options.ttlMillis
            } else {
              entries.delete(key)
            }
            Deferred.doneUnsafe(entry.answer, exit)
          })
        ),
        Effect.map(firstRun)
      )
    })

  return {
    /** `run`'s answer, computed at most once per key within the TTL for a mutating request with an id. */
    once: (request: Request, caller: Caller, route: Route | undefined, run: Effect.Effect<Answer>): Effect.Effect<Once> =>
      request.id !== undefined && route?.mutating === true
        ? keyed(JSON.stringify([caller.principal, request.id, route.command, request.args]), run)
        : Effect.map(run, firstRun)
  }
}
