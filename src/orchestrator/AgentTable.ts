/**
 * The orchestrator's state: one record per agent in a SubscriptionRef over an immutable HashMap. A change is
 * atomic and O(log n); a snapshot is one read; and a fiber can wait for a condition (a dependency becoming ready,
 * every agent finishing) without polling. Every change records its events in the EventStore.
 */
import { Clock, Effect, HashMap, Option, Predicate, Stream, SubscriptionRef } from "effect"
import { EventCategory, type EventStore } from "../events/EventStore.ts"
import type { Severity } from "../protocol/Model.ts"
import type { AgentRecord } from "./AgentRecord.ts"
import { AgentNotFound } from "../ports/errors.ts"

export interface AgentEvent {
  readonly eventName: string
  readonly severity?: Severity
  readonly data?: Readonly<Record<string, unknown>>
}

/** A change to one record: the fields that change, and the events that say so. */
export interface Change {
  readonly patch: Partial<AgentRecord>
  readonly events?: ReadonlyArray<AgentEvent>
}

export type Records = HashMap.HashMap<string, AgentRecord>

export interface AgentTable {
  /** Every record, in definition order, read at once. */
  readonly records: Effect.Effect<ReadonlyArray<AgentRecord>>
  /**
   * The same, read now: the same array for as long as no record changes, so that a reader can tell a change by
   * its identity (the command interface's `ps` does, on every request).
   */
  readonly recordsNow: () => ReadonlyArray<AgentRecord>
  /** Every record by name, read at once. */
  readonly snapshot: Effect.Effect<Records>
  readonly get: (name: string) => Effect.Effect<AgentRecord, AgentNotFound>
  /**
   * Applies what `change` returns for the record as it is now (nothing, if it returns undefined), atomically,
   * then records the change's events. Returns the record as it is afterwards.
   */
  readonly modify: (
    name: string,
    change: (record: AgentRecord, now: number) => Change | undefined
  ) => Effect.Effect<AgentRecord, AgentNotFound>
  /** Waits until `check` gives a value for the records as they are, now or after some change. */
  readonly waitFor: <A>(check: (records: Records) => A | undefined) => Effect.Effect<A>
  /**
   * A reload's change to the set of agents, at once: `removed` leave (each with its events), `added` join (each
   * with its events), and `order` is the definition order from then on.
   */
  readonly reshape: (change: {
    readonly order: ReadonlyArray<string>
    readonly added: ReadonlyArray<{ readonly record: AgentRecord; readonly events: ReadonlyArray<AgentEvent> }>
    readonly removed: ReadonlyArray<{ readonly name: string; readonly events: ReadonlyArray<AgentEvent> }>
  }) => Effect.Effect<void>
}

export const makeAgentTable = Effect.fnUntraced(function*(
  initial: ReadonlyArray<AgentRecord>,
  events: EventStore["Service"]
) {
  let names: ReadonlyArray<string> = initial.map((record) => record.name)
  const ref = yield* SubscriptionRef.make<Records>(HashMap.fromIterable(initial.map((record) => [record.name, record])))

  const get = (name: string) =>
    Effect.flatMap(SubscriptionRef.get(ref), (records) =>
      Option.match(HashMap.get(records, name), {
        onNone: () => Effect.fail(new AgentNotFound({ agent: name })),
        onSome: Effect.succeed
      }))

  /** The records in order, made once per state and order (every change of a record makes a new map). */
  let ordered: { readonly of: Records; readonly names: ReadonlyArray<string>; readonly records: ReadonlyArray<AgentRecord> } | undefined
  const inOrder = (records: Records): ReadonlyArray<AgentRecord> => {
    if (ordered?.of === records && ordered.names === names) return ordered.records
    const list: Array<AgentRecord> = []
    for (const name of names) {
      const record = HashMap.get(records, name)
      if (Option.isSome(record)) list.push(record.value)
    }
    ordered = { of: records, names, records: list }
    return list
  }

  const table: AgentTable = {
    records: Effect.map(SubscriptionRef.get(ref), inOrder),
    recordsNow: () => inOrder(SubscriptionRef.getUnsafe(ref)),
    get,
    snapshot: SubscriptionRef.get(ref),
    // One change at a time (modifyEffect holds the ref's own lock), uninterruptibly, with its events recorded
    // before the new state is published: a fiber that reacts to a state (shutdown on completion, say) never writes
    // its own events ahead of the cause's. Untraced: it runs on every heartbeat and probe try, and a span each would
    // grow the trace of whatever started the agent for as long as the agent runs.
    modify: Effect.fnUntraced(function*(name, change) {
      return yield* Effect.uninterruptible(SubscriptionRef.modifyEffect(ref, (records) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const record = HashMap.get(records, name)
          if (Option.isNone(record)) return yield* new AgentNotFound({ agent: name })
          const applied = change(record.value, now)
          if (applied === undefined) return [record.value, records] as const
          const updated: AgentRecord = { ...record.value, ...applied.patch }
          for (const event of applied.events ?? []) {
            yield* events.record({ ...event, category: EventCategory.agent, agentName: name })
          }
          return [updated, HashMap.set(records, name, updated)] as const
        })))
    }),
    reshape: Effect.fn("AgentTable.reshape")(function*(change) {
      yield* Effect.uninterruptible(SubscriptionRef.updateEffect(ref, (records) =>
        Effect.gen(function*() {
          let next = records
          for (const { name, events: said } of change.removed) {
            for (const event of said) yield* events.record({ ...event, category: EventCategory.agent, agentName: name })
            next = HashMap.remove(next, name)
          }
          for (const { record, events: said } of change.added) {
            for (const event of said) yield* events.record({ ...event, category: EventCategory.agent, agentName: record.name })
            next = HashMap.set(next, record.name, record)
          }
          names = change.order
          return next
        })))
    }),
    waitFor: <A>(check: (records: Records) => A | undefined) =>
      SubscriptionRef.changes(ref).pipe(
        Stream.map(check),
        Stream.filter(Predicate.isNotUndefined),
        Stream.runHead,
        // The stream of changes never ends, so the head is always there.
        Effect.flatMap((found) => Option.isSome(found) ? Effect.succeed(found.value) : Effect.never)
      )
  }
  return table
})
