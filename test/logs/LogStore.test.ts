import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { TestClock } from "effect/testing"
import { linesOfTexts } from "../../src/logs/LineSplitter.ts"
import { type LogLine, type LogPage, type LogQuery, LogStore, type LogStream } from "../../src/logs/LogStore.ts"

/** The store's behaviour, spelled out naively: every line ever appended, each agent keeping its last `keep`. */
const model = (all: ReadonlyArray<LogLine>, keep: number, query: LogQuery) => {
  const kept = all.filter((line) => all.filter((other) => other.agent === line.agent && other.seq > line.seq).length < keep)
  const matching = kept.filter((line) =>
    (query.agents === undefined || query.agents.includes(line.agent)) &&
    (query.since === undefined || line.timestamp >= query.since) &&
    (query.stream === undefined || line.stream === query.stream || line.stream === "orchestrator")
  )
  if (query.afterSeq !== undefined) {
    const after = matching.filter((line) => line.seq > (query.afterSeq ?? 0))
    return { lines: after.slice(0, query.limit), hasMore: after.length > query.limit }
  }
  return { lines: matching.slice(Math.max(0, matching.length - query.limit)), hasMore: matching.length > query.limit }
}

/**
 * The agents a page after a seq says lost lines: each ring knows the newest line it forgot of each stream, and names
 * its agent when that line matches the query and lies after `afterSeq`, up to where the page ends.
 */
const droppedModel = (all: ReadonlyArray<LogLine>, keep: number, query: LogQuery, page: LogPage): ReadonlyArray<string> => {
  if (query.afterSeq === undefined) return []
  const after = query.afterSeq
  const upTo = page.hasMore ? (page.lines[page.lines.length - 1]?.seq ?? page.lastSeq) : page.lastSeq
  // In the order the query names them, or else the order they first wrote in, as the store reads its rings.
  const agents = [...new Set(query.agents ?? all.map((line) => line.agent))].filter((agent) => all.some((line) => line.agent === agent))
  const streams: ReadonlyArray<LogStream> = query.stream === undefined ? ["stdout", "stderr", "orchestrator"] : [query.stream, "orchestrator"]
  return agents.filter((agent) => {
    const lines = all.filter((line) => line.agent === agent)
    const forgotten = lines.slice(0, Math.max(0, lines.length - keep))
    return streams.some((stream) => {
      const newest = forgotten.filter((line) => line.stream === stream).at(-1)
      return newest !== undefined && newest.seq > after && newest.seq <= upTo && (query.since === undefined || newest.timestamp >= query.since)
    })
  })
}

/** A seeded generator, so that a failure can be replayed. */
const random = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

describe("LogStore", () => {
  it.effect("pages like a naive model: per-agent rings, newest or after a seq, filtered by agent, stream and time", () =>
    Effect.gen(function*() {
      const next = random(42)
      const keep = 7
      const store = yield* LogStore.make({ keepLines: keep })
      const agents = ["a", "b", "c", "d"]
      const streams: ReadonlyArray<LogStream> = ["stdout", "stderr", "orchestrator"]
      const all: Array<LogLine> = []
      for (let i = 0; i < 400; i++) {
        if (next() < 0.3) yield* TestClock.adjust(1)
        // Skewed, so that one agent is far chattier than another.
        const agent = agents[Math.floor(next() ** 2 * agents.length)] ?? "a"
        all.push(yield* store.append(agent, streams[Math.floor(next() * 3)] ?? "stdout", `line ${i}`))
        if (i % 10 !== 0) continue
        for (let q = 0; q < 5; q++) {
          const query: LogQuery = {
            limit: 1 + Math.floor(next() * 12),
            ...(next() < 0.5 ? { agents: agents.filter(() => next() < 0.5) } : {}),
            ...(next() < 0.5 ? { afterSeq: Math.floor(next() * (i + 1)) } : {}),
            ...(next() < 0.3 ? { stream: next() < 0.5 ? "stdout" : "stderr" } : {}),
            ...(next() < 0.3 ? { since: Math.floor(next() * i * 0.3) } : {})
          }
          const page = yield* store.query(query)
          expect({ lines: page.lines, hasMore: page.hasMore }, JSON.stringify(query)).toEqual(model(all, keep, query))
          expect(page.lastSeq).toBe(i + 1)
        }
      }
    }))

  it.effect("pages like the model when lines come in batches, a ring forgetting part of its oldest batch", () =>
    Effect.gen(function*() {
      const next = random(5)
      const keep = 10
      const store = yield* LogStore.make({ keepLines: keep })
      const agents = ["a", "b", "c"]
      const all: Array<LogLine> = []
      for (let i = 0; i < 150; i++) {
        if (next() < 0.3) yield* TestClock.adjust(1)
        const agent = agents[Math.floor(next() ** 2 * agents.length)] ?? "a"
        const stream = next() < 0.5 ? "stdout" : "stderr"
        // Up to two rings and a half at once: a batch may push out all of one before it and part of another, or
        // part of itself.
        const texts = Array.from({ length: 1 + Math.floor(next() ** 2 * 25) }, (_, j) => `batch ${i} line ${j} ✓`)
        const timestamp = yield* Clock.currentTimeMillis
        for (const text of texts) all.push({ seq: all.length + 1, agent, stream, timestamp, line: text })
        yield* store.appendLines(agent, stream, linesOfTexts(texts))
        const query: LogQuery = {
          limit: 1 + Math.floor(next() * 20),
          ...(next() < 0.5 ? { agents: agents.filter(() => next() < 0.5) } : {}),
          ...(next() < 0.5 ? { afterSeq: Math.floor(next() * all.length) } : {}),
          ...(next() < 0.3 ? { stream } : {}),
          ...(next() < 0.3 ? { since: Math.floor(next() * timestamp) } : {})
        }
        const page = yield* store.query(query)
        expect({ lines: page.lines, hasMore: page.hasMore }, JSON.stringify(query)).toEqual(model(all, keep, query))
        expect(page.lastSeq).toBe(all.length)
        expect(page.dropped, JSON.stringify(query)).toEqual(droppedModel(all, keep, query, page))
      }
    }))

  it.effect("a chatty agent never evicts another's lines", () =>
    Effect.gen(function*() {
      const store = yield* LogStore.make({ keepLines: 3 })
      yield* store.append("quiet", "stdout", "hello")
      for (let i = 0; i < 10_000; i++) yield* store.append("chatty", "stdout", `noise ${i}`)
      expect((yield* store.query({ agents: ["quiet"], limit: 10 })).lines.map((line) => line.line)).toEqual(["hello"])
      expect((yield* store.query({ limit: 2 })).lines.map((line) => line.line)).toEqual(["noise 9998", "noise 9999"])
    }))
})

describe("LogStore: lines a follower could not read", () => {
  const texts = (page: { readonly lines: ReadonlyArray<LogLine> }) => page.lines.map((line) => line.line)

  it.effect("a page after a seq names the agents that lost lines after it, once, and the newest lines name none", () =>
    Effect.gen(function*() {
      const store = yield* LogStore.make({ keepLines: 3 })
      yield* store.appendAll("api", "stdout", ["a1", "a2"])
      yield* store.append("db", "stdout", "d1")
      const caughtUp = (yield* store.query({ afterSeq: 0, limit: 100 })).lastSeq
      // api writes 5 lines before the follower's next poll, with room for 3: 2 of them are gone.
      yield* store.appendAll("api", "stdout", ["a3", "a4", "a5", "a6", "a7"])
      const behind = yield* store.query({ afterSeq: caughtUp, limit: 100 })
      expect(texts(behind)).toEqual(["a5", "a6", "a7"])
      expect(behind.dropped).toEqual(["api"])
      expect((yield* store.query({ afterSeq: behind.lastSeq, limit: 100 })).dropped).toEqual([])
      // Without `afterSeq` nobody asked for older lines: nothing is missing.
      expect((yield* store.query({ limit: 100 })).dropped).toEqual([])
      // A follower of db alone lost nothing.
      expect((yield* store.query({ agents: ["db"], afterSeq: caughtUp, limit: 100 })).dropped).toEqual([])
    }))

  it.effect("a burst read over several pages is reported by the page that reaches it, not by each", () =>
    Effect.gen(function*() {
      const store = yield* LogStore.make({ keepLines: 5 })
      yield* store.appendAll("db", "stdout", ["d1", "d2", "d3", "d4"])
      // seqs 5 to 14: 5 to 9 are evicted.
      yield* store.appendAll("api", "stdout", Array.from({ length: 10 }, (_, i) => `a${i + 5}`))
      const first = yield* store.query({ afterSeq: 0, limit: 3 })
      expect({ lines: texts(first), dropped: first.dropped }).toEqual({ lines: ["d1", "d2", "d3"], dropped: [] })
      const second = yield* store.query({ afterSeq: 3, limit: 3 })
      expect({ lines: texts(second), dropped: second.dropped }).toEqual({ lines: ["d4", "a10", "a11"], dropped: ["api"] })
      const third = yield* store.query({ afterSeq: 11, limit: 3 })
      expect({ lines: texts(third), dropped: third.dropped, hasMore: third.hasMore }).toEqual({
        lines: ["a12", "a13", "a14"],
        dropped: [],
        hasMore: false
      })
    }))

  it.effect("only lost lines the query would have shown count: of its stream, at or after its `since`", () =>
    Effect.gen(function*() {
      const store = yield* LogStore.make({ keepLines: 2 })
      yield* store.appendAll("api", "stderr", ["e1", "e2"])
      yield* TestClock.adjust(1000)
      yield* store.appendAll("api", "stdout", ["o1", "o2"])
      // e1 and e2 were evicted: lost to a reader of stderr, not to one of stdout.
      expect((yield* store.query({ afterSeq: 0, limit: 10, stream: "stdout" })).dropped).toEqual([])
      expect((yield* store.query({ afterSeq: 0, limit: 10, stream: "stderr" })).dropped).toEqual(["api"])
      // Nor to a reader of lines since o1's time.
      expect((yield* store.query({ afterSeq: 0, limit: 10, since: 1000 })).dropped).toEqual([])
      expect((yield* store.query({ afterSeq: 0, limit: 10, since: 0 })).dropped).toEqual(["api"])
    }))
})

describe("LogStore: queries", () => {
  it.effect("an agent named twice is read once", () =>
    Effect.gen(function*() {
      const store = yield* LogStore.make({ keepLines: 10 })
      yield* store.appendAll("api", "stdout", ["a1", "a2"])
      yield* store.append("db", "stdout", "d1")
      for (const afterSeq of [undefined, 0]) {
        const page = yield* store.query({ agents: ["api", "db", "api"], limit: 10, afterSeq })
        expect(page.lines.map((line) => line.line)).toEqual(["a1", "a2", "d1"])
      }
    }))

  it.effect("a clock stepped back never stamps a line earlier than the one before, so `since` still finds it", () =>
    Effect.gen(function*() {
      const store = yield* LogStore.make({ keepLines: 10 })
      yield* TestClock.setTime(10_000)
      yield* store.append("api", "stdout", "before the step")
      yield* TestClock.setTime(5_000)
      const stepped = yield* store.append("api", "stdout", "after the step")
      expect(stepped.timestamp).toBe(10_000)
      for (const afterSeq of [undefined, 0]) {
        const page = yield* store.query({ limit: 10, since: 8_000, afterSeq })
        expect(page.lines.map((line) => line.line)).toEqual(["before the step", "after the step"])
      }
    }))

  it.effect("`since` past every line, over many full rings, answers empty in both modes; since the start, everything", () =>
    Effect.gen(function*() {
      const store = yield* LogStore.make({ keepLines: 2_000 })
      const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`)
      for (let agent = 0; agent < 20; agent++) {
        for (let batch = 0; batch < 4; batch++) {
          yield* TestClock.adjust(1)
          yield* store.appendAll(`agent${agent}`, "stdout", lines)
        }
      }
      // Batches are stamped 1, 2, 3, ... ms in turn; agent19's are 77 to 80, and its ring holds the last two.
      for (const afterSeq of [undefined, 0]) {
        expect((yield* store.query({ limit: 100, since: 1_000_000, afterSeq })).lines).toEqual([])
        const page = yield* store.query({ agents: ["agent19"], limit: 10_000, since: 0, afterSeq })
        expect(page.lines).toHaveLength(2_000)
        expect(page.lines[0]?.timestamp).toBe(79)
        // Where `since` falls inside a ring: the search starts there.
        const last = yield* store.query({ agents: ["agent19"], limit: 10_000, since: 80, afterSeq })
        expect(last.lines.map((line) => line.timestamp)).toEqual(Array.from({ length: 1000 }, () => 80))
      }
    }))
})
