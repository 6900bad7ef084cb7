import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { type LogLine, type LogQuery, LogStore, type LogStream } from "../../src/logs/LogStore.ts"

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

  it.effect("a chatty agent never evicts another's lines", () =>
    Effect.gen(function*() {
      const store = yield* LogStore.make({ keepLines: 3 })
      yield* store.append("quiet", "stdout", "hello")
      for (let i = 0; i < 10_000; i++) yield* store.append("chatty", "stdout", `noise ${i}`)
      expect((yield* store.query({ agents: ["quiet"], limit: 10 })).lines.map((line) => line.line)).toEqual(["hello"])
      expect((yield* store.query({ limit: 2 })).lines.map((line) => line.line)).toEqual(["noise 9998", "noise 9999"])
    }))
})
