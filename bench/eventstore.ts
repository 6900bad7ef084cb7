/**
 * 5. The EventStore at 100k capacity with heartbeat retention on: records per second, a filtered `history` page
 * (agent and category, limit 50) as the server computes and encodes it, and memory per 100k events.
 */
import { Effect } from "effect"
import { EventStore } from "../src/events/EventStore.ts"
import { encodeHistoryPage } from "../src/protocol/fastEncode.ts"
import { median, percentile, printTable, sortedCopy, verdict } from "./lib/stats.ts"

const AGENTS = 100

const gc = (): void => {
  const collect: unknown = Reflect.get(globalThis, "gc")
  if (typeof collect === "function") collect()
}

export const eventStore = async (options: { readonly capacity: number; readonly events: number; readonly queries: number }) => {
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  const store = Effect.runSync(EventStore.make({
    capacity: options.capacity,
    maxValueBytes: 1024,
    retention: [{ eventName: "AGENT_HEARTBEAT", keepLast: 3, per: "agent" }]
  }))
  const kinds = [
    { eventName: "AGENT_HEARTBEAT", category: "agent" },
    { eventName: "AGENT_OUTPUT", category: "agent" },
    { eventName: "AGENT_HEARTBEAT", category: "agent" },
    { eventName: "AGENT_STARTED", category: "agent" },
    { eventName: "COMMAND_EXECUTED", category: "command" }
  ] as const
  const record = (i: number) => {
    const kind = kinds[i % kinds.length] ?? kinds[0]
    const agent = kind.category === "command" ? null : `agent-${i % AGENTS}`
    return store.record({ ...kind, agentName: agent, data: kind.eventName === "AGENT_OUTPUT" ? { stream: "stdout", line: `processed job ${i}` } : { seq: i } })
  }
  const started = performance.now()
  Effect.runSync(Effect.gen(function*() {
    for (let i = 0; i < options.events; i++) yield* record(i)
  }))
  const recordSeconds = (performance.now() - started) / 1000
  const info = Effect.runSync(store.info)
  gc()
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20

  const times: Array<number> = []
  for (let i = 0; i < options.queries; i++) {
    const begin = process.hrtime.bigint()
    const page = Effect.runSync(store.query({ agent: `agent-${i % AGENTS}`, category: "agent", limit: 50 }))
    JSON.stringify(encodeHistoryPage({ events: page.events, count: page.events.length, limit: 50, hasMore: page.hasMore, capacity: info.capacity, firstSeq: info.firstSeq, lastSeq: info.lastSeq }))
    times.push(Number(process.hrtime.bigint() - begin) / 1000)
  }
  const sorted = sortedCopy(times)
  const perSecond = options.events / recordSeconds
  const queryMedian = median(times)
  printTable(
    `EventStore: capacity ${options.capacity}, ${options.events} events over ${AGENTS} agents, heartbeats kept 3 per agent`,
    ["measure", "value"],
    [
      ["records per second", perSecond.toFixed(0)],
      ["events held", String(info.size)],
      ["history page (agent + category, limit 50), median", `${queryMedian.toFixed(1)} µs`],
      ["history page, p99", `${percentile(sorted, 99).toFixed(1)} µs`],
      ["heap for the events held", `${heapMiB.toFixed(1)} MiB (${(heapMiB * 100_000 / Math.max(1, info.size)).toFixed(1)} MiB per 100k)`]
    ]
  )
  console.log(`target history page < 1 ms server-side: ${verdict(queryMedian < 1000)}`)
  return { recordsPerSecond: perSecond, held: info.size, queryMedianMicros: queryMedian, queryP99Micros: percentile(sorted, 99), heapMiB, target: 1000, met: queryMedian < 1000 }
}
