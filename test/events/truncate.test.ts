/**
 * An event's data is stored bounded. `boundPayload` skips `truncatePayload`'s copy when nothing needs cutting (every
 * audit record): what it gives must be written exactly as that copy is, whatever the data, since the history, the
 * event stream and the audit file show it as JSON.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { EventStore } from "../../src/events/EventStore.ts"
import { boundPayload, type PayloadLimits, truncatePayload } from "../../src/events/truncate.ts"

const limits: PayloadLimits = { maxValueBytes: 32, maxDepth: 3, maxItems: 4 }

/** Values of every kind the bounding treats apart, at the edges of the limits above. */
const awkward: ReadonlyArray<unknown> = [
  "", "short", "x".repeat(32), "x".repeat(33), "é".repeat(16), "é".repeat(17), "😀".repeat(8), "😀".repeat(9),
  0, -0, 1.5, -7, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, true, false, null, undefined,
  10n, Symbol("s"), () => 1, new Date(0), new Date(Number.NaN), new Error("boom"), new Map([[1, 2]]),
  [], [1, 2, 3, 4], [1, 2, 3, 4, 5], [[[["deep"]]]], { a: 1 }, { a: 1, b: 2, c: 3, d: 4, e: 5 }, { a: { b: { c: { d: 1 } } } },
  { toJSON: () => "custom" }, Object.create(null), { ["k".repeat(40)]: 1 }, JSON.parse('{"__proto__":{"x":1}}'),
  [undefined, () => 1], { u: undefined }, { date: new Date(5) }, { ["2"]: "b", ["1"]: "a", z: "z" }
]

const random = (seed: number) => () => (seed = (seed * 48271) % 2147483647) / 2147483647

const valueOf = (next: () => number, depth: number): unknown => {
  const pick = next()
  if (depth > 4 || pick < 0.4) return awkward[Math.floor(next() * awkward.length)]
  if (pick < 0.7) return Array.from({ length: Math.floor(next() * 6) }, () => valueOf(next, depth + 1))
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 6) }, (_, i) => [`k${i}`, valueOf(next, depth + 1)]))
}

const written = (data: Readonly<Record<string, unknown>>) => ({
  bound: JSON.stringify(boundPayload(data, limits)),
  truncated: JSON.stringify(truncatePayload(data, limits))
})

describe("boundPayload", () => {
  it("is written as truncatePayload's copy for every awkward value, alone and nested", () => {
    for (const value of awkward) {
      for (const data of [{ value }, { outer: { value } }, { list: [value] }]) {
        const { bound, truncated } = written(data)
        expect(bound).toBe(truncated)
      }
    }
  })

  it("is written as truncatePayload's copy for generated data", () => {
    const next = random(11)
    for (let i = 0; i < 5000; i++) {
      const data = Object.fromEntries(Array.from({ length: Math.floor(next() * 7) }, (_, k) => [`f${k}`, valueOf(next, 1)]))
      const { bound, truncated } = written(data)
      expect(bound).toBe(truncated)
    }
  })

  it("gives the data itself when nothing is cut, and a copy when something is", () => {
    const fits = { command: "ps", args: [], duration_ms: 0.12, nested: { list: [1, "a"], principal: null } }
    expect(boundPayload(fits, limits)).toBe(fits)
    const long = { command: "x".repeat(40) }
    expect(boundPayload(long, limits)).not.toBe(long)
    expect(boundPayload(long, limits)).toEqual(truncatePayload(long, limits))
  })
})

describe("EventStore data", () => {
  it.effect("reads back what it recorded, bounded, and gives the recorder the same", () =>
    Effect.gen(function*() {
      const store = yield* EventStore.make({ capacity: 10, maxValueBytes: 16, retention: [] })
      const data = { command: "ps", args: ["a"], code: 200, long: "y".repeat(40), when: new Date(0), gone: undefined }
      const recorded = yield* store.record({ eventName: "COMMAND_EXECUTED", category: "command", data })
      const bounded = truncatePayload(data, { maxValueBytes: 16, maxDepth: 8, maxItems: 100 })
      expect(recorded.data).toEqual(bounded)
      const empty = yield* store.record({ eventName: "AGENT_STARTED", category: "agent", agentName: "api" })
      expect(empty.data).toEqual({})
      const page = yield* store.query({ limit: 10 })
      expect(page.events.map((event) => [event.seq, event.eventName, event.agentName, event.data])).toEqual([
        [1, "COMMAND_EXECUTED", null, bounded],
        [2, "AGENT_STARTED", "api", {}]
      ])
    }))
})
