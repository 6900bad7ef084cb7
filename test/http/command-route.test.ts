/**
 * `POST /api/v1/command`, served by a route of its own beside the `HttpApi` (src/server/http/HttpRoutes.ts), and the
 * transport's handling of requests whose command takes time (src/server/http/HttpTransport.ts), over real sockets:
 * the bearer token read exactly as the API's routes read it; the route described in the OpenAPI document as it is
 * declared; a client that disconnects does not interrupt its command; at `maxInFlight`, a request waits for one in
 * flight to end; at its shutdown timeout a stopping interface interrupts the requests in flight, still answered (the
 * `ShuttingDown` envelope, received by the client) and recorded (the rest of stopping: http-shutdown.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Ref, Scope } from "effect"
import * as Http from "node:http"
import * as Net from "node:net"
import { tokenSha256 } from "../../src/security/tokens.ts"
import { fetchText, parsedBody as parsed, postRaw, type Stack, startGatedStack, startStack } from "../support/http.ts"
import { eventually } from "../support/orchestrator.ts"

interface Answer {
  readonly status: number
  readonly body: unknown
}

/** A POST of `body` with exactly these headers; `onSent` gets a way to break the connection off before the answer. */
const post = (url: string, body: string, headers: Record<string, string> = {}, onSent?: (abort: () => void) => void) =>
  Effect.map(postRaw(url, body, { headers, ...(onSent === undefined ? {} : { onSent }) }), ({ status, body }): Answer => ({ status, body }))

const command = (stack: Stack, envelope: unknown, headers?: Record<string, string>) =>
  post(`${stack.url}/api/v1/command`, JSON.stringify(envelope), headers)

const records = (stack: Stack) =>
  Effect.map(stack.events.query({ category: "command", limit: 1000 }), (page) => page.events.map((event) => event.data))

/** Waits until the gated control has been asked for `count` actions: that many commands are in flight. */
const untilAsked = (log: Ref.Ref<ReadonlyArray<string>>, count: number) =>
  eventually(Ref.get(log), (entries) => entries.length >= count)

describe("POST /api/v1/command", () => {
  it.live("reads the bearer token as the API's routes read it, whatever the header's spelling", () =>
    Effect.gen(function*() {
      const token = "orch_ops-token"
      const stack = yield* startStack({ http: { tokens: [{ name: "ops", tokenSha256: tokenSha256(token), role: "all" }] } })
      const spellings = [
        `Bearer ${token}`,
        `bearer ${token}`,
        `BEARER    ${token}`,
        `Bearer ${token}  `,
        `Bearer\t${token}`,
        `Bearer${token}`,
        "Bearer ",
        "Bearer",
        `Basic ${token}`,
        token
      ]
      const answers = yield* Effect.forEach(spellings, (authorization) =>
        Effect.gen(function*() {
          const overRoute = yield* command(stack, { command: "whoami" }, { authorization })
          const overApi = yield* Effect.promise(() =>
            new Promise<Answer>((resolve) =>
              Http.get(`${stack.url}/api/v1/whoami`, { headers: { authorization } }, (response) => {
                let text = ""
                response.setEncoding("utf8")
                response.on("data", (chunk: string) => (text += chunk))
                response.on("end", () => resolve({ status: response.statusCode ?? 0, body: parsed(text) }))
              })
            )
          )
          return { authorization, overRoute, overApi }
        }))
      for (const { overRoute, overApi } of answers) expect(overRoute).toEqual(overApi)
      // Node's parser drops the spaces after a header's value: the fourth is the token.
      expect(answers.map(({ overRoute }) => overRoute.status)).toEqual([200, 200, 200, 200, 401, 401, 401, 401, 401, 401])
      expect(answers[0]?.overRoute.body).toMatchObject({ status: "success", data: { principal: "ops" } })
    }))

  it.live("is described in the OpenAPI document as the API declares it", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const document = (yield* fetchText(`${stack.url}/api/v1/openapi.json`)).json as {
        paths: Record<string, Record<string, { description: string; security: unknown; requestBody: unknown; responses: Record<string, unknown> }>>
      }
      const operation = document.paths["/api/v1/command"]?.["post"]
      expect(operation?.description).toBe("Any command, as the ZeroMQ request envelope; answered with the same response envelope as on ZeroMQ")
      expect(operation?.security).toEqual([{ bearer: [] }, {}])
      // The ZeroMQ request envelope, as protocol/Envelope.ts declares it.
      expect(operation?.requestBody).toEqual({
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              properties: {
                command: { type: "string" },
                args: { type: "array" },
                id: { type: "string", minLength: 1, maxLength: 128 },
                reason: { type: "string", minLength: 1, maxLength: 500 }
              },
              required: ["command"],
              additionalProperties: false
            }
          }
        }
      })
      expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(["200", "400", "401", "403", "404", "413", "415", "500"])
    }))

  it.live("a client that waits for 100 Continue before its body, as curl does for larger ones, gets it and its answer", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const envelope = JSON.stringify({ command: "ps", reason: "checking a 100-continue client" })
      const answer = yield* Effect.callback<Answer>((resume) => {
        const request = Http.request(`${stack.url}/api/v1/command`, {
          method: "POST",
          agent: false,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(envelope), expect: "100-continue" }
        }, (response) => {
          let text = ""
          response.setEncoding("utf8")
          response.on("data", (chunk: string) => (text += chunk))
          response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body: parsed(text) })))
        })
        // The body goes only once the server has said to send it.
        request.on("continue", () => request.end(envelope))
        request.flushHeaders()
      })
      expect(answer).toMatchObject({ status: 200, body: { status: "success", data: { agents: expect.any(Array) } } })
    }))

  it.live("a client that disconnects does not interrupt its command: it runs to its end, answered and recorded", () =>
    Effect.gen(function*() {
      const { gate, log, stack } = yield* startGatedStack()
      let abort = () => {}
      const abandoned = yield* Effect.forkChild(
        post(`${stack.url}/api/v1/command`, JSON.stringify({ command: "stop", args: ["db"], id: "gone" }), {}, (f) => (abort = f))
      )
      yield* untilAsked(log, 1)
      abort()
      expect(Exit.isFailure(yield* Fiber.await(abandoned))).toBe(true)
      yield* Deferred.succeed(gate, undefined)
      const [record] = yield* eventually(records(stack), (records) => records.length === 1)
      expect(record).toMatchObject({ command: "stop", args: ["db"], code: 200, request_id: "gone", transport: "http" })
    }))

  it.live("at maxInFlight, a request waits until one in flight ends", () =>
    Effect.gen(function*() {
      const { gate, log, stack } = yield* startGatedStack({ config: { maxInFlight: 1 } })
      const first = yield* Effect.forkChild(command(stack, { command: "stop", args: ["db"] }))
      yield* untilAsked(log, 1)
      const second = yield* Effect.forkChild(command(stack, { command: "stop", args: ["api"] }))
      // Nothing tells the test that the second request has arrived and waits; given time, it must not have started.
      yield* Effect.sleep("300 millis")
      expect(yield* Ref.get(log)).toEqual(["stop db"])
      expect(second.pollUnsafe()).toBeUndefined()
      yield* Deferred.succeed(gate, undefined)
      expect((yield* Fiber.join(first)).body).toMatchObject({ status: "success", data: { message: "Agent 'db' stop done" } })
      expect((yield* Fiber.join(second)).body).toMatchObject({ status: "success", data: { message: "Agent 'api' stop done" } })
      expect(yield* Ref.get(log)).toEqual(["stop db", "stop api"])
      // Meanwhile, requests that do not suspend were not counted.
      expect((yield* command(stack, { command: "ps" })).status).toBe(200)
    }))

  it.live("at the shutdown timeout, a request still running is interrupted, answered ShuttingDown on the wire, and recorded", () =>
    Effect.gen(function*() {
      const { log, scope, stack } = yield* startGatedStack({ config: { shutdownTimeout: Duration.millis(300) } })
      const slow = yield* Effect.forkChild(command(stack, { command: "stop", args: ["db"], id: "slow" }))
      yield* untilAsked(log, 1)
      yield* Scope.close(scope, Exit.void)
      // The answer was on the wire before the connection closed: the drain comes before the server stops serving.
      expect(yield* Fiber.join(slow)).toEqual({
        status: 500,
        body: { status: "error", code: 500, reason: "ShuttingDown", error: "Server shut down before the command completed", id: "slow" }
      })
      expect(yield* records(stack)).toEqual([expect.objectContaining({ command: "stop", code: 500, error_reason: "ShuttingDown", request_id: "slow" })])
    }))

  it.live("a client cut off in the middle of its body leaves the interface serving, and nothing recorded for it", () =>
    Effect.gen(function*() {
      const stack = yield* startStack()
      const { port } = new URL(stack.url)
      // A socket of its own rather than postRaw: node:http sends nothing if destroyed before it connected, and says
      // nothing of when the bytes left. 10 bytes of the 1000 announced, flushed, then the connection is gone.
      yield* Effect.callback<void>((resume) => {
        const socket = Net.connect({ host: "127.0.0.1", port: Number(port) }, () => {
          socket.write(
            `POST /api/v1/command HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
              `Content-Length: 1000\r\n\r\n{"command"`,
            () => {
              socket.destroy()
              resume(Effect.void)
            }
          )
        })
        socket.on("error", () => undefined)
      })
      expect(yield* command(stack, { command: "ps", id: "after-the-cut" })).toMatchObject({
        status: 200,
        body: { status: "success", data: { agents: expect.any(Array) }, id: "after-the-cut" }
      })
      // Its body never ended, so it never reached the pipeline: no audit record, not even a 400. Two requests later
      // the broken one has had every chance to show up between them.
      expect((yield* command(stack, { command: "whoami", id: "later" })).status).toBe(200)
      expect(yield* records(stack)).toEqual([
        expect.objectContaining({ command: "ps", code: 200, request_id: "after-the-cut" }),
        expect.objectContaining({ command: "whoami", code: 200, request_id: "later" })
      ])
    }))
})
