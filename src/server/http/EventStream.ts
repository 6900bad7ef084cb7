/**
 * `GET /api/v1/events`: the EventStore's events (agent state changes among them: every change records its event)
 * and, with `?logs=1`, agents' output lines, as Server-Sent Events, filtered by `agent` and `category`.
 *
 * Who may open it is the pipeline's to say, as for the same reads over ZeroMQ: opening runs a `history` request
 * (and a `logs` one with `logs=1`) with the stream's filters through it, so the whitelist, the caller's role, the
 * filters' checks and the audit record are the commands'. A refusal is that request's answer, status and all.
 * Once open, the stream pages through the stores after its cursor with their own paging (`after_seq`), so what it
 * sends is exactly what `history` and `logs` would give a follower.
 *
 * The cursor is both positions at once: every message's `id` is `<event seq>:<log seq>`, the newest event and line
 * sent when it was, so `Last-Event-ID` resumes both exactly, with nothing missed and nothing sent twice. A bare
 * `<event seq>` resumes the events, with lines from the newest on. Without `Last-Event-ID` the stream starts now.
 *
 * With `?status=1` it also sends `status` messages, the `status` command's result (the orchestrator's, or with
 * `agent=` that agent's): at once, whenever a state, health, pid or restart count changes (looked at with every
 * read), and every 2 s regardless, for CPU, memory and uptime. A dashboard stays current from the stream alone,
 * without polling, and without an audit record per refresh. They carry no `id`: they move no cursor.
 *
 * A slow reader costs one page: the stream reads the next page only once the socket took the last one (Node's
 * `drain`), so nothing queues up in memory; what it misses meanwhile stays in the stores' bounded history until
 * evicted, and an eviction it would have sent is said as a `dropped` message. Idle, it sends a comment line every
 * 15 seconds, which keeps proxies from closing a quiet connection.
 *
 * At most `http.maxEventStreams` are open at once; one more is refused, 503 with `Retry-After`, before it starts.
 */
import { Clock, Context, DateTime, Effect, Layer, Option, Result, Schema, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import { EventStore } from "../../events/EventStore.ts"
import type { LogLine } from "../../logs/LogStore.ts"
import { type AgentStanding, OrchestratorQuery } from "../../ports/OrchestratorQuery.ts"
import { LogLineRecord } from "../../protocol/Commands.ts"
import { encodeAgentStatus } from "../../protocol/fastEncode.ts"
import { type AgentStatus, HistoryEvent } from "../../protocol/Model.ts"
import { type AgentListEncoder, makeAgentListEncoder } from "../AgentListEncoder.ts"
import { BearerTokenLive } from "./HttpRoutes.ts"
import { HttpConfig } from "./HttpSettings.ts"
import { HttpTransport, Refused, refusedResponse } from "./HttpTransport.ts"
import { OrchestrateApi } from "./OrchestrateApi.ts"

/** How often an open stream looks for what is new: what it adds to an event's delay, at most. */
const POLL_INTERVAL_MS = 250
/** A comment line after this long without a message; proxies commonly close connections idle for 30-60 s. */
const HEARTBEAT_MS = 15_000
/** Most events, and most lines, read for one write. */
const PAGE = 256
/** A `status` message at least this often, for what changes all the time: CPU, memory, uptime. */
const STATUS_INTERVAL_MS = 2_000

const encoder = new TextEncoder()
const encodeEvent = Schema.encodeSync(HistoryEvent)
const encodeLine = Schema.encodeSync(LogLineRecord)

interface Cursor {
  /** The newest event sent. */
  readonly events: number
  /** The newest line sent; undefined until the stream knows where lines start. */
  readonly logs: number | undefined
}

const CURSOR = /^(\d{1,15})(?::(\d{1,15}))?$/

/** A `Last-Event-ID` as a cursor; undefined when it is not one of ours. */
const parseCursor = (id: string): Cursor | undefined => {
  const match = CURSOR.exec(id.trim())
  if (match === null || match[1] === undefined) return undefined
  return { events: Number(match[1]), logs: match[2] === undefined ? undefined : Number(match[2]) }
}

const idOf = (cursor: Cursor): string => cursor.logs === undefined ? `${cursor.events}` : `${cursor.events}:${cursor.logs}`

const message = (event: string, cursor: Cursor | undefined, data: unknown): string =>
  `event: ${event}\n${cursor === undefined ? "" : `id: ${idOf(cursor)}\n`}data: ${JSON.stringify(data)}\n\n`

interface StreamFilter {
  readonly agent: string | undefined
  readonly category: string | undefined
  readonly logs: boolean
  readonly status: boolean
}

const badRequest = (error: string) => new Refused({ status: 400, reason: "MalformedRequest", error })

/** The query as HttpApi decoded it (`OrchestrateApi.ts`), which refuses a parameter given twice. */
interface StreamQuery {
  readonly agent?: string | undefined
  readonly category?: string | undefined
  readonly logs?: string | undefined
  readonly status?: string | undefined
}

const PARAMETERS: ReadonlyArray<string> = ["agent", "category", "logs", "status"]

/** The stream's filters from its query; an unknown parameter is refused rather than silently not applied. */
const filterOf = (query: StreamQuery, params: Readonly<Record<string, unknown>>): Result.Result<StreamFilter, Refused> => {
  const unknown = Object.keys(params).filter((key) => !PARAMETERS.includes(key))
  if (unknown.length > 0) return Result.fail(badRequest(`/api/v1/events takes agent, category, logs and status, not ${unknown.join(", ")}`))
  const { agent, category, logs, status } = query
  if (logs !== undefined && logs !== "0" && logs !== "1") return Result.fail(badRequest(`logs is 1 or 0, got ${logs}`))
  if (status !== undefined && status !== "0" && status !== "1") return Result.fail(badRequest(`status is 1 or 0, got ${status}`))
  return Result.succeed({ agent, category, logs: logs === "1", status: status === "1" })
}

/** The envelopes whose permission and checks opening the stream needs: `history`, `logs` with lines, `status` with status. */
const envelopesOf = (filter: StreamFilter): ReadonlyArray<Uint8Array> => [
  encoder.encode(JSON.stringify({
    command: "history",
    args: [{ limit: 1, ...(filter.agent === undefined ? {} : { agent: filter.agent }), ...(filter.category === undefined ? {} : { category: filter.category }) }]
  })),
  ...(filter.logs
    ? [encoder.encode(JSON.stringify({ command: "logs", args: [{ limit: 1, ...(filter.agent === undefined ? {} : { agents: [filter.agent] }) }] }))]
    : []),
  ...(filter.status
    ? [encoder.encode(JSON.stringify({ command: "status", args: filter.agent === undefined ? [] : [filter.agent] }))]
    : [])
]

/** What a `status` message is sent at once for when it changes: not CPU, memory, uptime or probe counters. */
const changeKeyOf = (agents: ReadonlyArray<Omit<AgentStatus, "uptimeSeconds">>, state = ""): string =>
  agents.reduce(
    (key, agent) => `${key}|${agent.agentName} ${agent.state} ${agent.health} ${agent.pid} ${agent.restarts} ${agent.waitingFor}`,
    state
  )

/** A view's agents keep their array until one changes: its change key is made once per array, for every stream. */
const listKeys = new WeakMap<ReadonlyArray<AgentStanding>, string>()
const keyOfList = (agents: ReadonlyArray<AgentStanding>): string => {
  let key = listKeys.get(agents)
  if (key === undefined) {
    key = changeKeyOf(agents.map((agent) => agent.status))
    listKeys.set(agents, key)
  }
  return key
}

/**
 * The stream's messages from `start` on: each read writes what is new in one chunk, events first, then lines,
 * each message carrying the cursor as it is after it.
 */
const messages = (filter: StreamFilter, start: Cursor, agentList: AgentListEncoder) =>
  Effect.gen(function*() {
    const events = yield* EventStore
    const query = yield* OrchestratorQuery
    const agents = filter.agent === undefined ? undefined : [filter.agent]
    // Lines from the newest on when the cursor has no log position (a new stream, or one resumed from an event seq).
    const logsFrom = !filter.logs
      ? undefined
      : start.logs ?? (yield* query.logs({ limit: 1, agents }).pipe(Effect.map((page) => page.lastSeq), Effect.orElseSucceed(() => 0)))
    const first: Cursor = { events: start.events, logs: logsFrom }

    /**
     * The `status` result as this stream's filter asks for it (encoded only when sent), and what tells its change.
     * The whole list from the orchestrator's view, through the interface's shared encoder, as `status` answers it:
     * a poll costs nothing while no agent changed, and a message only the uptimes when none did.
     */
    const currentStatus = filter.agent === undefined
      ? Effect.map(query.view, (view) => ({ text: () => agentList.status(view), key: `${view.state}${keyOfList(view.agents)}` }))
      : query.agent(filter.agent).pipe(
        Effect.map((agent) => ({ text: () => JSON.stringify(encodeAgentStatus(agent)), key: changeKeyOf([agent]) })),
        // Removed by a reload: nothing to say about it any more.
        Effect.orElseSucceed(() => undefined)
      )
    let statusSent = { key: "", at: 0 }
    /** A `status` message when the state changed since the last one, or it is due; otherwise nothing. */
    const statusMessage = Effect.gen(function*() {
      if (!filter.status) return ""
      const now = yield* Clock.currentTimeMillis
      const status = yield* currentStatus
      if (status === undefined || (status.key === statusSent.key && now - statusSent.at < STATUS_INTERVAL_MS)) return ""
      statusSent = { key: status.key, at: now }
      return `event: status\ndata: ${status.text()}\n\n`
    })

    /** What is new after `cursor`, as text, and the cursor after it. */
    const read = (cursor: Cursor) =>
      Effect.gen(function*() {
        let text = ""
        let position = cursor
        const info = yield* events.info
        if (info.firstSeq !== null && info.firstSeq > position.events + 1 && info.recorded > position.events) {
          text += message("dropped", undefined, { events_after_seq: position.events, evicted_before_seq: info.firstSeq })
        }
        const page = yield* events.query({ afterSeq: position.events, limit: PAGE, agent: filter.agent, category: filter.category })
        for (const event of page.events) {
          position = { ...position, events: event.seq }
          text += message("event", position, encodeEvent(event))
        }
        // Past the events this filter skips too, so that a resumed stream does not look at them again.
        if (!page.hasMore && info.lastSeq !== null && info.lastSeq > position.events) position = { ...position, events: info.lastSeq }
        if (position.logs !== undefined) {
          const lines = yield* query.logs({ afterSeq: position.logs, limit: PAGE, agents }).pipe(
            // The agent was removed by a reload: it has no lines any more.
            Effect.orElseSucceed(() => ({ lines: [] as ReadonlyArray<LogLine>, hasMore: false, lastSeq: position.logs ?? 0, dropped: [] }))
          )
          if (lines.dropped.length > 0) text += message("dropped", undefined, { logs_after_seq: position.logs, agents: lines.dropped })
          for (const line of lines.lines) {
            position = { ...position, logs: line.seq }
            text += message("log", position, encodeLine({ ...line, timestamp: DateTime.makeUnsafe(line.timestamp) }))
          }
          if (!lines.hasMore && lines.lastSeq > (position.logs ?? 0)) position = { ...position, logs: lines.lastSeq }
        }
        text += yield* statusMessage
        return { text, position }
      })

    /** The next chunk: what is new, waiting for it; a comment line when nothing was for a while. */
    const next = (cursor: Cursor) =>
      Effect.gen(function*() {
        for (let waited = 0; waited < HEARTBEAT_MS; waited += POLL_INTERVAL_MS) {
          const { text, position } = yield* read(cursor)
          if (text !== "") return [[text], Option.some(position)] as const
          // The cursor moved past filtered-out entries: kept, so the next read does not scan them again.
          cursor = position
          yield* Effect.sleep(POLL_INTERVAL_MS)
        }
        return [[": keep-alive\n\n"], Option.some(cursor)] as const
      })

    // The first chunk makes the headers go out at once and says how long to wait before reconnecting.
    return Stream.make(`retry: 2000\n: from ${idOf(first)}\n\n`).pipe(
      Stream.concat(Stream.paginate(first, next)),
      Stream.encodeText
    )
  })

/** How long a stream refused at the limit is told to wait before trying again (`Retry-After`), in seconds. */
const RETRY_AFTER_SECONDS = 5
/** The most often the limit being reached is logged: a script opening streams in a loop is one warning a minute. */
const LIMIT_WARNING_INTERVAL_MS = 60_000

/**
 * The streams open at once, at most `max`: each one reads the stores every 250 ms (with `status=1`, the
 * orchestrator's view too) for as long as its client keeps it open, so a script opening them in a loop would
 * otherwise grow the orchestrator's memory and CPU without bound. A stream takes its slot before anything else,
 * so that no number of them opening at once gets past the limit, and gives it back as its request's scope closes:
 * once its response ended (the client gone, the interface stopping), or when it was refused after all.
 *
 * A stream over the limit is refused as the interface refuses what it answers before the pipeline: with no audit
 * record (nothing ran), and a warning for the operator, at most one a minute however many are refused.
 */
const makeSlots = (max: number) => {
  let open = 0
  let refusedSinceWarning = 0
  let warnedAt = Number.NEGATIVE_INFINITY
  const refused = new Refused({
    status: 503,
    reason: "TooManyStreams",
    error: `Too many event streams: ${max} are open, the most this interface serves at once (http.maxEventStreams); ` +
      "retry later, or raise http.maxEventStreams"
  })
  const warn = Effect.gen(function*() {
    refusedSinceWarning += 1
    const now = yield* Clock.currentTimeMillis
    if (now - warnedAt < LIMIT_WARNING_INTERVAL_MS) return
    const count = refusedSinceWarning
    warnedAt = now
    refusedSinceWarning = 0
    yield* Effect.logWarning(
      `${count === 1 ? "an event stream was" : `${count} event streams were`} refused since the last warning: ` +
        `${max} are open, the most http.maxEventStreams allows (warned at most once a minute)`
    ).pipe(Effect.annotateLogs({ component: "http-interface" }))
  })
  return {
    /** Takes a slot for as long as the current scope is open; false when there is none. */
    take: Effect.acquireRelease(
      Effect.sync(() => {
        if (open >= max) return false
        open += 1
        return true
      }),
      (taken) => taken ? Effect.sync(() => (open -= 1)) : Effect.void
    ),
    /** The answer to a stream over the limit. */
    refuse: Effect.as(warn, HttpServerResponse.setHeader(refusedResponse(refused), "retry-after", `${RETRY_AFTER_SECONDS}`))
  }
}
type Slots = ReturnType<typeof makeSlots>

/**
 * Answers `GET /api/v1/events`: refused when `slots` has none free, or as the `history` (or `logs`) request
 * standing for it would be; otherwise the stream, from `Last-Event-ID` or from now, until `stopping` completes.
 */
const handle = (
  transport: HttpTransport["Service"],
  stopping: Effect.Effect<void>,
  query: StreamQuery,
  agentList: AgentListEncoder,
  slots: Slots
) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const filter = filterOf(query, yield* HttpServerRequest.ParsedSearchParams)
    if (filter._tag === "Failure") return yield* transport.answer(Effect.fail(filter.failure))
    if (!(yield* slots.take)) return yield* slots.refuse
    for (const envelope of envelopesOf(filter.success)) {
      const answered = yield* transport.answer(Effect.succeed(envelope))
      if (answered.status !== 200) return answered
    }
    const lastEventId = request.headers["last-event-id"]
    const info = yield* (yield* EventStore).info
    let start: Cursor
    if (lastEventId === undefined) {
      start = { events: info.lastSeq ?? 0, logs: undefined }
    } else {
      const parsed = parseCursor(lastEventId)
      if (parsed === undefined) {
        return yield* transport.answer(Effect.fail(badRequest(`Last-Event-ID is <event seq> or <event seq>:<log seq>, got ${lastEventId}`)))
      }
      // An id past what was ever recorded is another run's (seqs start again with every `up`): this run's history
      // from its start, rather than waiting, silent, until this run's seqs pass it. Lines are kept per run too.
      start = parsed.events > info.recorded ? { events: 0, logs: parsed.logs === undefined ? undefined : 0 } : parsed
    }
    const body = yield* messages(filter.success, start, agentList)
    return HttpServerResponse.stream(Stream.interruptWhen(body, stopping), {
      contentType: "text/event-stream",
      headers: { "cache-control": "no-store", "x-accel-buffering": "no" }
    })
  })

/**
 * The `events` group's route, over `HttpTransport`; its streams end once `stopping` completes. The interface
 * completes it first thing when it stops, before the server waits for open responses to finish: an open stream
 * would otherwise hold every shutdown for the whole shutdown timeout.
 */
export const layer = (stopping: Effect.Effect<void>) =>
  HttpApiBuilder.group(OrchestrateApi, "events", (handlers) =>
    Effect.gen(function*() {
      const transport = yield* HttpTransport
      // Only these: the layer's own Scope would stand in for each request's, which holds the stream's slot.
      const context = Context.pick(EventStore, OrchestratorQuery)(yield* Effect.context<EventStore | OrchestratorQuery>())
      // One for every stream: each agent is encoded once per change, however many streams send it.
      const agentList = makeAgentListEncoder()
      const slots = makeSlots((yield* HttpConfig).maxEventStreams)
      return handlers.handleRaw("events", ({ query }) =>
        handle(transport, stopping, query, agentList, slots).pipe(Effect.provide(context)))
    })).pipe(Layer.provide(BearerTokenLive))
