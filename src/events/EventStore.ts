/**
 * The EventStore: the orchestrator's bounded event history and the command interface's audit trail.
 */
import { Clock, Context, DateTime, Effect, Layer, type LogLevel, Schema } from "effect"
import { formatData } from "./describe.ts"
import { currentLogging } from "../logContext.ts"
import type { HistoryEvent, Severity } from "../protocol/Model.ts"
import { type EventRecord, type LogInfo, type LogQuery, makeEventLog } from "./EventLog.ts"
import { intBetween, withDefault } from "../settings.ts"
import { boundPayload, defaultPayloadLimits } from "./truncate.ts"

/** The categories the orchestrator and the command interface record under. */
export const EventCategory = {
  command: "command",
  agent: "agent",
  orchestrator: "orchestrator"
} as const

/**
 * Most events a history may hold. An event takes about 300 bytes, and up to a few kilobytes with long values, so
 * a million is a few hundred megabytes to a gigabyte or two; the ten million allowed before could exhaust Node's heap.
 */
const MAX_CAPACITY = 1_000_000

export const RetentionPolicy = Schema.Struct({
  eventName: Schema.String.check(Schema.isNonEmpty()),
  keepLast: intBetween(1, MAX_CAPACITY),
  per: withDefault(Schema.Literals(["agent", "all"]), "agent")
})
export type RetentionPolicy = typeof RetentionPolicy.Type

export const defaultRetention: ReadonlyArray<RetentionPolicy> = [
  { eventName: "AGENT_HEARTBEAT", keepLast: 3, per: "agent" }
]

/**
 * Most events of each category held. Every read-only command adds an audit record, so without a bound of its own
 * the `command` category evicted every agent's events within seconds of a script's polling. With the defaults and
 * a capacity of 5000, agents' events always keep at least 2000 slots (5000 less the others' 3000).
 */
export const CategoryCapacity = Schema.Struct({
  agent: withDefault(intBetween(1, MAX_CAPACITY), 5000),
  orchestrator: withDefault(intBetween(1, MAX_CAPACITY), 1000),
  command: withDefault(intBetween(1, MAX_CAPACITY), 2000)
})

export const EventStoreConfig = Schema.Struct({
  /** Most events held; the oldest are dropped first. */
  capacity: withDefault(intBetween(1, MAX_CAPACITY), 5000),
  /** Most events held per category, within `capacity`. */
  categories: withDefault(CategoryCapacity, {}),
  /**
   * Most events held per agent: an agent restarting in a loop records a few events a restart, and without a bound
   * of its own would evict every other agent's within seconds (with backoff 0) or hours.
   */
  perAgent: withDefault(intBetween(1, MAX_CAPACITY), 1000),
  /** Longest string value kept in an event's data, in UTF-8 bytes. */
  maxValueBytes: withDefault(intBetween(16, 1024 * 1024), defaultPayloadLimits.maxValueBytes),
  /** Replaces the default policy (the last 3 `AGENT_HEARTBEAT`s per agent) when given. */
  retention: withDefault(Schema.Array(RetentionPolicy), defaultRetention)
})
export type EventStoreConfig = typeof EventStoreConfig.Type

/** As a program gives them: without `categories` (`perAgent`), no category (agent) has a bound of its own. */
export type EventStoreOptions = Omit<EventStoreConfig, "categories" | "perAgent"> & {
  readonly categories?: EventStoreConfig["categories"]
  readonly perAgent?: number
}

export const defaultEventStoreConfig: EventStoreConfig = Schema.decodeUnknownSync(EventStoreConfig)({})

export interface NewEvent {
  readonly eventName: string
  readonly category: string
  readonly agentName?: string | null | undefined
  readonly severity?: Severity | undefined
  /** Kept as given when nothing in it needs bounding, so it must not be changed once recorded. */
  readonly data?: Readonly<Record<string, unknown>> | undefined
}

export interface EventPage {
  readonly events: ReadonlyArray<HistoryEvent>
  readonly hasMore: boolean
}

export type EventQuery = LogQuery
export type EventStoreInfo = LogInfo

const toHistoryEvent = (record: EventRecord): HistoryEvent => ({
  seq: record.seq,
  eventName: record.eventName,
  category: record.category,
  agentName: record.agentName,
  timestamp: DateTime.makeUnsafe(record.timestamp),
  severity: record.severity,
  data: record.data
})

const NO_DATA: Readonly<Record<string, unknown>> = Object.freeze({})

const logLevels: Record<Severity, LogLevel.Severity> = { debug: "Debug", info: "Info", warning: "Warn", error: "Error" }

/**
 * Also logs every agent and orchestrator event, at the level its severity says. Command events are left out:
 * the command interface logs each request itself. Logged as the orchestrator logs, whoever records the event: a
 * command's request sets its interface's level and `component` for its own logs, not for the agent events it causes.
 */
const logging = Effect.fnUntraced(function*(store: EventStore["Service"]) {
  const own = yield* currentLogging
  return {
    ...store,
    record: (event) =>
      Effect.tap(store.record(event), () =>
        event.category === EventCategory.command ? Effect.void : Effect.logWithLevel(logLevels[event.severity ?? "info"])(
          `${event.eventName}${event.data === undefined || Object.keys(event.data).length === 0 ? "" : ` ${formatData(event.data)}`}`
        ).pipe(
          Effect.annotateLogs(event.agentName === undefined || event.agentName === null ? {} : { agent: event.agentName }),
          Effect.provideContext(own)
        ))
  } satisfies EventStore["Service"]
})

export class EventStore extends Context.Service<EventStore, {
  /** Records an event and returns it as stored: with its seq and time, its data values bounded. */
  readonly record: (event: NewEvent) => Effect.Effect<EventRecord>
  readonly query: (query: EventQuery) => Effect.Effect<EventPage>
  readonly info: Effect.Effect<EventStoreInfo>
}>()("effect-orchestrate/EventStore") {
  static readonly make = Effect.fnUntraced(function*(config: EventStoreOptions) {
    const log = makeEventLog({
      capacity: config.capacity,
      retention: config.retention,
      categoryCapacity: config.categories,
      agentCapacity: config.perAgent
    })
    const limits = { ...defaultPayloadLimits, maxValueBytes: config.maxValueBytes }
    // Read from the Clock service directly rather than through `Clock.currentTimeMillis`: every request's audit
    // record is recorded here, and each Effect step and context lookup saved is paid by every request.
    const clock = yield* Clock.Clock
    return EventStore.of({
      record: (event) =>
        Effect.sync(() =>
          log.append({
            eventName: event.eventName,
            category: event.category,
            agentName: event.agentName ?? null,
            severity: event.severity ?? "info",
            timestamp: clock.currentTimeMillisUnsafe(),
            // The caller's own data when nothing in it needs cutting (an audit record always fits): no copy per record.
            data: event.data === undefined ? NO_DATA : boundPayload(event.data, limits)
          })
        ),
      query: (query) =>
        Effect.sync(() => {
          const page = log.query(query)
          return { events: page.events.map(toHistoryEvent), hasMore: page.hasMore }
        }),
      info: Effect.sync(log.info)
    })
  })

  static readonly layer = (
    config: EventStoreOptions = defaultEventStoreConfig,
    options: { readonly log?: boolean } = {}
  ): Layer.Layer<EventStore> =>
    Layer.effect(EventStore, Effect.flatMap(EventStore.make(config), (store) => options.log === true ? logging(store) : Effect.succeed(store)))
}
