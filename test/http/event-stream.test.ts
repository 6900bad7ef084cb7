/**
 * `GET /api/v1/events` read by a real HTTP client (node:http, which sends Last-Event-ID as EventSource does) over a
 * real socket: events arrive live, the agent and category filters hold, log lines come with `logs=1`, a stream
 * resumed from its last id misses nothing and repeats nothing across both id spaces, and callers without `history`
 * (or `logs`) are refused as those commands would be.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Scope } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Path from "node:path"
import { tokenSha256 } from "../../src/security/tokens.ts"
import { startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { bearer, fetchText, postJson, type Stack, startStack } from "../support/http.ts"
import { freePort } from "../support/net.ts"
import { eventually } from "../support/orchestrator.ts"

interface SseMessage {
  readonly event: string
  readonly id: string | undefined
  readonly data: Record<string, unknown>
}

interface OpenStream {
  readonly status: number
  readonly contentType: string | undefined
  /** Messages so far, in order. */
  readonly messages: Array<SseMessage>
  /** Comment lines so far. */
  readonly comments: Array<string>
  /** The body, when the answer was not a stream. */
  readonly body: () => string
  /** Whether the server ended the response. */
  readonly ended: () => boolean
}

/** Parses SSE blocks (separated by a blank line) as a browser's EventSource does, for the fields we send. */
const parseBlock = (block: string, stream: OpenStream): void => {
  let event = "message"
  let id: string | undefined
  const data: Array<string> = []
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) stream.comments.push(line.slice(1).trim())
    else if (line.startsWith("event: ")) event = line.slice(7)
    else if (line.startsWith("id: ")) id = line.slice(4)
    else if (line.startsWith("data: ")) data.push(line.slice(6))
  }
  if (data.length > 0) stream.messages.push({ event, id, data: JSON.parse(data.join("\n")) as Record<string, unknown> })
}

/** Opens the stream; it is closed (the socket destroyed) with the test's scope or by `close`. */
const openStream = (url: string, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    let request: Http.ClientRequest | undefined
    const stream = yield* Effect.acquireRelease(
      Effect.callback<OpenStream>((resume) => {
        request = Http.get(url, { headers }, (response) => {
          let buffer = ""
          let body = ""
          let ended = false
          const opened: OpenStream = {
            status: response.statusCode ?? 0,
            contentType: response.headers["content-type"],
            messages: [],
            comments: [],
            body: () => body,
            ended: () => ended
          }
          response.setEncoding("utf8")
          response.on("data", (chunk: string) => {
            body += chunk
            buffer += chunk
            let end = buffer.indexOf("\n\n")
            while (end !== -1) {
              parseBlock(buffer.slice(0, end), opened)
              buffer = buffer.slice(end + 2)
              end = buffer.indexOf("\n\n")
            }
          })
          response.on("end", () => (ended = true))
          response.on("error", () => (ended = true))
          resume(Effect.succeed(opened))
        })
        request.on("error", () => undefined)
      }),
      () => Effect.sync(() => request?.destroy())
    )
    return { ...stream, close: Effect.sync(() => request?.destroy()) }
  })

const waitFor = (stream: OpenStream, count: number) =>
  eventually(Effect.sync(() => stream.messages.length), (n) => n >= count).pipe(Effect.map(() => stream.messages))

/** The JSON body of an answer that is not a stream (a refusal), once the server ended it. */
const answerOf = (stream: OpenStream) =>
  eventually(Effect.sync(() => stream.ended()), (ended) => ended).pipe(Effect.map(() => JSON.parse(stream.body()) as unknown))

const record = (stack: Stack, eventName: string, agentName: string | null, category = "agent") =>
  stack.events.record({ eventName, category, agentName })

describe("GET /api/v1/events", () => {
  it.live("sends events recorded after it opened, live, with their seq as the id", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const before = yield* record(stack, "AGENT_OLD", "db")
      const stream = yield* openStream(`${stack.url}/api/v1/events`)
      expect(stream.status).toBe(200)
      expect(stream.contentType).toBe("text/event-stream")
      // The stream is open once its first chunk arrived; only then is "after it opened" well defined.
      yield* eventually(Effect.sync(() => stream.comments.length), (n) => n >= 1)
      const started = yield* record(stack, "AGENT_STARTED", "db")
      const stopped = yield* record(stack, "AGENT_STOPPED", "api")
      const messages = yield* waitFor(stream, 2)
      expect(messages.slice(0, 2)).toEqual([
        {
          event: "event",
          id: `${started.seq}`,
          data: expect.objectContaining({ seq: started.seq, event_name: "AGENT_STARTED", category: "agent", agent_name: "db" })
        },
        {
          event: "event",
          id: `${stopped.seq}`,
          data: expect.objectContaining({ seq: stopped.seq, event_name: "AGENT_STOPPED", agent_name: "api" })
        }
      ])
      expect(messages.some((m) => m.data["seq"] === before.seq)).toBe(false)
    }))

  it.live("filters by agent and by category", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const db = yield* openStream(`${stack.url}/api/v1/events?agent=db`)
      const orchestrator = yield* openStream(`${stack.url}/api/v1/events?category=orchestrator`)
      yield* eventually(Effect.sync(() => db.comments.length + orchestrator.comments.length), (n) => n >= 2)
      yield* record(stack, "AGENT_STARTED", "api")
      yield* record(stack, "AGENT_STARTED", "db")
      yield* record(stack, "RELOADED", null, "orchestrator")
      yield* record(stack, "AGENT_READY", "db")
      // The last of each filter's events arrives after every one it skips was recorded: what was skipped stays out.
      expect((yield* waitFor(db, 2)).map((m) => m.data["event_name"])).toEqual(["AGENT_STARTED", "AGENT_READY"])
      expect((yield* waitFor(orchestrator, 1)).map((m) => m.data["event_name"])).toEqual(["RELOADED"])
      yield* record(stack, "SHUTDOWN_REQUESTED", null, "orchestrator")
      expect((yield* waitFor(orchestrator, 2)).map((m) => m.data["event_name"])).toEqual(["RELOADED", "SHUTDOWN_REQUESTED"])
      expect(db.messages.every((m) => m.data["agent_name"] === "db")).toBe(true)
      expect(db.messages).toHaveLength(2)
    }))

  it.live("with logs=1 sends agents' lines too, one agent's with agent=, each id holding both positions", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      // category filters events only: lines come whatever it is.
      const all = yield* openStream(`${stack.url}/api/v1/events?logs=1&category=agent`)
      const api = yield* openStream(`${stack.url}/api/v1/events?logs=1&agent=api`)
      yield* eventually(Effect.sync(() => all.comments.length + api.comments.length), (n) => n >= 2)
      yield* stack.orchestrator.output("db", "stdout", ["db is up"])
      yield* stack.orchestrator.output("api", "stderr", ["api warning"])
      const event = yield* record(stack, "AGENT_READY", "api")
      const messages = yield* waitFor(all, 3)
      expect(messages.filter((m) => m.event === "log").map((m) => [m.data["agent"], m.data["stream"], m.data["line"]])).toEqual([
        ["db", "stdout", "db is up"],
        ["api", "stderr", "api warning"]
      ])
      const apiMessages = yield* waitFor(api, 2)
      expect(apiMessages.map((m) => m.event === "log" ? m.data["line"] : m.data["event_name"]).sort()).toEqual(["AGENT_READY", "api warning"])
      for (const message of messages) expect(message.id).toMatch(/^\d+:\d+$/)
      const ready = messages.find((m) => m.event === "event")
      expect(ready?.id?.split(":")[0]).toBe(`${event.seq}`)
    }))

  it.live("with status=1 sends the status result at once and again when a state changes, without an id", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const stream = yield* openStream(`${stack.url}/api/v1/events?status=1&category=orchestrator`)
      expect(stream.status).toBe(200)
      const [first] = yield* waitFor(stream, 1)
      expect(first).toMatchObject({ event: "status", id: undefined, data: { state: "running", max_workers: 4, counts: { total: 4, running: 2 } } })
      expect((first?.data["agents"] as ReadonlyArray<{ agent_name: string; state: string }>).map((a) => [a.agent_name, a.state]))
        .toEqual([["db", "running"], ["api", "running"], ["worker", "paused"], ["migrate", "completed"]])

      expect((yield* postJson(`${stack.url}/api/v1/agents/worker/resume`, {})).status).toBe(200)
      const changed = yield* eventually(
        Effect.sync(() => stream.messages.find((m) => (m.data["counts"] as { running: number }).running === 3)),
        (found) => found !== undefined
      )
      expect(changed).toMatchObject({ event: "status", id: undefined, data: { counts: { running: 3, paused: 0 } } })
      expect(stream.messages.every((m) => m.event === "status")).toBe(true)

      const one = yield* openStream(`${stack.url}/api/v1/events?status=1&agent=api`)
      expect((yield* waitFor(one, 1))[0]).toMatchObject({ event: "status", data: { agent_name: "api", kind: "process", state: "running" } })

      const bad = yield* openStream(`${stack.url}/api/v1/events?status=yes`)
      expect(bad.status).toBe(400)
      expect(yield* answerOf(bad)).toMatchObject({ reason: "MalformedRequest", error: "status is 1 or 0, got yes" })
      const refused = yield* startStack({ config: { allowedCommands: ["history"] } })
      const noStatus = yield* openStream(`${refused.url}/api/v1/events?status=1`)
      expect(noStatus.status).toBe(403)
      expect(yield* answerOf(noStatus)).toMatchObject({ reason: "NotAllowed", error: "Command 'status' not allowed: not among the commands this server allows (the server's commandInterface.allowedCommands)" })
    }))

  it.live("resumed from Last-Event-ID, misses nothing and repeats nothing, events and lines alike", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      // The agent category: opening a stream leaves audit records (category command) of its own.
      const first = yield* openStream(`${stack.url}/api/v1/events?logs=1&category=agent`)
      yield* eventually(Effect.sync(() => first.comments.length), (n) => n >= 1)
      for (let i = 0; i < 5; i++) {
        yield* record(stack, `E${i}`, "db")
        yield* stack.orchestrator.output("db", "stdout", [`line ${i}`])
      }
      const seen = yield* waitFor(first, 10)
      yield* first.close
      const lastId = seen.at(-1)?.id
      expect(lastId).toMatch(/^\d+:\d+$/)
      // While nobody listens: more of both, 300 events so that the resumed stream reads more than one page.
      for (let i = 5; i < 305; i++) {
        yield* record(stack, `E${i}`, "db")
        if (i < 12) yield* stack.orchestrator.output("db", "stdout", [`line ${i}`])
      }
      const resumed = yield* openStream(`${stack.url}/api/v1/events?logs=1&category=agent`, { "last-event-id": lastId ?? "" })
      expect(resumed.status).toBe(200)
      const rest = yield* waitFor(resumed, 307)
      const all = [...seen, ...rest]
      expect(all.filter((m) => m.event === "event").map((m) => m.data["event_name"]))
        .toEqual(Array.from({ length: 305 }, (_, i) => `E${i}`))
      expect(all.filter((m) => m.event === "log").map((m) => m.data["line"]))
        .toEqual(Array.from({ length: 12 }, (_, i) => `line ${i}`))
      expect(rest.some((m) => m.event === "dropped")).toBe(false)
    }))

  it.live("a bare event seq resumes the events; a Last-Event-ID that is not a cursor, or an unknown filter, is refused", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const a = yield* record(stack, "A", "db")
      yield* record(stack, "B", "db")
      const resumed = yield* openStream(`${stack.url}/api/v1/events`, { "last-event-id": `${a.seq}` })
      expect((yield* waitFor(resumed, 1))[0]?.data["event_name"]).toBe("B")

      // An id from another run of the orchestrator, past anything this one recorded: this run's history instead.
      const otherRun = yield* openStream(`${stack.url}/api/v1/events?category=agent`, { "last-event-id": "999999" })
      expect((yield* waitFor(otherRun, 2)).map((m) => m.data["event_name"])).toEqual(["A", "B"])

      const bad = yield* openStream(`${stack.url}/api/v1/events`, { "last-event-id": "yesterday" })
      expect(bad.status).toBe(400)
      expect(yield* answerOf(bad)).toEqual({
        status: "error",
        code: 400,
        reason: "MalformedRequest",
        error: "Last-Event-ID is <event seq> or <event seq>:<log seq>, got yesterday"
      })
      const unknown = yield* openStream(`${stack.url}/api/v1/events?agents=db`)
      expect(unknown.status).toBe(400)
      expect(yield* answerOf(unknown)).toMatchObject({ reason: "MalformedRequest", error: "/api/v1/events takes agent, category, logs and status, not agents" })
    }))

  it.live("needs history, and logs for lines: a caller without them is refused as those commands would be", () =>
    Effect.gen(function*() {
      const stack = yield* startStack({ config: { allowedCommands: ["ps", "status", "whoami"] } })
      const refused = yield* openStream(`${stack.url}/api/v1/events`)
      expect(refused.status).toBe(403)
      expect(yield* answerOf(refused)).toMatchObject({ status: "error", code: 403, reason: "NotAllowed", error: "Command 'history' not allowed: not among the commands this server allows (see the 'whoami' command)" })

      const noLogs = yield* startStack({ config: { allowedCommands: ["history"] } })
      expect((yield* openStream(`${noLogs.url}/api/v1/events`)).status).toBe(200)
      const lines = yield* openStream(`${noLogs.url}/api/v1/events?logs=1`)
      expect(lines.status).toBe(403)
      expect(yield* answerOf(lines)).toMatchObject({ reason: "NotAllowed", error: "Command 'logs' not allowed: not among the commands this server allows (the server's commandInterface.allowedCommands)" })
    }))

  it.live("with tokens: none is 401, a token whose role lacks history 403; agent patterns do not limit it", () =>
    Effect.gen(function*() {
      const token = "orch_stream-test-token-1"
      const watcher = "orch_stream-test-token-2"
      const stack = yield* startStack({
        config: { allowedCommands: "all" },
        http: {
          tokens: [
            { name: "ps-only", tokenSha256: tokenSha256(token), role: ["ps"] },
            { name: "watcher", tokenSha256: tokenSha256(watcher), role: "monitoring", agents: ["api"] }
          ]
        }
      })
      expect((yield* openStream(`${stack.url}/api/v1/events`)).status).toBe(401)
      expect((yield* openStream(`${stack.url}/api/v1/events`, bearer(token))).status).toBe(403)
      const watching = yield* openStream(`${stack.url}/api/v1/events?logs=1`, bearer(watcher))
      expect(watching.status).toBe(200)
      yield* eventually(Effect.sync(() => watching.comments.length), (n) => n >= 1)
      yield* record(stack, "AGENT_STARTED", "db")
      expect((yield* waitFor(watching, 1))[0]?.data).toMatchObject({ event_name: "AGENT_STARTED", agent_name: "db" })
    }))

  it.live("ends open streams when the interface stops, without waiting for its shutdown timeout", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const stack = yield* startStack({ config: { shutdownTimeout: Duration.seconds(20) } }).pipe(Scope.provide(scope))
      const stream = yield* openStream(`${stack.url}/api/v1/events`)
      yield* eventually(Effect.sync(() => stream.comments.length), (n) => n >= 1)
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.timeoutOption("5 seconds"))
      expect(closed._tag).toBe("Some")
      yield* eventually(Effect.sync(stream.ended), (ended) => ended)
    }))
})

describe("GET /api/v1/events from a real orchestrate up --http", () => {
  it.live("streams a restart's state changes and the agent's output as they happen, and ends with the shutdown", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-sse-")
      const file = Path.join(dir, "services.json")
      Fs.writeFileSync(file, JSON.stringify({
        commandInterface: { enabled: true, allowedCommands: "all" },
        agents: [
          { name: "talker", command: process.execPath, args: ["-e", "console.log('hello from ' + process.pid); setInterval(() => {}, 1000)"] },
          { name: "quiet", command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] }
        ]
      }))
      const port = yield* freePort
      const url = `http://127.0.0.1:${port}`
      const { up } = yield* startUp([file, "--http", `127.0.0.1:${port}`, "--quiet"])
      const stream = yield* openStream(`${url}/api/v1/events?agent=talker&logs=1`)
      expect(stream.status).toBe(200)
      yield* eventually(Effect.sync(() => stream.comments.length), (n) => n >= 1)
      // Restarted once it runs: `up` answers before its agents have started.
      yield* eventually(
        Effect.map(fetchText(`${url}/api/v1/agents/talker`), (answer) => (answer.json as { data?: { state?: string } }).data?.state),
        (state) => state === "running"
      )
      expect((yield* postJson(`${url}/api/v1/agents/talker/restart`, { reason: "sse test" })).status).toBe(200)
      const restartedAt = (messages: ReadonlyArray<SseMessage>) => messages.findIndex((m) => m.data["event_name"] === "AGENT_RESTARTED")
      // The restart's events, then the new run's start and a line of output (events and lines are two orders:
      // the process may write before its start is recorded).
      const after = yield* eventually(
        Effect.sync(() => stream.messages.slice(restartedAt(stream.messages) + 1)),
        (messages) =>
          restartedAt(stream.messages) !== -1 &&
          messages.some((m) => m.data["event_name"] === "AGENT_STARTED") &&
          messages.some((m) => m.data["stream"] === "stdout")
      )
      // The orchestrator's own note on the restart is in the agent's log too (stream "orchestrator").
      yield* eventually(
        Effect.sync(() => stream.messages.find((m) => m.data["stream"] === "orchestrator")?.data["line"]),
        (line) => line === "restarted (requested)"
      )
      expect(after.find((m) => m.data["stream"] === "stdout")?.data).toMatchObject({
        agent: "talker",
        stream: "stdout",
        line: expect.stringMatching(/^hello from \d+$/)
      })
      expect(stream.messages.every((m) => m.data["agent_name"] === "talker" || m.data["agent"] === "talker")).toBe(true)

      expect((yield* postJson(`${url}/api/v1/shutdown`, {})).status).toBe(200)
      // The open stream does not hold the shutdown for the shutdown timeout: up ends, and so does the stream.
      expect((yield* up.exit("15 seconds")).code).toBe(0)
      yield* eventually(Effect.sync(stream.ended), (ended) => ended)
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)
})
