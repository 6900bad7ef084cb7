/**
 * What the views share, kept in one place and told to them as it changes: the latest `status` (from the first
 * request, then from the event stream's `status` messages) and the events seen (from the first `history` pages,
 * then live, and older pages on request).
 *
 * The events are kept as the orchestrator's history keeps them (src/events/EventStore.ts): a capacity per
 * category, so that a script polling the API (each request is an audit record) cannot push the agents' events
 * out, and only the last heartbeats of each agent. For each category the store knows from which seq on it holds
 * every event, so that a view lists a run of events without holes and knows where older ones start.
 */
import type { AgentStatusWire, HistoryEventWire, OrchestratorStatusWire } from "./wire.ts"

export type Topic = "status" | "events"

/** The history's event categories (src/protocol/Model.ts). */
export const CATEGORIES = ["agent", "orchestrator", "command"] as const
export type Category = (typeof CATEGORIES)[number]

/** Most events of each category kept: the newest. */
const CAPACITY = 5_000
/** The history's default retention of heartbeats: the last 3 of each agent. */
const HEARTBEAT = "AGENT_HEARTBEAT"
const HEARTBEATS_KEPT = 3

const isCategory = (category: string): category is Category => (CATEGORIES as ReadonlyArray<string>).includes(category)

export class Store {
  status: OrchestratorStatusWire | undefined = undefined
  /** Oldest first, each seq once. */
  events: Array<HistoryEventWire> = []
  /** The seqs the last change removed (evicted, or heartbeats superseded), for views that drew them. */
  removed: ReadonlyArray<number> = []
  private readonly seqs = new Set<number>()
  /** Per category, the oldest seq from which every event of it is here; absent until its first page arrived. */
  private readonly from = new Map<Category, number>()
  private readonly counts = new Map<string, number>()
  /** Raised by the older events asked for, so that the newest events do not push them straight out again. */
  private readonly capacity = new Map<string, number>()
  /** Each agent's heartbeats held, oldest first. */
  private readonly heartbeats = new Map<string, Array<number>>()
  private readonly listeners = new Map<Topic, Set<() => void>>()

  /** Calls `listener` on every change of `topic`; returns what stops that. */
  on(topic: Topic, listener: () => void): () => void {
    const set = this.listeners.get(topic) ?? new Set()
    set.add(listener)
    this.listeners.set(topic, set)
    return () => set.delete(listener)
  }

  emit(topic: Topic): void {
    for (const listener of [...(this.listeners.get(topic) ?? [])]) listener()
  }

  agent(name: string): AgentStatusWire | undefined {
    return this.status?.agents.find((agent) => agent.agent_name === name)
  }

  setStatus(status: OrchestratorStatusWire): void {
    this.status = status
    this.emit("status")
  }

  /** The seq from which every event of these categories is here (0: all the history holds); Infinity before their first page. */
  completeFrom(categories: ReadonlyArray<Category>): number {
    return Math.max(0, ...categories.map((category) => this.from.get(category) ?? Infinity))
  }

  /** Says that every event of `categories` from seq `from` on is here now (with the events added just before). */
  markComplete(categories: ReadonlyArray<Category>, from: number): void {
    for (const category of categories) this.from.set(category, Math.min(from, this.from.get(category) ?? Infinity))
    this.removed = []
    this.emit("events")
  }

  /** Adds events older than those held, asked for by the user: kept on top of the usual capacity. */
  addOlderEvents(events: ReadonlyArray<HistoryEventWire>): void {
    for (const event of events) {
      if (!this.seqs.has(event.seq)) this.capacity.set(event.category, this.capacityOf(event.category) + 1)
    }
    this.addEvents(events)
  }

  /** Adds events not seen yet, keeping the order by seq; says whether any was new. */
  addEvents(events: ReadonlyArray<HistoryEventWire>): boolean {
    const fresh: Array<HistoryEventWire> = []
    for (const event of events) {
      if (this.seqs.has(event.seq)) continue
      this.seqs.add(event.seq)
      fresh.push(event)
    }
    if (fresh.length === 0) return false
    const from = this.events.length
    this.events.push(...fresh)
    // Pages of several categories, or a late page, arrive out of order: sorted only then.
    for (let i = Math.max(1, from); i < this.events.length; i++) {
      if ((this.events[i - 1]?.seq ?? 0) > (this.events[i]?.seq ?? 0)) {
        this.events.sort((a, b) => a.seq - b.seq)
        break
      }
    }
    const drop = new Set<number>()
    for (const event of fresh) {
      this.counts.set(event.category, (this.counts.get(event.category) ?? 0) + 1)
      if (event.event_name === HEARTBEAT) this.supersedeHeartbeats(event, drop)
    }
    this.evict(drop)
    if (drop.size > 0) {
      this.events = this.events.filter((event) => {
        if (!drop.has(event.seq)) return true
        this.seqs.delete(event.seq)
        this.counts.set(event.category, (this.counts.get(event.category) ?? 1) - 1)
        return false
      })
    }
    this.removed = [...drop]
    this.emit("events")
    return true
  }

  private capacityOf(category: string): number {
    return this.capacity.get(category) ?? CAPACITY
  }

  /** Marks for removal the heartbeats of `event`'s agent beyond the newest few. */
  private supersedeHeartbeats(event: HistoryEventWire, drop: Set<number>): void {
    const key = event.agent_name ?? ""
    const held = this.heartbeats.get(key) ?? []
    held.push(event.seq)
    held.sort((a, b) => a - b)
    for (const seq of held.splice(0, Math.max(0, held.length - HEARTBEATS_KEPT))) drop.add(seq)
    this.heartbeats.set(key, held)
  }

  /** Marks for removal each category's oldest events beyond its capacity; it holds every event only after them now. */
  private evict(drop: Set<number>): void {
    for (const [category, count] of this.counts) {
      let excess = count - this.capacityOf(category)
      if (excess <= 0) continue
      for (const event of this.events) {
        if (excess <= 0) break
        if (event.category !== category) continue
        excess--
        // A heartbeat superseded already goes anyway, and the history drops those too: no hole.
        if (drop.has(event.seq)) continue
        drop.add(event.seq)
        if (isCategory(category)) this.from.set(category, Math.max(this.from.get(category) ?? 0, event.seq + 1))
      }
    }
  }
}
