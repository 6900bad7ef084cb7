/**
 * Refused CURVE handshakes, coalesced into a bounded number of `AUTH_REJECTED` records and log lines.
 *
 * Anyone who can reach the port can start a handshake, and each one with a key that is no principal's is refused
 * by the ZAP handler. Recording every refusal let a single peer grow the audit trail, and its file, without bound:
 * 5,000 handshakes added 5,033 records (1.85 MB) in 6 s, and pushed everything else out of the EventStore. Here
 * the first refusal of a key from a peer is recorded and logged at once; later ones within the window are only
 * counted, and recorded as one record (with `count`, `first_at`, `last_at`) when the window ends, or when the
 * interface stops, so no refusal goes uncounted.
 *
 * Fresh keys cost an attacker nothing, so coalescing by key alone would not hold: beyond a few keys per peer in
 * a window, a peer's other keys share one count (`other_keys: true`). The pending counts are bounded too: past
 * that bound, refusals from peers and keys not yet pending share one count (`other_peers: true`).
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"
import { AuditTrail } from "./AuditTrail.ts"

export interface Rejection {
  /** The fingerprint of the key the client presented; null when it presented none. */
  readonly keyFingerprint: string | null
  /** The peer's IP address (tcp) or `localhost:<uid>:<gid>:<pid>` (ipc); null when unknown. */
  readonly peerAddress: string | null
  readonly mechanism: string
  /** The bound endpoint that refused it. */
  readonly address: string
}

export interface RejectionLogOptions {
  readonly window?: Duration.Duration
  /** The most pending counts held at once. */
  readonly maxPending?: number
  /** Keys per peer that each get their own count within a window. */
  readonly keysPerPeer?: number
}

/**
 * Ten seconds. The first refusal is recorded at once, so the window only delays how soon the size of a flood
 * shows, and 10 s is far shorter than anyone takes to act on an audit trail. It bounds a flooding peer to one
 * record per key and window: at the 750 handshakes a second one peer managed here, that is 6 records a minute
 * instead of 45,000, and the 5,000-event store holds hours of such a flood instead of seconds. A longer window
 * would add little and would leave more counts at stake if the process were killed (SIGKILL skips the final flush).
 */
export const DEFAULT_WINDOW = Duration.seconds(10)

/** A few keys from one address are several misconfigured clients (behind one NAT, say); more are a scan. */
const DEFAULT_KEYS_PER_PEER = 3

/** About 200 bytes each, so at most a few hundred KiB whatever the peers do. */
const DEFAULT_MAX_PENDING = 1024

/** What a count stands for: one key from one peer, a peer's keys beyond the first few, or peers beyond the bound. */
type Coverage = "key" | "other-keys" | "other-peers"

interface Pending {
  readonly coverage: Coverage
  /** The refusal that opened the count: its peer, key, mechanism and endpoint are what the records name. */
  readonly first: Rejection
  /** Refusals since the last record. */
  count: number
  firstAt: number
  lastAt: number
  windowEndsAt: number
}

interface Summary {
  readonly entry: Pending
  readonly count: number
  readonly firstAt: number
  readonly lastAt: number
}

const iso = (millis: number) => new Date(millis).toISOString()

const dataOf = (entry: Pending, summary: Summary | undefined) => ({
  key_fingerprint: entry.coverage === "key" ? entry.first.keyFingerprint : null,
  peer_address: entry.coverage === "other-peers" ? null : entry.first.peerAddress,
  mechanism: entry.first.mechanism,
  address: entry.first.address,
  ...(entry.coverage === "other-keys" ? { other_keys: true } : {}),
  ...(entry.coverage === "other-peers" ? { other_peers: true } : {}),
  count: summary === undefined ? 1 : summary.count,
  ...(summary === undefined ? {} : { first_at: iso(summary.firstAt), last_at: iso(summary.lastAt) })
})

const peerOf = (rejection: Rejection) => rejection.peerAddress ?? "an unknown peer"

const whatOf = (entry: Pending): string => {
  switch (entry.coverage) {
    case "key":
      return `key ${entry.first.keyFingerprint ?? "(none)"}`
    case "other-keys":
      return "other keys"
    case "other-peers":
      return "peers and keys beyond those counted at once"
  }
}

const firstLine = (entry: Pending, window: Duration.Duration, keysPerPeer: number, maxPending: number): string => {
  const what = `refused a ${entry.first.mechanism} connection from ${peerOf(entry.first)}`
  const later = `further refusals are counted and recorded once per ${Duration.format(window)}`
  switch (entry.coverage) {
    case "key":
      return `${what}: key ${entry.first.keyFingerprint ?? "(none)"} is not a configured principal's`
    case "other-keys":
      return `${what}: more than ${keysPerPeer} keys from this peer within ${Duration.format(window)} are no principal's; ${later} for all its other keys`
    case "other-peers":
      return `${what}: as many peers and keys as are counted at once (${maxPending}) are being counted already; ${later} for all new ones together`
  }
}

const summaryLine = ({ count, entry, firstAt, lastAt }: Summary): string =>
  `refused ${count} more ${entry.first.mechanism} connection${count === 1 ? "" : "s"} ` +
  `${entry.coverage === "other-peers" ? "" : `from ${peerOf(entry.first)} `}(${whatOf(entry)}) between ${iso(firstAt)} and ${iso(lastAt)}`

export class RejectionLog extends Context.Service<RejectionLog, {
  /** Records a refused handshake, at once or as part of a later count. */
  readonly refused: (rejection: Rejection) => Effect.Effect<void>
}>()("effect-orchestrate/RejectionLog") {
  /** Counts are flushed when the scope closes; refusals after that are recorded one by one. */
  static readonly make = Effect.fnUntraced(function*(options: RejectionLogOptions = {}) {
    const audit = yield* AuditTrail
    const window = options.window ?? DEFAULT_WINDOW
    const windowMillis = Duration.toMillis(window)
    const keysPerPeer = options.keysPerPeer ?? DEFAULT_KEYS_PER_PEER
    const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING
    // A window ends within a tenth of its length of when it should.
    const tick = Duration.millis(Math.max(1, windowMillis / 10))

    // One entry per key (or per peer's other keys) with a count pending, oldest first; and the one shared by
    // everything beyond the bound.
    const pending = new Map<string, Pending>()
    let overflow: Pending | undefined
    const keysByPeer = new Map<string, number>()
    let closed = false

    const idOf = (coverage: "key" | "other-keys", rejection: Rejection) =>
      `${coverage}\u0000${rejection.peerAddress}\u0000${coverage === "key" ? rejection.keyFingerprint : ""}`
    const peerId = (rejection: Rejection) => rejection.peerAddress ?? ""

    const open = (coverage: Coverage, rejection: Rejection, now: number): Pending => {
      const entry: Pending = { coverage, first: rejection, count: 0, firstAt: now, lastAt: now, windowEndsAt: now + windowMillis }
      if (closed) return entry
      if (coverage === "other-peers") {
        overflow = entry
      } else {
        pending.set(idOf(coverage, rejection), entry)
      }
      if (coverage === "key") keysByPeer.set(peerId(rejection), (keysByPeer.get(peerId(rejection)) ?? 0) + 1)
      return entry
    }

    const forget = (entry: Pending) => {
      if (entry.coverage === "other-peers") {
        overflow = undefined
        return
      }
      pending.delete(idOf(entry.coverage, entry.first))
      if (entry.coverage !== "key") return
      const peer = peerId(entry.first)
      const left = (keysByPeer.get(peer) ?? 1) - 1
      if (left === 0) keysByPeer.delete(peer)
      else keysByPeer.set(peer, left)
    }

    /** Counts the refusal in an open entry; or opens one, to be recorded at once. */
    const classify = (rejection: Rejection, now: number): Pending | undefined => {
      if (closed) return open("key", rejection, now)
      const full = pending.size >= maxPending - 1
      // A peer past its first keys goes on sharing one count while it keeps trying, even once their windows end.
      const joined = pending.get(idOf("key", rejection)) ?? pending.get(idOf("other-keys", rejection)) ??
        (full ? overflow : undefined)
      if (joined === undefined) {
        if (full) return open("other-peers", rejection, now)
        return open((keysByPeer.get(peerId(rejection)) ?? 0) < keysPerPeer ? "key" : "other-keys", rejection, now)
      }
      if (joined.count === 0) joined.firstAt = now
      joined.count++
      joined.lastAt = now
      return undefined
    }

    const recordFirst = (entry: Pending) =>
      audit.record({ eventName: "AUTH_REJECTED", severity: "warning", data: dataOf(entry, undefined) }).pipe(
        Effect.andThen(Effect.logWarning(firstLine(entry, window, keysPerPeer, maxPending)))
      )

    const recordSummary = (summary: Summary) =>
      audit.record({ eventName: "AUTH_REJECTED", severity: "warning", data: dataOf(summary.entry, summary) }).pipe(
        Effect.andThen(Effect.logWarning(summaryLine(summary)))
      )

    /**
     * Takes the counts whose window is over (all of them when `all`). An entry that counted something stays open
     * for another window, so a flood that goes on costs one record per window; a quiet one is forgotten, so the
     * next refusal of its key is recorded at once again.
     */
    const takeDue = (now: number, all: boolean): ReadonlyArray<Summary> => {
      const due: Array<Summary> = []
      const entries = overflow === undefined ? [...pending.values()] : [...pending.values(), overflow]
      for (const entry of entries) {
        if (!all && entry.windowEndsAt > now) continue
        if (entry.count > 0) due.push({ entry, count: entry.count, firstAt: entry.firstAt, lastAt: entry.lastAt })
        if (all || entry.count === 0) {
          forget(entry)
        } else {
          entry.count = 0
          entry.windowEndsAt = now + windowMillis
        }
      }
      return due
    }

    // Taking the counts and recording them is one uninterruptible step, so stopping never drops a count.
    const recordDue = (all: boolean) =>
      Effect.uninterruptible(Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (all) closed = true
        return Effect.forEach(takeDue(now, all), recordSummary, { discard: true })
      }))

    const annotate = Effect.annotateLogs({ component: "command-interface" })
    // Added before the sweeper is forked, so it runs after the sweeper has been interrupted.
    yield* Effect.addFinalizer(() => annotate(recordDue(true)))
    yield* Effect.forkScoped(annotate(Effect.forever(Effect.andThen(Effect.sleep(tick), recordDue(false)))))

    return RejectionLog.of({
      refused: (rejection) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const first = classify(rejection, now)
          return first === undefined ? Effect.void : recordFirst(first)
        })
    })
  })

  static readonly layer = (options: RejectionLogOptions = {}): Layer.Layer<RejectionLog, never, AuditTrail> =>
    Layer.effect(RejectionLog, RejectionLog.make(options))
}
