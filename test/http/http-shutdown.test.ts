/**
 * How the HTTP interface stops (src/server/http/HttpInterface.ts, HttpTransport.ts), seen by real clients over real
 * connections, HTTP and HTTPS: a request in flight within the shutdown timeout gets its real answer on the wire, then
 * its keep-alive connection ends; with a timeout of 0 it gets the `ShuttingDown` envelope (at a timeout that expires,
 * command-route.test.ts); connections with nothing in flight (idle after an answer, or that never sent a request)
 * end at once; new connections are refused while it drains; and nothing holds the stop up.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Option, Ref, Scope } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Net from "node:net"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { tempDir } from "../support/files.ts"
import { postRaw, startGatedStack, startStack } from "../support/http.ts"
import { eventually } from "../support/orchestrator.ts"

/** A POST of the envelope to `/api/v1/command` over `agent`; `ended` completes when its connection closes. */
const command = (url: string, envelope: unknown, agent: Http.Agent, ended: Deferred.Deferred<void>) =>
  postRaw(`${url}/api/v1/command`, JSON.stringify(envelope), { agent, onSocketClosed: () => Deferred.doneUnsafe(ended, Exit.void) })

const TLS_FIXTURES = Path.join(packageRoot(), "test", "fixtures", "tls")

/** An agent keeping its connections alive (over HTTPS, trusting the test certificate), destroyed with the test's scope. */
const agentOf = (make: () => Http.Agent) => Effect.acquireRelease(Effect.sync(make), (agent) => Effect.sync(() => agent.destroy()))
const keepAliveAgent = agentOf(() => new Http.Agent({ keepAlive: true }))
const httpsAgent = agentOf(() => new Https.Agent({ keepAlive: true, ca: Fs.readFileSync(Path.join(TLS_FIXTURES, "cert.pem")) }))

/** The test certificate and its key, copied where the key's mode can be made private. */
const tlsFiles = Effect.gen(function*() {
  const dir = yield* tempDir()
  const certFile = Path.join(dir, "cert.pem")
  const keyFile = Path.join(dir, "key.pem")
  Fs.copyFileSync(Path.join(TLS_FIXTURES, "cert.pem"), certFile)
  Fs.copyFileSync(Path.join(TLS_FIXTURES, "key.pem"), keyFile)
  Fs.chmodSync(keyFile, 0o600)
  return { certFile, keyFile }
})

/**
 * A TCP connection to the server that sends nothing, as a browser's preconnect may (Node's `close` leaves such a
 * connection open); `ended` completes when it closes. Destroyed with the test's scope.
 */
const connectSilently = (url: string, ended: Deferred.Deferred<void>) =>
  Effect.acquireRelease(
    Effect.callback<Net.Socket>((resume) => {
      const socket = Net.connect(Number(new URL(url).port), "127.0.0.1", () => resume(Effect.succeed(socket)))
      socket.once("close", () => Deferred.doneUnsafe(ended, Exit.void))
      // The server's end of it is what the test waits for; a reset is as good as a close.
      socket.on("error", () => {})
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )

/** Joins the fiber closing the stack's scope, or fails the test if it takes over 2 s. */
const closesQuickly = (closing: Fiber.Fiber<void>) =>
  Effect.gen(function*() {
    const closed = yield* Fiber.join(closing).pipe(Effect.timeoutOption("2 seconds"))
    expect(Option.isSome(closed), "the interface stopped within 2 s").toBe(true)
  })

describe("the HTTP interface, stopping", () => {
  it.live("answers a request in flight within the shutdown timeout on the wire, then ends its keep-alive connection", () =>
    Effect.gen(function*() {
      // Long enough that only an answer, not the timeout, can end the stop quickly.
      const { gate, log, scope, stack } = yield* startGatedStack({ config: { shutdownTimeout: Duration.seconds(20) } })
      const agent = yield* keepAliveAgent
      const ended = yield* Deferred.make<void>()
      const slow = yield* Effect.forkChild(command(stack.url, { command: "stop", args: ["db"], id: "slow" }, agent, ended))
      yield* eventually(Ref.get(log), (entries) => entries.length === 1)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      // The stop waits for the command: nothing else can end it.
      yield* Effect.sleep("200 millis")
      expect(closing.pollUnsafe()).toBeUndefined()
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(slow)).toEqual({
        status: 200,
        // Said by the server as it stops, so the client does not send another request on it.
        connection: "close",
        body: {
          status: "success",
          id: "slow",
          data: expect.objectContaining({ message: "Agent 'db' stop done" })
        }
      })
      yield* closesQuickly(closing)
      yield* Deferred.await(ended)
      const records = yield* stack.events.query({ category: "command", limit: 10 })
      expect(records.events.map((event) => event.data)).toEqual([
        expect.objectContaining({ command: "stop", code: 200, request_id: "slow", transport: "http" })
      ])
    }))

  it.live("with a shutdownTimeout of 0, a request in flight is interrupted at once and still answered on the wire", () =>
    Effect.gen(function*() {
      const { log, scope, stack } = yield* startGatedStack({ config: { shutdownTimeout: Duration.zero } })
      const ended = yield* Deferred.make<void>()
      const slow = yield* Effect.forkChild(command(stack.url, { command: "stop", args: ["db"], id: "cut" }, yield* keepAliveAgent, ended))
      yield* eventually(Ref.get(log), (entries) => entries.length === 1)
      yield* Scope.close(scope, Exit.void)
      expect(yield* Fiber.join(slow)).toEqual({
        status: 500,
        connection: "close",
        body: { status: "error", code: 500, reason: "ShuttingDown", error: "Server shut down before the command completed", id: "cut" }
      })
      yield* Deferred.await(ended)
    }))

  it.live("ends a keep-alive connection idle after its answer at once", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const stack = yield* startStack({ config: { shutdownTimeout: Duration.seconds(20) } }).pipe(Scope.provide(scope))
      const agent = yield* keepAliveAgent
      const ended = yield* Deferred.make<void>()
      const answer = yield* command(stack.url, { command: "ps" }, agent, ended)
      expect(answer).toMatchObject({ status: 200, connection: "keep-alive", body: { status: "success" } })
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* closesQuickly(closing)
      yield* Deferred.await(ended)
    }))

  it.live("ends a connection that never sent a request at once", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const stack = yield* startStack({ config: { shutdownTimeout: Duration.seconds(20) } }).pipe(Scope.provide(scope))
      const ended = yield* Deferred.make<void>()
      yield* connectSilently(stack.url, ended)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* closesQuickly(closing)
      yield* Deferred.await(ended)
    }))

  it.live("over HTTPS too: answers the request in flight, then ends its connection and an idle one at once", () =>
    Effect.gen(function*() {
      const { gate, log, scope, stack } = yield* startGatedStack({
        config: { shutdownTimeout: Duration.seconds(20) },
        http: { tls: yield* tlsFiles }
      })
      const url = stack.url.replace("http:", "https:")
      // Two connections: the first idle after its answer, the second with a command in flight.
      const idleEnded = yield* Deferred.make<void>()
      expect((yield* command(url, { command: "ps" }, yield* httpsAgent, idleEnded)).status).toBe(200)
      const busyEnded = yield* Deferred.make<void>()
      const busyAgent = yield* httpsAgent
      const slow = yield* Effect.forkChild(command(url, { command: "stop", args: ["db"], id: "slow" }, busyAgent, busyEnded))
      // And one that never began its TLS handshake.
      const silentEnded = yield* Deferred.make<void>()
      yield* connectSilently(stack.url, silentEnded)
      yield* eventually(Ref.get(log), (entries) => entries.length === 1)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* Deferred.await(idleEnded)
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(slow)).toMatchObject({ status: 200, connection: "close", body: { status: "success", id: "slow" } })
      yield* closesQuickly(closing)
      yield* Deferred.await(busyEnded)
      yield* Deferred.await(silentEnded)
    }))

  it.live("refuses new connections while it drains the requests in flight", () =>
    Effect.gen(function*() {
      const { gate, log, scope, stack } = yield* startGatedStack({ config: { shutdownTimeout: Duration.seconds(20) } })
      const agent = yield* keepAliveAgent
      const slow = yield* Effect.forkChild(command(stack.url, { command: "stop", args: ["db"] }, agent, yield* Deferred.make<void>()))
      yield* eventually(Ref.get(log), (entries) => entries.length === 1)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      const refused = yield* eventually(
        Effect.callback<string>((resume) => {
          const socket = Net.connect(Number(new URL(stack.url).port), "127.0.0.1", () => {
            socket.destroy()
            resume(Effect.succeed("connected"))
          })
          socket.once("error", (error: NodeJS.ErrnoException) => resume(Effect.succeed(error.code ?? error.message)))
        }),
        (outcome) => outcome !== "connected"
      )
      expect(refused).toBe("ECONNREFUSED")
      expect(closing.pollUnsafe()).toBeUndefined()
      yield* Deferred.succeed(gate, undefined)
      expect((yield* Fiber.join(slow)).status).toBe(200)
      yield* closesQuickly(closing)
    }))
})
