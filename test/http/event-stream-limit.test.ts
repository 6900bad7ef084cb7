/**
 * `http.maxEventStreams`, with real streams opened by `fetch` over real sockets: at the limit the next stream is
 * refused before it starts (503, `Retry-After`, the interface's error JSON naming the limit and its key, no audit
 * record), a stream whose client went away frees its slot, and so does one refused for another reason; the limit
 * a config file sets is the one a real `orchestrate up` serves, and an absurd one is refused at start-up.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tokenSha256 } from "../../src/security/tokens.ts"
import { cli, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { bearer, type Stack, startStack } from "../support/http.ts"
import { freePort } from "../support/net.ts"
import { eventually } from "../support/orchestrator.ts"

interface Opened {
  readonly status: number
  readonly contentType: string | null
  readonly retryAfter: string | null
  /** The body when the answer was not a stream; "" for a stream, which is left unread. */
  readonly body: unknown
  /** Ends the stream from the client's side, as a closed browser tab does. */
  readonly close: Effect.Effect<void>
  /**
   * Held so that the stream stays open: undici cancels the body of a response that is garbage collected, which
   * closes the connection (and, rightly, frees the stream's slot).
   */
  readonly response: Response
}

/** A `GET /api/v1/events` by `fetch`; a stream that was accepted is closed with the test's scope, or by `close`. */
const open = (url: string, headers: Record<string, string> = {}) =>
  Effect.acquireRelease(
    Effect.promise(async (): Promise<Opened> => {
      const controller = new AbortController()
      const response = await fetch(`${url}/api/v1/events`, { headers, signal: controller.signal })
      const contentType = response.headers.get("content-type")
      const body: unknown = contentType === "text/event-stream" ? "" : await response.json()
      return {
        status: response.status,
        contentType,
        retryAfter: response.headers.get("retry-after"),
        body,
        close: Effect.sync(() => controller.abort()),
        response
      }
    }),
    (opened) => opened.close
  )

const openMany = (url: string, count: number) => Effect.forEach(Array.from({ length: count }), () => open(url), { concurrency: "unbounded" })

const auditRecords = (stack: Stack) =>
  Effect.map(stack.events.query({ category: "command", limit: 1000 }), (page) => page.events.length)

const refusal = (limit: number) => ({
  status: 503,
  contentType: "application/json",
  retryAfter: "5",
  body: {
    status: "error",
    code: 503,
    reason: "TooManyStreams",
    error: `Too many event streams: ${limit} are open, the most this interface serves at once (http.maxEventStreams); ` +
      "retry later, or raise http.maxEventStreams"
  }
})

describe("GET /api/v1/events at http.maxEventStreams", () => {
  it.live("serves 64 at once by default; the next is refused before it starts; a closed one frees its slot", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      // Opened all at once: none gets past the limit however they interleave.
      const streams = yield* openMany(stack.url, 65)
      const statuses = streams.map((stream) => stream.status)
      expect(statuses.filter((status) => status === 200)).toHaveLength(64)
      const refused = streams.filter((stream) => stream.status !== 200)
      expect(refused).toHaveLength(1)
      expect(refused[0]).toMatchObject(refusal(64))
      // Each stream accepted ran a `history` request through the pipeline; the refused one ran nothing.
      expect(yield* auditRecords(stack)).toBe(64)
      expect(yield* open(stack.url)).toMatchObject(refusal(64))
      expect(yield* auditRecords(stack)).toBe(64)

      yield* streams.find((stream) => stream.status === 200)?.close ?? Effect.void
      // The server learns of the close when the socket does: until then the slot may still be taken.
      const reopened = yield* eventually(open(stack.url), (opened) => opened.status !== 503)
      expect(reopened).toMatchObject({ status: 200, contentType: "text/event-stream" })
      expect(yield* open(stack.url)).toMatchObject(refusal(64))
    }).pipe(Effect.scoped))

  it.live("a stream refused by the pipeline or for its Last-Event-ID holds no slot", () =>
    Effect.gen(function*() {
      const token = "orch_reader"
      const stack = yield* startStack({
        http: { maxEventStreams: 1, tokens: [{ name: "reader", tokenSha256: tokenSha256(token), role: "all" }] }
      })
      for (let attempt = 0; attempt < 3; attempt++) {
        expect(yield* open(stack.url)).toMatchObject({ status: 401, body: { reason: "AuthenticationFailed" } })
        expect(yield* open(stack.url, { ...bearer(token), "last-event-id": "yesterday" })).toMatchObject({
          status: 400,
          body: { reason: "MalformedRequest", error: "Last-Event-ID is <event seq> or <event seq>:<log seq>, got yesterday" }
        })
      }
      expect(yield* open(stack.url, bearer(token))).toMatchObject({ status: 200, contentType: "text/event-stream" })
      expect(yield* open(stack.url, bearer(token))).toMatchObject(refusal(1))
    }).pipe(Effect.scoped))

  it.live("warns the operator of refusals, once a minute at most however many there are", () =>
    Effect.gen(function*() {
      const warnings: Array<string> = []
      const capture = Logger.make<unknown, void>(({ logLevel, message }) => {
        if (logLevel === "Warn") warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
      })
      const stack = yield* startStack({ http: { maxEventStreams: 1 } }).pipe(Effect.provide(Logger.layer([capture])))
      expect((yield* open(stack.url)).status).toBe(200)
      for (let attempt = 0; attempt < 3; attempt++) expect(yield* open(stack.url)).toMatchObject(refusal(1))
      expect(warnings).toEqual([
        "an event stream was refused since the last warning: 1 are open, the most http.maxEventStreams allows (warned at most once a minute)"
      ])
    }).pipe(Effect.scoped))

  it.live("a real orchestrate up serves the limit its config file sets", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const url = `http://127.0.0.1:${port}`
      const dir = yield* tempDir("orch-streams-")
      const file = Path.join(dir, "services.json")
      Fs.writeFileSync(file, JSON.stringify({
        commandInterface: { enabled: true, allowedCommands: "all" },
        http: { enabled: true, address: `127.0.0.1:${port}`, maxEventStreams: 2 },
        agents: [{ name: "steady", command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] }]
      }))
      yield* startUp([file, "--quiet"])
      const streams = yield* openMany(url, 2)
      expect(streams.map((stream) => stream.status)).toEqual([200, 200])
      expect(yield* open(url)).toMatchObject(refusal(2))
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("an absurd http.maxEventStreams is refused at start-up, by its path, before any agent starts", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-streams-")
      const marker = Path.join(dir, "started")
      const write = (maxEventStreams: unknown) => {
        const file = Path.join(dir, `${String(maxEventStreams)}.json`)
        Fs.writeFileSync(file, JSON.stringify({
          http: { enabled: true, address: "127.0.0.1:0", maxEventStreams },
          agents: [{ name: "witness", command: process.execPath, args: ["-e", `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "")`] }]
        }))
        return file
      }
      for (const [value, got] of [[0, "0"], [5000, "5000"], [2.5, "2.5"]] as const) {
        const file = write(value)
        expect(yield* cli(["up", file])).toEqual({
          code: 2,
          stdout: "",
          stderr: `error: invalid config ${file}:\n  http.maxEventStreams: expected an integer from 1 to 4096, got ${got}\n`
        })
      }
      expect(Fs.existsSync(marker)).toBe(false)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
