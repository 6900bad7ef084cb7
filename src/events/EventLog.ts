/**
 * The data structure behind the EventStore: a bounded log of events in seq order, with indexes by agent,
 * category and event name, and retention policies that keep only the last N events of a type (per agent).
 *
 * It is deliberately mutable and synchronous. At 100k events an immutable structure in a `Ref` would copy on
 * every append; here an append is O(1) amortised and a filtered query scans only the smallest matching index.
 * It is owned by one EventStore and only touched inside `Effect.sync`, so no two operations interleave.
 *
 * Each index is a "lane": an array in seq order with a moving head. Removing an event (capacity eviction or a
 * retention policy) only flags it; lanes skip flagged events and compact themselves once half their slots are
 * dead, which keeps every removal O(1) amortised.
 */
import type { Severity } from "../protocol/Model.ts"

export interface EventRecord {
  readonly seq: number
  readonly eventName: string
  readonly category: string
  readonly agentName: string | null
  /** Epoch milliseconds. */
  readonly timestamp: number
  readonly severity: Severity
  readonly data: Readonly<Record<string, unknown>>
}

export interface RetentionPolicy {
  readonly eventName: string
  readonly keepLast: number
  /** `agent`: keep the last N for each agent; `all`: the last N overall. */
  readonly per: "agent" | "all"
}

export interface LogQuery {
  readonly category?: string | undefined
  /** Events of any of these categories (with `category`, both must hold). */
  readonly categories?: ReadonlyArray<string> | undefined
  readonly agent?: string | undefined
  readonly event?: string | undefined
  readonly afterSeq?: number | undefined
  readonly limit: number
}

export interface LogPage {
  readonly events: ReadonlyArray<EventRecord>
  readonly hasMore: boolean
}

export interface LogInfo {
  readonly capacity: number
  /** Events held now. */
  readonly size: number
  /** Events ever recorded; also the last seq handed out. */
  readonly recorded: number
  readonly firstSeq: number | null
  readonly lastSeq: number | null
}

export interface EventLog {
  readonly append: (event: Omit<EventRecord, "seq">) => EventRecord
  readonly query: (query: LogQuery) => LogPage
  readonly info: () => LogInfo
}

interface Entry extends EventRecord {
  removed: boolean
}

interface Lane {
  items: Array<Entry>
  head: number
  /** Removed entries at or after `head`. */
  dead: number
}

const makeLane = (): Lane => ({ items: [], head: 0, dead: 0 })

const liveCount = (lane: Lane): number => lane.items.length - lane.head - lane.dead

const oldestLive = (lane: Lane): Entry | undefined => {
  let entry = lane.items[lane.head]
  while (entry !== undefined && entry.removed) {
    lane.head++
    lane.dead--
    entry = lane.items[lane.head]
  }
  return entry
}

const COMPACT_MIN_SLOTS = 64

const compactIfSparse = (lane: Lane): void => {
  const wasted = lane.head + lane.dead
  if (wasted > COMPACT_MIN_SLOTS && wasted * 2 > lane.items.length) {
    lane.items = lane.items.slice(lane.head).filter((entry) => !entry.removed)
    lane.head = 0
    lane.dead = 0
  }
}

/** Index of the first entry at or after `head` whose seq is greater than `seq`. */
const firstAfter = (lane: Lane, seq: number): number => {
  let low = lane.head
  let high = lane.items.length
  while (low < high) {
    const mid = (low + high) >>> 1
    const entry = lane.items[mid]
    if (entry !== undefined && entry.seq <= seq) low = mid + 1
    else high = mid
  }
  return low
}

const laneOf = (lanes: Map<string, Lane>, key: string): Lane => {
  let lane = lanes.get(key)
  if (lane === undefined) {
    lane = makeLane()
    lanes.set(key, lane)
  }
  return lane
}

export const makeEventLog = (options: {
  readonly capacity: number
  readonly retention: ReadonlyArray<RetentionPolicy>
  /** Most events of a category held, whatever the others hold: so a flood of one never evicts another's. */
  readonly categoryCapacity?: Readonly<Record<string, number>> | undefined
  /** Most events of one agent held: so one restarting in a loop never evicts the others'. */
  readonly agentCapacity?: number | undefined
}): EventLog => {
  const all = makeLane()
  const byAgent = new Map<string, Lane>()
  const byCategory = new Map<string, Lane>()
  const byEvent = new Map<string, Lane>()
  const policies = new Map(options.retention.map((policy) => [policy.eventName, policy]))
  const retained = new Map<string, Lane>()
  let lastSeq = 0

  /** The key of the retention lane an entry counts against, if a policy covers its event name. */
  const retentionKey = (entry: Entry): string | undefined => {
    const policy = policies.get(entry.eventName)
    if (policy === undefined) return undefined
    return policy.per === "agent" ? `${entry.eventName}\u0000${entry.agentName ?? ""}` : entry.eventName
  }

  const lanesOf = (entry: Entry): Array<Lane> => {
    const lanes = [all, laneOf(byCategory, entry.category), laneOf(byEvent, entry.eventName)]
    if (entry.agentName !== null) lanes.push(laneOf(byAgent, entry.agentName))
    const key = retentionKey(entry)
    if (key !== undefined) lanes.push(laneOf(retained, key))
    return lanes
  }

  const dropIfEmpty = (lanes: Map<string, Lane>, key: string): void => {
    const lane = lanes.get(key)
    if (lane !== undefined && liveCount(lane) === 0) lanes.delete(key)
  }

  const remove = (entry: Entry): void => {
    entry.removed = true
    for (const lane of lanesOf(entry)) {
      lane.dead++
      compactIfSparse(lane)
    }
    // Forget the indexes of agents, categories and event names that no longer have events, so a stream of
    // one-off names cannot grow the maps without bound.
    if (entry.agentName !== null) dropIfEmpty(byAgent, entry.agentName)
    dropIfEmpty(byCategory, entry.category)
    dropIfEmpty(byEvent, entry.eventName)
    const key = retentionKey(entry)
    if (key !== undefined) dropIfEmpty(retained, key)
  }

  const evictOldest = (lane: Lane, keep: number): void => {
    while (liveCount(lane) > keep) {
      const oldest = oldestLive(lane)
      if (oldest === undefined) return
      remove(oldest)
    }
  }

  const append = (event: Omit<EventRecord, "seq">): EventRecord => {
    const entry: Entry = { ...event, seq: ++lastSeq, removed: false }
    for (const lane of lanesOf(entry)) lane.items.push(entry)
    const policy = policies.get(entry.eventName)
    const key = retentionKey(entry)
    if (policy !== undefined && key !== undefined) evictOldest(laneOf(retained, key), policy.keepLast)
    const categoryCapacity = options.categoryCapacity?.[entry.category]
    if (categoryCapacity !== undefined) evictOldest(laneOf(byCategory, entry.category), categoryCapacity)
    if (options.agentCapacity !== undefined && entry.agentName !== null) evictOldest(laneOf(byAgent, entry.agentName), options.agentCapacity)
    evictOldest(all, options.capacity)
    return entry
  }

  const smallestLane = (query: LogQuery): Lane | undefined => {
    const candidates: Array<Lane | undefined> = []
    if (query.agent !== undefined) candidates.push(byAgent.get(query.agent))
    if (query.category !== undefined) candidates.push(byCategory.get(query.category))
    if (query.event !== undefined) candidates.push(byEvent.get(query.event))
    if (candidates.length === 0) return all
    let best: Lane | undefined
    for (const lane of candidates) {
      if (lane === undefined) return undefined
      if (best === undefined || liveCount(lane) < liveCount(best)) best = lane
    }
    return best
  }

  const matches = (entry: Entry, query: LogQuery): boolean =>
    !entry.removed &&
    (query.agent === undefined || entry.agentName === query.agent) &&
    (query.category === undefined || entry.category === query.category) &&
    (query.categories === undefined || query.categories.includes(entry.category)) &&
    (query.event === undefined || entry.eventName === query.event)

  const query = (query: LogQuery): LogPage => {
    const lane = smallestLane(query)
    if (lane === undefined) return { events: [], hasMore: false }
    const found: Array<EventRecord> = []
    const wanted = query.limit + 1
    if (query.afterSeq !== undefined) {
      for (let i = firstAfter(lane, query.afterSeq); i < lane.items.length && found.length < wanted; i++) {
        const entry = lane.items[i]
        if (entry !== undefined && matches(entry, query)) found.push(entry)
      }
      const hasMore = found.length > query.limit
      return { events: hasMore ? found.slice(0, query.limit) : found, hasMore }
    }
    for (let i = lane.items.length - 1; i >= lane.head && found.length < wanted; i--) {
      const entry = lane.items[i]
      if (entry !== undefined && matches(entry, query)) found.push(entry)
    }
    const hasMore = found.length > query.limit
    if (hasMore) found.pop()
    return { events: found.reverse(), hasMore }
  }

  const info = (): LogInfo => ({
    capacity: options.capacity,
    size: liveCount(all),
    recorded: lastSeq,
    firstSeq: oldestLive(all)?.seq ?? null,
    lastSeq: lastSeq === 0 ? null : lastSeq
  })

  return { append, query, info }
}
