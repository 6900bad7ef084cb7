import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Schema } from "effect"
import { type EventRecord, type LogQuery, makeEventLog, type RetentionPolicy } from "../../src/events/EventLog.ts"

const event = (eventName: string, agentName: string | null = null, category = "agent") => ({
  eventName,
  category,
  agentName,
  timestamp: 0,
  severity: "info" as const,
  data: {}
})

const seqs = (events: ReadonlyArray<EventRecord>) => events.map((e) => e.seq)

/** The obviously-correct model: an array, filtered and sliced on every call. */
const makeModel = (capacity: number, retention: ReadonlyArray<RetentionPolicy>) => {
  let events: Array<EventRecord> = []
  let seq = 0
  return {
    append: (input: Omit<EventRecord, "seq">) => {
      events.push({ ...input, seq: ++seq })
      const policy = retention.find((p) => p.eventName === input.eventName)
      if (policy !== undefined) {
        const same = events.filter((e) =>
          e.eventName === input.eventName && (policy.per === "all" || e.agentName === input.agentName)
        )
        const drop = new Set(same.slice(0, Math.max(0, same.length - policy.keepLast)).map((e) => e.seq))
        events = events.filter((e) => !drop.has(e.seq))
      }
      if (events.length > capacity) events = events.slice(events.length - capacity)
    },
    query: (q: LogQuery) => {
      const matching = events.filter((e) =>
        (q.agent === undefined || e.agentName === q.agent) &&
        (q.category === undefined || e.category === q.category) &&
        (q.event === undefined || e.eventName === q.event) &&
        (q.afterSeq === undefined || e.seq > q.afterSeq)
      )
      const page = q.afterSeq === undefined ? matching.slice(-q.limit) : matching.slice(0, q.limit)
      return { events: page, hasMore: matching.length > q.limit }
    },
    size: () => events.length,
    first: () => events[0]?.seq ?? null
  }
}

const Op = Schema.Union([
  Schema.Struct({
    kind: Schema.Literal("append"),
    event: Schema.Literals(["HB", "START", "OUT"]),
    agent: Schema.Literals(["a", "b", "c", "none"]),
    category: Schema.Literals(["agent", "command"])
  }),
  Schema.Struct({
    kind: Schema.Literal("query"),
    agent: Schema.optionalKey(Schema.Literals(["a", "b", "c", "zzz"])),
    category: Schema.optionalKey(Schema.Literals(["agent", "command"])),
    event: Schema.optionalKey(Schema.Literals(["HB", "START", "OUT"])),
    afterSeq: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 400 }))),
    limit: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 12 }))
  })
])
// Long sequences, so that capacity eviction, retention and lane compaction all happen within one run.
const Ops = Arbitrary.array(Arbitrary.schema(Op), { minLength: 50, maxLength: 400 })

describe("EventLog", () => {
  it.prop("behaves like the naive model under any sequence of appends and queries", [Ops, Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 40 }))], ([ops, capacity]) => {
    const retention: Array<RetentionPolicy> = [
      { eventName: "HB", keepLast: 2, per: "agent" },
      { eventName: "OUT", keepLast: 5, per: "all" }
    ]
    const log = makeEventLog({ capacity, retention })
    const model = makeModel(capacity, retention)
    for (const op of ops) {
      if (op.kind === "append") {
        const input = event(op.event, op.agent === "none" ? null : op.agent, op.category)
        log.append(input)
        model.append(input)
      } else {
        const { kind: _, ...query } = op
        const got = log.query(query)
        const want = model.query(query)
        expect(seqs(got.events)).toEqual(seqs(want.events))
        expect(got.hasMore).toBe(want.hasMore)
      }
      expect(log.info().size).toBe(model.size())
      expect(log.info().firstSeq).toBe(model.first())
    }
  }, { arbitrary: { runs: 200 } })

  it("hands out increasing seqs and keeps only the newest `capacity` events", () => {
    const log = makeEventLog({ capacity: 3, retention: [] })
    for (let i = 0; i < 5; i++) log.append(event("E"))
    expect(seqs(log.query({ limit: 10 }).events)).toEqual([3, 4, 5])
    expect(log.info()).toEqual({ capacity: 3, size: 3, recorded: 5, firstSeq: 3, lastSeq: 5 })
  })

  it("keeps the last N heartbeats per agent without touching other events", () => {
    const log = makeEventLog({ capacity: 100, retention: [{ eventName: "HB", keepLast: 2, per: "agent" }] })
    log.append(event("START", "a"))
    for (let i = 0; i < 5; i++) {
      log.append(event("HB", "a"))
      log.append(event("HB", "b"))
    }
    const heartbeatsOfA = log.query({ agent: "a", event: "HB", limit: 10 }).events
    expect(seqs(heartbeatsOfA)).toEqual([8, 10])
    expect(log.query({ event: "HB", limit: 10 }).events).toHaveLength(4)
    expect(log.query({ event: "START", limit: 10 }).events).toHaveLength(1)
  })

  it("a flood in one category never evicts another's events beyond its own bound", () => {
    const log = makeEventLog({ capacity: 100, retention: [], categoryCapacity: { command: 30, agent: 60 } })
    for (let i = 0; i < 50; i++) log.append({ eventName: "AGENT_STARTED", category: "agent", agentName: "a", timestamp: i, severity: "info", data: {} })
    // Every `ps` of a polling script is an audit record.
    for (let i = 0; i < 10_000; i++) log.append({ eventName: "COMMAND_EXECUTED", category: "command", agentName: null, timestamp: i, severity: "info", data: {} })
    expect(log.query({ category: "agent", limit: 1000 }).events).toHaveLength(50)
    expect(log.query({ category: "command", limit: 1000 }).events).toHaveLength(30)
    for (let i = 0; i < 100; i++) log.append({ eventName: "AGENT_READY", category: "agent", agentName: "a", timestamp: i, severity: "info", data: {} })
    expect(log.query({ category: "agent", limit: 1000 }).events).toHaveLength(60)
    expect(log.info().size).toBe(90)
  })

  it("an agent restarting in a loop keeps its own last events and never evicts another agent's", () => {
    const log = makeEventLog({ capacity: 100, retention: [], categoryCapacity: { agent: 80 }, agentCapacity: 30 })
    const record = (agentName: string, eventName: string) =>
      log.append({ eventName, category: "agent", agentName, timestamp: 0, severity: "info", data: {} })
    record("steady", "AGENT_REGISTERED")
    record("steady", "AGENT_STARTED")
    for (let i = 0; i < 10_000; i++) record("flapping", i % 2 === 0 ? "AGENT_FAILED" : "AGENT_STARTED")
    expect(log.query({ agent: "steady", limit: 100 }).events.map((event) => event.eventName)).toEqual(["AGENT_REGISTERED", "AGENT_STARTED"])
    const flapping = log.query({ agent: "flapping", limit: 100 }).events
    expect(flapping).toHaveLength(30)
    expect(flapping.at(-1)?.seq).toBe(10_002)
    expect(log.info().size).toBe(32)
  })

  it("pages forward from after_seq without gaps or duplicates", () => {
    const log = makeEventLog({ capacity: 1000, retention: [] })
    for (let i = 0; i < 95; i++) log.append(event(i % 2 === 0 ? "EVEN" : "ODD"))
    const seen: Array<number> = []
    let cursor = 0
    for (;;) {
      const page = log.query({ event: "EVEN", afterSeq: cursor, limit: 10 })
      seen.push(...seqs(page.events))
      if (!page.hasMore) break
      cursor = page.events[page.events.length - 1]?.seq ?? cursor
    }
    expect(seen).toEqual(Array.from({ length: 48 }, (_, i) => 2 * i + 1))
  })

  it("answers a filter on a name it has never seen with an empty page", () => {
    const log = makeEventLog({ capacity: 10, retention: [] })
    log.append(event("E", "a"))
    expect(log.query({ agent: "nobody", limit: 5 })).toEqual({ events: [], hasMore: false })
  })

  it("stays correct across many evictions and compactions", () => {
    const log = makeEventLog({ capacity: 50, retention: [{ eventName: "HB", keepLast: 1, per: "agent" }] })
    for (let i = 0; i < 20_000; i++) log.append(event(i % 3 === 0 ? "HB" : "E", `agent-${i % 7}`))
    const info = log.info()
    expect(info.size).toBe(50)
    expect(info.lastSeq).toBe(20_000)
    const newest = log.query({ limit: 50 }).events
    expect(newest).toHaveLength(50)
    expect(newest[newest.length - 1]?.seq).toBe(20_000)
    for (let i = 1; i < newest.length; i++) expect(newest[i]?.seq).toBeGreaterThan(newest[i - 1]?.seq ?? 0)
  })
})
