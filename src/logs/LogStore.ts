/**
 * Agents' output, kept apart from the event history: the last `keepLines` lines of each agent, in memory, each
 * with a sequence number shared by all agents, its stream and its time. One agent's chatter, an operator's
 * polling or the audit trail can never evict another agent's lines: each agent has a ring of its own.
 *
 * Besides the lines an agent writes (`stdout`, `stderr`), the orchestrator notes the agent's restarts in the same
 * sequence (stream `orchestrator`), so that a follower sees where one run's output ends and the next begins.
 *
 * Like the EventLog, it is mutable and synchronous inside one service. Lines are kept as bytes (ByteLines), a
 * segment per batch, copied into a ByteRing per agent: an append is one copy per batch, whatever its number of
 * lines, and a line becomes a string and an object only when a page reads it. The batches handed to sinks are the
 * lines as they arrived: valid during the call, so that a sink that keeps them must copy them. A page across agents
 * is a k-way merge of their rings by sequence number, O(limit x log agents x log segments), without copying any
 * ring. Within a ring seqs and times only grow, so where a page starts (after a seq, at or after a time) is a binary
 * search.
 *
 * A ring forgets its oldest lines; a follower that reads less often than an agent writes `keepLines` lines would
 * never see some of them. Each ring remembers the newest line it evicted per stream, so that a page read after a seq
 * says which agents lost matching lines in between (`dropped`) instead of skipping them silently.
 */
import { Clock, Context, Effect, Layer } from "effect"
import type { ByteLines } from "./ByteLines.ts"
import { ByteRing } from "./ByteRing.ts"
import { linesOfTexts } from "./LineSplitter.ts"

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

/** Lines of one agent that arrived together: one stream, one time, consecutive seqs. */
interface Segment {
  /** Where each line was in the bytes it arrived in. */
  readonly starts: Int32Array
  readonly ends: Int32Array
  /** Where it is kept: line `i` is `bytes[starts[i] + shift, ends[i] + shift)`, in the ring's ByteRing. */
  bytes: Buffer
  shift: number
  /** What the lines take of the ByteRing, given back when the last of them is forgotten. */
  readonly footprint: number
  readonly stream: LogStream
  readonly timestamp: number
  readonly firstSeq: number
  /** How many lines the ring had been given before these: where they sit in the ring's history. */
  readonly ordinal: number
}

const countOf = (segment: Segment): number => segment.starts.length

/** The last line of a stream a ring has forgotten. */
interface Evicted {
  readonly seq: number
  readonly timestamp: number
}

/**
 * One agent's last lines, in seq (and so time) order: the segments their lines arrived in, the oldest of which may
 * be forgotten in part, their bytes copied into a ByteRing. Line `i` of the ring (0 is the oldest held) is found by
 * a binary search over the segments.
 */
class Ring {
  readonly agent: string
  private readonly capacity: number
  private readonly store = new ByteRing()
  private segments: Array<Segment> = []
  /** The first segment still held; those before it are gone, until the array is compacted. */
  private head = 0
  /** Lines ever given to the ring. The ones held are the last `size` of them. */
  private given = 0
  size = 0
  /** The newest line evicted, per stream: every line evicted before it has a lower seq and no later time. */
  private readonly evicted: Partial<Record<LogStream, Evicted>> = {}

  constructor(agent: string, capacity: number) {
    this.agent = agent
    this.capacity = capacity
  }

  push(lines: ByteLines, stream: LogStream, timestamp: number, firstSeq: number): void {
    // Of a batch with more lines than the ring holds (a flood's reads hold thousands), only the last `capacity`
    // are copied: the others would be forgotten at once.
    const skipped = Math.max(0, lines.count - this.capacity)
    const starts = skipped === 0 ? lines.starts : lines.starts.subarray(skipped)
    const ends = skipped === 0 ? lines.ends : lines.ends.subarray(skipped)
    const count = lines.count - skipped
    const first = starts[0] ?? 0
    const { offset, footprint } = this.store.put(lines.bytes, first, ends[count - 1] ?? first, (relocate) => {
      for (let index = this.head; index < this.segments.length; index++) {
        const segment = this.segments[index]
        if (segment === undefined) continue
        const start = segment.starts[0] ?? 0
        segment.shift = relocate(start + segment.shift) - start
        segment.bytes = this.store.bytes
      }
    })
    this.segments.push({
      starts,
      ends,
      bytes: this.store.bytes,
      shift: offset - first,
      footprint,
      stream,
      timestamp,
      firstSeq: firstSeq + skipped,
      ordinal: this.given + skipped
    })
    this.given += lines.count
    this.size += count
    while (this.size > this.capacity) {
      const oldest = this.segments[this.head]
      if (oldest === undefined) break
      const held = oldest.ordinal + countOf(oldest) - (this.given - this.size)
      const forgotten = Math.min(held, this.size - this.capacity)
      this.evicted[oldest.stream] = { seq: oldest.firstSeq + countOf(oldest) - held + forgotten - 1, timestamp: oldest.timestamp }
      this.size -= forgotten
      if (forgotten === held) {
        this.store.free(oldest.footprint)
        this.head++
      }
    }
    // After the older lines it pushed out: the skipped lines are the newest forgotten.
    if (skipped > 0) this.evicted[stream] = { seq: firstSeq + skipped - 1, timestamp }
    // Forgotten segments are dropped in bulk, so that a ring of single lines does not shift its array every time.
    if (this.head > 64 && this.head * 2 > this.segments.length) {
      this.segments = this.segments.slice(this.head)
      this.head = 0
    }
  }

  /** The segment holding line `index` of the ring, and the line's place in it. */
  private locate(index: number): readonly [Segment, number] | undefined {
    const ordinal = this.given - this.size + index
    let low = this.head
    let high = this.segments.length - 1
    while (low < high) {
      const middle = (low + high + 1) >>> 1
      if ((this.segments[middle]?.ordinal ?? 0) <= ordinal) low = middle
      else high = middle - 1
    }
    const segment = this.segments[low]
    return segment === undefined || index < 0 || index >= this.size ? undefined : [segment, ordinal - segment.ordinal]
  }

  seqAt(index: number): number {
    const found = this.locate(index)
    return found === undefined ? Number.NaN : found[0].firstSeq + found[1]
  }

  timestampAt(index: number): number {
    return this.locate(index)?.[0].timestamp ?? Number.NaN
  }

  /** Line `index` of the ring (0 is the oldest held), made a LogLine now: a line becomes text only when read. */
  at(index: number): LogLine | undefined {
    const found = this.locate(index)
    if (found === undefined) return undefined
    const [segment, offset] = found
    return {
      seq: segment.firstSeq + offset,
      agent: this.agent,
      stream: segment.stream,
      timestamp: segment.timestamp,
      line: segment.bytes.toString("utf8", (segment.starts[offset] ?? 0) + segment.shift, (segment.ends[offset] ?? 0) + segment.shift)
    }
  }

  streamAt(index: number): LogStream | undefined {
    return this.locate(index)?.[0].stream
  }

  /** The index of the first line with a seq greater than `seq` (`size` if none). */
  firstAfter(seq: number): number {
    let low = 0
    let high = this.size
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.seqAt(middle) <= seq) low = middle + 1
      else high = middle
    }
    return low
  }

  /** The index of the first line written at or after `timestamp` (`size` if none). */
  firstAtOrAfter(timestamp: number): number {
    let low = 0
    let high = this.size
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.timestampAt(middle) < timestamp) low = middle + 1
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

/** Lines of one agent kept together: one stream, one time, consecutive seqs from `firstSeq`. */
export interface LogBatch {
  readonly agent: string
  readonly stream: LogStream
  /** Epoch milliseconds. */
  readonly timestamp: number
  readonly firstSeq: number
  readonly lines: ByteLines
}

/** A batch's lines as LogLines: text for those that need it. */
export const linesOf = (batch: LogBatch): Array<LogLine> =>
  Array.from({ length: batch.lines.count }, (_, index) => ({
    seq: batch.firstSeq + index,
    agent: batch.agent,
    stream: batch.stream,
    timestamp: batch.timestamp,
    line: batch.lines.text(index)
  }))

/**
 * Where else lines go as they are kept, in order, in the batches they were kept in: files, a terminal. The batches'
 * bytes are the agent's output as it was read, valid during the call only (the read buffer is reused or let go
 * afterwards): a sink that keeps lines for later must copy them, or make them text (`linesOf`).
 *
 * A sink that does its work at once returns undefined, as the built-in ones do; one that works through an Effect
 * returns it, and whoever hands the lines on waits for it (a pipe is read no further meanwhile), with the bytes
 * still valid. Why both: running an Effect per batch costs a flood of output more than all the rest of keeping it
 * (benchmark 8 in bench/README.md).
 */
export type LogSink = (batches: ReadonlyArray<LogBatch>) => Effect.Effect<void> | undefined

export interface LogStoreConfig {
  /** Lines kept per agent. */
  readonly keepLines: number
  readonly sinks?: ReadonlyArray<LogSink> | undefined
}

/** Lines kept per agent when nothing says otherwise. */
export const DEFAULT_KEEP_LINES = 1000

export class LogStore extends Context.Service<LogStore, {
  /** Keeps a line of an agent's; one with line breaks, or too long, is several (the first is returned). */
  readonly append: (agent: string, stream: LogStream, line: string) => Effect.Effect<LogLine>
  /** Keeps lines that arrived together, with one time, split as an agent's output is. */
  readonly appendAll: (agent: string, stream: LogStream, lines: ReadonlyArray<string>) => Effect.Effect<void>
  /** Keeps lines as the bytes they arrived in, with one time. */
  readonly appendLines: (agent: string, stream: LogStream, lines: ReadonlyArray<ByteLines>) => Effect.Effect<void>
  /**
   * `appendLines` done at once, by the clock the store was made with: the hot path of an agent's output, which
   * then runs no Effect per chunk. Returns what is left to do when a sink works through an Effect (to be run, and
   * waited for, before more lines come), or undefined.
   */
  readonly appendLinesUnsafe: (agent: string, stream: LogStream, lines: ReadonlyArray<ByteLines>) => Effect.Effect<void> | undefined
  readonly query: (query: LogQuery) => Effect.Effect<LogPage>
}>()("effect-orchestrate/LogStore") {
  static readonly make = (config: LogStoreConfig) =>
    Effect.map(Clock.Clock, (clock) => {
      const rings = new Map<string, Ring>()
      const sinks = config.sinks ?? []
      let lastSeq = 0
      let lastTimestamp = Number.NEGATIVE_INFINITY

      // Time is not filtered here: where a cursor starts or stops already keeps to `since`.
      const matches = (stream: LogStream | undefined, query: LogQuery) =>
        query.stream === undefined || stream === query.stream || stream === "orchestrator"

      const keep = (agent: string, stream: LogStream, runs: ReadonlyArray<ByteLines>, now: number): Array<LogBatch> => {
        let ring = rings.get(agent)
        if (ring === undefined) {
          ring = new Ring(agent, config.keepLines)
          rings.set(agent, ring)
        }
        // A wall clock stepped back would give a line an earlier time than the one before it, and a binary search
        // by time would then miss lines: a line is never stamped earlier than its predecessor.
        const timestamp = Math.max(now, lastTimestamp)
        lastTimestamp = timestamp
        const batches: Array<LogBatch> = []
        for (const lines of runs) {
          if (lines.count === 0) continue
          ring.push(lines, stream, timestamp, lastSeq + 1)
          batches.push({ agent, stream, timestamp, firstSeq: lastSeq + 1, lines })
          lastSeq += lines.count
        }
        return batches
      }

      /**
       * Hands `batches` to each sink in turn; once one returns an Effect, the sinks after it run after that Effect,
       * which is returned. A sink that throws stops the others, as a failing Effect would.
       */
      const publish = (batches: ReadonlyArray<LogBatch>): Effect.Effect<void> | undefined => {
        if (batches.length === 0) return undefined
        let rest: Effect.Effect<void> | undefined
        for (const sink of sinks) {
          if (rest !== undefined) {
            rest = Effect.andThen(rest, Effect.suspend(() => sink(batches) ?? Effect.void))
            continue
          }
          try {
            rest = sink(batches)
          } catch (defect) {
            return Effect.die(defect)
          }
        }
        return rest
      }

      const appendLinesUnsafe = (agent: string, stream: LogStream, lines: ReadonlyArray<ByteLines>) =>
        publish(keep(agent, stream, lines, clock.currentTimeMillisUnsafe()))

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
          if (cursor.index < cursor.ring.size) heap.push(cursor.ring.seqAt(cursor.index), cursor)
        }
        for (const ring of ringsOf(query)) {
          const index = ring.firstAfter(afterSeq)
          enter({ ring, index: query.since === undefined ? index : Math.max(index, ring.firstAtOrAfter(query.since)) })
        }
        const found: Array<LogLine> = []
        for (let cursor = heap.pop(); cursor !== undefined && found.length <= query.limit; cursor = heap.pop()) {
          const line = matches(cursor.ring.streamAt(cursor.index), query) ? cursor.ring.at(cursor.index) : undefined
          if (line !== undefined) found.push(line)
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
          if (cursor.index >= 0 && (query.since === undefined || cursor.ring.timestampAt(cursor.index) >= query.since)) {
            heap.push(cursor.ring.seqAt(cursor.index), cursor)
          }
        }
        for (const ring of ringsOf(query)) enter({ ring, index: ring.size - 1 })
        const found: Array<LogLine> = []
        for (let cursor = heap.pop(); cursor !== undefined && found.length <= query.limit; cursor = heap.pop()) {
          const line = matches(cursor.ring.streamAt(cursor.index), query) ? cursor.ring.at(cursor.index) : undefined
          if (line !== undefined) found.push(line)
          cursor.index--
          enter(cursor)
        }
        return found
      }

      const appendLines = (agent: string, stream: LogStream, lines: ReadonlyArray<ByteLines>) =>
        Effect.flatMap(Clock.currentTimeMillis, (timestamp) => publish(keep(agent, stream, lines, timestamp)) ?? Effect.void)

      return LogStore.of({
        append: (agent, stream, line) =>
          Effect.flatMap(Clock.currentTimeMillis, (timestamp) => {
            const kept = keep(agent, stream, linesOfTexts([line]), timestamp)
            const [entry] = kept.flatMap(linesOf)
            if (entry === undefined) return Effect.die(new Error("a line was not kept"))
            const rest = publish(kept)
            return rest === undefined ? Effect.succeed(entry) : Effect.as(rest, entry)
          }),
        appendAll: (agent, stream, lines) => appendLines(agent, stream, linesOfTexts(lines)),
        appendLines,
        appendLinesUnsafe,
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
