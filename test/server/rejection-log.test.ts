import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Logger, Scope } from "effect"
import { TestClock } from "effect/testing"
import { EventStore } from "../../src/events/EventStore.ts"
import { AuditTrail } from "../../src/server/AuditTrail.ts"
import { CommandInterfaceConfig } from "../../src/server/CommandInterfaceConfig.ts"
import { type Rejection, RejectionLog, type RejectionLogOptions } from "../../src/server/RejectionLog.ts"

const ENDPOINT = "tcp://127.0.0.1:5570"

const rejection = (keyFingerprint: string, peerAddress = "10.0.0.7"): Rejection => ({
  keyFingerprint,
  peerAddress,
  mechanism: "CURVE",
  address: ENDPOINT
})

const services = AuditTrail.layer.pipe(
  Layer.provideMerge(EventStore.layer()),
  Layer.provide(Layer.orDie(CommandInterfaceConfig.layer()))
)

const recorded = EventStore.use((store) => store.query({ category: "command", event: "AUTH_REJECTED", limit: 1000 })).pipe(
  Effect.map((page) => page.events.map((event) => event.data))
)

/** A rejection log in its own scope, and the warnings it logged. */
const rejectionLog = (options: RejectionLogOptions = {}) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const warnings: Array<string> = []
    const capture = Logger.make<unknown, void>(({ logLevel, message }) => {
      if (logLevel === "Warn") warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
    })
    const log = yield* RejectionLog.make(options).pipe(Scope.provide(scope), Effect.provide(Logger.layer([capture])))
    const refuse = (what: Rejection, times = 1) =>
      Effect.forEach(Array.from({ length: times }, () => what), log.refused, { discard: true }).pipe(
        Effect.provide(Logger.layer([capture]))
      )
    return { refuse, warnings, stop: Scope.close(scope, Exit.void) }
  })

const at = (seconds: number) => new Date(seconds * 1000).toISOString()

describe("coalesced AUTH_REJECTED records", () => {
  it.effect("records a key's first refusal at once, then one count per window, and flushes what is pending when it stops", () =>
    Effect.gen(function*() {
      const { refuse, warnings, stop } = yield* rejectionLog()
      const key = { key_fingerprint: "aaaa", peer_address: "10.0.0.7", mechanism: "CURVE", address: ENDPOINT }

      yield* refuse(rejection("aaaa"))
      yield* TestClock.adjust("2 seconds")
      yield* refuse(rejection("aaaa"), 4)
      expect(yield* recorded).toEqual([{ ...key, count: 1 }])

      // The window ends 10 s after the first refusal; the count is recorded within a second of that.
      yield* TestClock.adjust("7 seconds")
      expect(yield* recorded).toHaveLength(1)
      yield* TestClock.adjust("2 seconds")
      expect(yield* recorded).toEqual([{ ...key, count: 1 }, { ...key, count: 4, first_at: at(2), last_at: at(2) }])

      // Still going: counted for another window. Then quiet for a window: forgotten, so the next one is recorded at once.
      yield* refuse(rejection("aaaa"), 3)
      yield* TestClock.adjust("20 seconds")
      yield* refuse(rejection("aaaa"))
      yield* refuse(rejection("aaaa"), 2)
      expect((yield* recorded).slice(2)).toEqual([{ ...key, count: 3, first_at: at(11), last_at: at(11) }, { ...key, count: 1 }])

      yield* stop
      expect((yield* recorded).slice(4)).toEqual([{ ...key, count: 2, first_at: at(31), last_at: at(31) }])
      // After the flush nothing is held back.
      yield* refuse(rejection("aaaa"))
      expect((yield* recorded).slice(5)).toEqual([{ ...key, count: 1 }])

      expect(warnings).toEqual([
        "refused a CURVE connection from 10.0.0.7: key aaaa is not a configured principal's",
        `refused 4 more CURVE connections from 10.0.0.7 (key aaaa) between ${at(2)} and ${at(2)}`,
        `refused 3 more CURVE connections from 10.0.0.7 (key aaaa) between ${at(11)} and ${at(11)}`,
        "refused a CURVE connection from 10.0.0.7: key aaaa is not a configured principal's",
        `refused 2 more CURVE connections from 10.0.0.7 (key aaaa) between ${at(31)} and ${at(31)}`,
        "refused a CURVE connection from 10.0.0.7: key aaaa is not a configured principal's"
      ])
    }).pipe(Effect.provide(services)))

  it.effect("keeps keys and peers apart, and counts a peer's keys beyond its first three together", () =>
    Effect.gen(function*() {
      const { refuse, warnings, stop } = yield* rejectionLog()
      for (let n = 0; n < 100; n++) yield* refuse(rejection(`key${n}`))
      yield* refuse(rejection("key0", "10.0.0.8"))
      yield* TestClock.adjust("1 second")
      yield* refuse(rejection("key1"), 2)
      yield* refuse(rejection("fresh"))
      const other = { key_fingerprint: null, peer_address: "10.0.0.7", mechanism: "CURVE", address: ENDPOINT, other_keys: true }
      expect(yield* recorded).toEqual([
        { key_fingerprint: "key0", peer_address: "10.0.0.7", mechanism: "CURVE", address: ENDPOINT, count: 1 },
        { key_fingerprint: "key1", peer_address: "10.0.0.7", mechanism: "CURVE", address: ENDPOINT, count: 1 },
        { key_fingerprint: "key2", peer_address: "10.0.0.7", mechanism: "CURVE", address: ENDPOINT, count: 1 },
        { ...other, count: 1 },
        { key_fingerprint: "key0", peer_address: "10.0.0.8", mechanism: "CURVE", address: ENDPOINT, count: 1 }
      ])
      expect(warnings[3]).toBe(
        "refused a CURVE connection from 10.0.0.7: more than 3 keys from this peer within 10s are no principal's; " +
          "further refusals are counted and recorded once per 10s for all its other keys"
      )
      yield* stop
      expect((yield* recorded).slice(5)).toEqual([
        { key_fingerprint: "key1", peer_address: "10.0.0.7", mechanism: "CURVE", address: ENDPOINT, count: 2, first_at: at(1), last_at: at(1) },
        { ...other, count: 97, first_at: at(0), last_at: at(1) }
      ])
      expect(warnings.at(-1)).toBe(`refused 97 more CURVE connections from 10.0.0.7 (other keys) between ${at(0)} and ${at(1)}`)
    }).pipe(Effect.provide(services)))

  it.effect("holds at most maxPending counts: beyond them, new peers and keys share one", () =>
    Effect.gen(function*() {
      const { refuse, stop } = yield* rejectionLog({ maxPending: 4 })
      for (let n = 0; n < 10; n++) yield* refuse(rejection("k", `10.0.1.${n}`), 5)
      const records = yield* recorded
      expect(records).toHaveLength(4)
      expect(records[3]).toEqual({ key_fingerprint: null, peer_address: null, mechanism: "CURVE", address: ENDPOINT, other_peers: true, count: 1 })
      yield* stop
      const flushed = (yield* recorded).slice(4)
      // Three peers' own counts (4 each after their first), and everything else in the shared one: 50 in all.
      expect(flushed.map((data) => [data["peer_address"], data["count"]])).toEqual([["10.0.1.0", 4], ["10.0.1.1", 4], ["10.0.1.2", 4], [null, 34]])
      expect([...records, ...flushed].reduce((sum, data) => sum + Number(data["count"]), 0)).toBe(50)
    }).pipe(Effect.provide(services)))
})
