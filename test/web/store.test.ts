/**
 * The page's store of events (src/web/store.ts) keeps them as the orchestrator's history does: a capacity per
 * category, so that a flood of audit records never pushes the agents' events out; each agent's last three
 * heartbeats; older events asked for kept beyond the capacity; and, per category, the seq from which it holds
 * every event, which the events and audit views list from.
 */
import { describe, expect, it } from "@effect/vitest"
import { Store } from "../../src/web/store.ts"
import type { HistoryEventWire } from "../../src/web/wire.ts"

const event = (seq: number, category: string, eventName: string, agent: string | null = null): HistoryEventWire => ({
  seq,
  event_name: eventName,
  category,
  agent_name: agent,
  timestamp: new Date(1_700_000_000_000 + seq).toISOString(),
  severity: "info",
  data: {}
})

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe("the dashboard's store of events", () => {
  it("keeps each agent's last three heartbeats, whatever order they come in, and says which went", () => {
    const store = new Store()
    store.addEvents([1, 2, 3].map((seq) => event(seq, "agent", "AGENT_HEARTBEAT", "api")))
    store.addEvents([event(4, "agent", "AGENT_STARTED", "api"), event(5, "agent", "AGENT_HEARTBEAT", "api")])
    expect(store.removed).toEqual([1])
    store.addEvents([event(6, "agent", "AGENT_HEARTBEAT", "db"), event(0, "agent", "AGENT_HEARTBEAT", "api")])
    expect(store.removed).toEqual([0])
    expect(store.events.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6])
    // Seen and dropped: a page repeating it does not bring it back.
    store.addEvents([event(1, "agent", "AGENT_HEARTBEAT", "api")])
    expect(store.events.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6])
  })

  it("evicts only within the category over its capacity, and holds every event of it from after the evicted", () => {
    const store = new Store()
    store.addEvents(range(1, 10).map((seq) => event(seq, "agent", "AGENT_STARTED", "api")))
    store.markComplete(["agent", "orchestrator"], 0)
    store.addEvents(range(11, 5010).map((seq) => event(seq, "command", "COMMAND_EXECUTED")))
    store.markComplete(["command"], 11)
    expect(store.completeFrom(["command"])).toBe(11)
    store.addEvents(range(5011, 5030).map((seq) => event(seq, "command", "COMMAND_EXECUTED")))
    expect(store.events.filter((e) => e.category === "agent")).toHaveLength(10)
    expect(store.events.filter((e) => e.category === "command")).toHaveLength(5000)
    expect(store.events.find((e) => e.category === "command")?.seq).toBe(31)
    expect(store.completeFrom(["command"])).toBe(31)
    expect(store.completeFrom(["agent", "orchestrator"])).toBe(0)
    expect(store.completeFrom(["agent", "orchestrator", "command"])).toBe(31)
    expect(store.removed).toEqual(range(11, 30))
  })

  it("keeps older events asked for beyond the capacity, and knows where their run starts", () => {
    const store = new Store()
    expect(store.completeFrom(["command"])).toBe(Infinity)
    store.addEvents(range(3001, 8000).map((seq) => event(seq, "command", "COMMAND_EXECUTED")))
    store.markComplete(["command"], 3001)
    store.addOlderEvents(range(2001, 3000).map((seq) => event(seq, "command", "COMMAND_EXECUTED")))
    store.markComplete(["command"], 2001)
    expect(store.events).toHaveLength(6000)
    expect(store.events[0]?.seq).toBe(2001)
    expect(store.completeFrom(["command"])).toBe(2001)
    // The newest keep coming: the oldest go again, one for one.
    store.addEvents([event(8001, "command", "COMMAND_EXECUTED")])
    expect(store.events).toHaveLength(6000)
    expect(store.completeFrom(["command"])).toBe(2002)
    // A mark never claims more than was known.
    store.markComplete(["command"], 5000)
    expect(store.completeFrom(["command"])).toBe(2002)
  })
})
