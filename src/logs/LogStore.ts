/**
 * Agents' output, kept apart from the event history: the last `keepLines` lines of each agent, in memory, each
 * with a sequence number shared by all agents, its stream and its time. One agent's chatter, an operator's
 * polling or the audit trail can never evict another agent's lines: each agent has a ring of its own.
 *
 * Besides the lines an agent writes (`stdout`, `stderr`), the orchestrator notes the agent's restarts in the same
 * sequence (stream `orchestrator`), so that a follower sees where one run's output ends and the next begins.
 *
 * Like the EventLog, it is mutable and synchronous inside one service: an append is O(1), and a page across agents
 * is a k-way merge of their rings by sequence number, O(limit x log agents), without copying any ring. Within a ring
 * seqs and times only grow, so where a page starts (after a seq, at or after a time) is a binary search.
 *
 * A ring forgets its oldest lines; a follower that reads less often than an agent writes `keepLines` lines would
 * never see some of them. Each ring remembers the newest line it evicted per stream, so that a page read after a seq
 * says which agents lost matching lines in between (`dropped`) instead of skipping them silently.
 */
import { Clock, Context, Effect, Layer } from "effect"

export type LogStream = "stdout" | "stderr" | "orchestrator"

export interface LogLine {
  readonly seq: number
  readonly agent: string
  readonly stream: LogStream
  /** Epoch milliseconds. */
  readonly timestamp: number
  readonly line: string
}

export interface LogQuery {
  /** The agents whose lines to read; all of them when absent. */
  readonly agents?: ReadonlyArray<string> | undefined
  readonly limit: number
  /** Only lines at or after this instant (epoch milliseconds). */
  readonly since?: number | undefined
  /** The oldest lines after this seq, instead of the newest. */
  readonly afterSeq?: number | undefined
  /** Only this stream's lines (the orchestrator's own notes go with either). */
  readonly stream?: "stdout" | "stderr" | undefined
}

export interface LogPage {
  readonly lines: ReadonlyArray<LogLine>
  /** More lines match than the page holds. */
  readonly hasMore: boolean
  /** The newest seq of any agent when the page was read: a follower resumes after it once `hasMore` is false. */
  readonly lastSeq: number
  /**
   * With `afterSeq`: the agents that lost matching lines after it, up to where this page ends (its last line with
   * `hasMore`, `lastSeq` otherwise), evicted before they could be read. Empty for a page of the newest lines.
   */
  readonly dropped: ReadonlyArray<string>
}

/** One agent's last lines: a ring buffer in seq (and so time) order. */
class Ring {
  readonly agent: string
  private readonly items: Array<LogLine> = []
  private readonly capacity: number
  private start = 0
  /** The newest line evicted, per stream: every line evicted before it has a lower seq and no later time. */
  private readonly evicted: Partial<Record<LogStream, LogLine>> = {}

  constructor(agent: string, capacity: number) {
    this.agent = agent
    this.capacity = capacity
  }

  get size(): number {
    return this.items.length
  }

  push(line: LogLine): void {
    if (this.items.length < this.capacity) this.items.push(line)
    else {
      const oldest = this.items[this.start]
      if (oldest !== undefined) this.evicted[oldest.stream] = oldest
      this.items[this.start] = line
      this.start = (this.start + 1) % this.capacity
    }
  }

  /** The i-th oldest line held. */
  at(index: number): LogLine | undefined {
    return this.items[(this.start + index) % this.items.length]
  }

  /** The index of the first line with a seq greater than `seq` (`size` if none). */
  firstAfter(seq: number): number {
    let low = 0
    let high = this.items.length
    while (low < high) {
      const middle = (low + high) >>> 1
      const line = this.at(middle)
      if (line !== undefined && line.seq <= seq) low = middle + 1
      else high = middle
    }
    return low
  }

  /** The index of the first line written at or after `timestamp` (`size` if none). */
  firstAtOrAfter(timestamp: number): number {
    let low = 0
    let high = this.items.length
    while (low < high) {
      const middle = (low + high) >>> 1
      const line = this.at(middle)
      if (line !== undefined && line.timestamp < timestamp) low = middle + 1
      else high = middle
    }
    return low
  }

  /**
   * Whether a line of one of `streams`, at or after `since`, with a seq in (after, upTo], was evicted. Only the newest
   * evicted line per stream is known, which is enough: if its seq is at most `after`, so are the older ones'; if its
   * time is before `since`, so are theirs; if its seq is past `upTo`, the loss is reported by the page that reaches it,
   * so that a follower paging through a burst hears of it once.
   */
  lost(streams: ReadonlyArray<LogStream>, after: number, upTo: number, since: number | undefined): boolean {
    return streams.some((stream) => {
      const line = this.evicted[stream]
      return line !== undefined && line.seq > after && line.seq <= upTo && (since === undefined || line.timestamp >= since)
    })
  }
}

const ALL_STREAMS: ReadonlyArray<LogStream> = ["stdout", "stderr", "orchestrator"]

interface Cursor {
  readonly ring: Ring
  index: number
}

/** A binary heap of cursors, the one whose line comes first (by `before` on seqs) on top. */
const makeHeap = (before: (a: number, b: number) => boolean) => {
  const items: Array<readonly [seq: number, cursor: Cursor]> = []
  const earlier = (i: number, j: number) => before(items[i]?.[0] ?? 0, items[j]?.[0] ?? 0)
  const swap = (i: number, j: number) => {
    const a = items[i]
    const b = items[j]
    if (a !== undefined && b !== undefined) {
      items[i] = b
      items[j] = a
    }
  }
  return {
    push: (seq: number, cursor: Cursor) => {
      items.push([seq, cursor])
      for (let i = items.length - 1; i > 0 && earlier(i, (i - 1) >> 1); i = (i - 1) >> 1) swap(i, (i - 1) >> 1)
    },
    pop: (): Cursor | undefined => {
      const top = items[0]
      const last = items.pop()
      if (top === undefined || last === undefined) return undefined
      if (items.length > 0) {
        items[0] = last
        for (let i = 0;;) {
          const left = 2 * i + 1
          let first = i
          if (left < items.length && earlier(left, first)) first = left
          if (left + 1 < items.length && earlier(left + 1, first)) first = left + 1
          if (first === i) break
          swap(i, first)
          i = first
        }
      }
      return top[1]
    }
  }
}

export type LogSink = (lines: ReadonlyArray<LogLine>) => Effect.Effect<void>

export interface LogStoreConfig {
  /** Lines kept per agent. */
  readonly keepLines: number
  /** Where else lines go as they come, in order, as many at once as were appended together: files, a terminal. */
  readonly sinks?: ReadonlyArray<LogSink> | undefined
}

/** Lines kept per agent when nothing says otherwise. */
export const DEFAULT_KEEP_LINES = 1000

export class LogStore extends Context.Service<LogStore, {
  /** Keeps a line of an agent's (split at the line-length bound before it gets here). */
  readonly append: (agent: string, stream: LogStream, line: string) => Effect.Effect<LogLine>
  /** Keeps lines that arrived together, with one time; the hot path of an agent's output. */
  readonly appendAll: (agent: string, stream: LogStream, lines: ReadonlyArray<string>) => Effect.Effect<void>
  readonly query: (query: LogQuery) => Effect.Effect<LogPage>
}>()("effect-orchestrate/LogStore") {
  static readonly make = (config: LogStoreConfig) =>
    Effect.sync(() => {
      const rings = new Map<string, Ring>()
      const sinks = config.sinks ?? []
      let lastSeq = 0
      let lastTimestamp = Number.NEGATIVE_INFINITY

      // Time is not filtered here: where a cursor starts or stops already keeps to `since`.
      const matches = (line: LogLine, query: LogQuery) =>
        query.stream === undefined || line.stream === query.stream || line.stream === "orchestrator"

      const keep = (agent: string, stream: LogStream, lines: ReadonlyArray<string>, now: number): Array<LogLine> => {
        let ring = rings.get(agent)
        if (ring === undefined) {
          ring = new Ring(agent, config.keepLines)
          rings.set(agent, ring)
        }
        // A wall clock stepped back would give a line an earlier time than the one before it, and a binary search
        // by time would then miss lines: a line is never stamped earlier than its predecessor.
        const timestamp = Math.max(now, lastTimestamp)
        lastTimestamp = timestamp
        const entries = new Array<LogLine>(lines.length)
        for (let i = 0; i < lines.length; i++) {
          const entry: LogLine = { seq: ++lastSeq, agent, stream, timestamp, line: lines[i] ?? "" }
          ring.push(entry)
          entries[i] = entry
        }
        return entries
      }

      const publish = (entries: ReadonlyArray<LogLine>): Effect.Effect<void> =>
        sinks.length === 0 || entries.length === 0 ? Effect.void : Effect.forEach(sinks, (sink) => sink(entries), { discard: true })

      const ringsOf = (query: LogQuery): ReadonlyArray<Ring> =>
        query.agents === undefined
          ? [...rings.values()]
          // An agent named twice is read once: its ring entered twice would give every line twice.
          : [...new Set(query.agents)].flatMap((agent) => {
            const ring = rings.get(agent)
            return ring === undefined ? [] : [ring]
          })

      const streamsOf = (query: LogQuery): ReadonlyArray<LogStream> =>
        query.stream === undefined ? ALL_STREAMS : [query.stream, "orchestrator"]

      /** The oldest matching lines after `afterSeq`, one more than asked for to tell whether there are more. */
      const oldestAfter = (query: LogQuery, afterSeq: number): Array<LogLine> => {
        const heap = makeHeap((a, b) => a < b)
        const enter = (cursor: Cursor) => {
          const line = cursor.index < cursor.ring.size ? cursor.ring.at(cursor.index) : undefined
          if (line !== undefined) heap.push(line.seq, cursor)
        }
        for (const ring of ringsOf(query)) {
          const index = ring.firstAfter(afterSeq)
          enter({ ring, index: query.since === undefined ? index : Math.max(index, ring.firstAtOrAfter(query.since)) })
        }
        const found: Array<LogLine> = []
        for (let cursor = heap.pop(); cursor !== undefined && found.length <= query.limit; cursor = heap.pop()) {
          const line = cursor.ring.at(cursor.index)
          if (line !== undefined && matches(line, query)) found.push(line)
          cursor.index++
          enter(cursor)
        }
        return found
      }

      /** The newest matching lines, newest first, one more than asked for. */
      const newest = (query: LogQuery): Array<LogLine> => {
        const heap = makeHeap((a, b) => a > b)
        // A cursor walks back in time: once below `since`, the rest of its ring is too, and it stops.
        const enter = (cursor: Cursor) => {
          const line = cursor.index >= 0 ? cursor.ring.at(cursor.index) : undefined
          if (line !== undefined && (query.since === undefined || line.timestamp >= query.since)) heap.push(line.seq, cursor)
        }
        for (const ring of ringsOf(query)) enter({ ring, index: ring.size - 1 })
        const found: Array<LogLine> = []
        for (let cursor = heap.pop(); cursor !== undefined && found.length <= query.limit; cursor = heap.pop()) {
          const line = cursor.ring.at(cursor.index)
          if (line !== undefined && matches(line, query)) found.push(line)
          cursor.index--
          enter(cursor)
        }
        return found
      }

      return LogStore.of({
        append: (agent, stream, line) =>
          Effect.flatMap(Clock.currentTimeMillis, (timestamp) => {
            const [entry] = keep(agent, stream, [line], timestamp)
            return entry === undefined ? Effect.die(new Error("a line was not kept")) : Effect.as(publish([entry]), entry)
          }),
        appendAll: (agent, stream, lines) =>
          Effect.flatMap(Clock.currentTimeMillis, (timestamp) => publish(keep(agent, stream, lines, timestamp))),
        query: (query) =>
          Effect.sync(() => {
            const found = query.afterSeq === undefined ? newest(query).reverse() : oldestAfter(query, query.afterSeq)
            const hasMore = found.length > query.limit
            // Newest-first pages dropped their oldest extra line (now first); oldest-first ones their newest.
            const lines = hasMore ? (query.afterSeq === undefined ? found.slice(1) : found.slice(0, query.limit)) : found
            if (query.afterSeq === undefined) return { lines, hasMore, lastSeq, dropped: [] }
            const after = query.afterSeq
            const upTo = hasMore ? (lines[lines.length - 1]?.seq ?? lastSeq) : lastSeq
            const streams = streamsOf(query)
            const dropped = ringsOf(query).filter((ring) => ring.lost(streams, after, upTo, query.since)).map((ring) => ring.agent)
            return { lines, hasMore, lastSeq, dropped }
          })
      })
    })

  static readonly layer = (config: LogStoreConfig = { keepLines: DEFAULT_KEEP_LINES }): Layer.Layer<LogStore> =>
    Layer.effect(LogStore, LogStore.make(config))
}
