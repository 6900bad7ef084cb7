/**
 * An address where something other than ZeroMQ listens: the orchestrator's own HTTP interface (`up --http`), the
 * likeliest mistake, or any other server. The client reads what the peer answers a ZMTP greeting with and says
 * so, at once and with exit code 3, on the fast path and the full CLI alike; a ZeroMQ server's greeting still
 * gives its mechanism, and a peer that hangs up without a word still says nothing.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as Http from "node:http"
import * as Net from "node:net"
import { peerGreeting } from "../../src/client/ZmtpGreeting.ts"
import { cli } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { startServer } from "../support/zmq.ts"

/** `server` listening on a random loopback port until the scope closes; its port. */
const listening = (server: Net.Server) =>
  Effect.acquireRelease(
    Effect.callback<number>((resume) => {
      server.listen({ host: "127.0.0.1", port: 0 }, () => {
        const address = server.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
      })
    }),
    () =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  )

/** A real node:http server, as `up --http` is. */
const httpServer = listening(Http.createServer((_request, response) => response.end("ok")))

/** A server that answers whatever it gets with bytes of no protocol, then hangs up. */
const garbageServer = listening(Net.createServer((socket) => {
  socket.on("error", () => {})
  socket.once("data", () => socket.end("\x00\x01garbage\n"))
}))

/** A server that hangs up on every connection without a word. */
const hangUpServer = listening(Net.createServer((socket) => socket.destroy()))

const COMMAND_ADDRESS = "at commandInterface.address (up --address; tcp://127.0.0.1:5570 by default)"

/** `ps` at `address`, on the fast path and on the full CLI: both must print exactly the same. */
const psBothWays = (address: string) =>
  Effect.gen(function*() {
    const args = ["ps", "--address", address]
    const normal = yield* cli(args)
    const full = yield* cli(args, { env: { ORCHESTRATE_NO_FAST_PATH: "1" } })
    expect(normal).toEqual(full)
    return normal
  })

describe("what a peer answers a ZMTP greeting with", () => {
  it.live("an HTTP server answers HTTP", () =>
    Effect.gen(function*() {
      const port = yield* httpServer
      expect(yield* peerGreeting(`tcp://127.0.0.1:${port}`)).toEqual(Option.some({ _tag: "Http" }))
    }).pipe(Effect.scoped))

  it.live("bytes of another protocol are not ZMTP", () =>
    Effect.gen(function*() {
      const port = yield* garbageServer
      expect(yield* peerGreeting(`tcp://127.0.0.1:${port}`)).toEqual(Option.some({ _tag: "NotZmtp" }))
    }).pipe(Effect.scoped))

  it.live("a ZeroMQ server answers with its greeting and mechanism", () =>
    Effect.gen(function*() {
      const { endpoint } = yield* startServer(yield* Effect.scope)
      expect(yield* peerGreeting(endpoint)).toEqual(Option.some({ _tag: "Zmtp", mechanism: "NULL" }))
    }).pipe(Effect.scoped))

  it.live("a peer that hangs up without a word says nothing", () =>
    Effect.gen(function*() {
      const port = yield* hangUpServer
      expect(yield* peerGreeting(`tcp://127.0.0.1:${port}`)).toEqual(Option.none())
    }).pipe(Effect.scoped))
})

describe("the CLI at an address where no ZeroMQ server listens", () => {
  it.live("at an HTTP server, such as the orchestrator's HTTP interface, it says so and exits 3, both ways", () =>
    Effect.gen(function*() {
      const address = `tcp://localhost:${yield* httpServer}`
      const result = yield* psBothWays(address)
      expect(result).toEqual({
        code: 3,
        stdout: "",
        stderr: "error: an HTTP server answered, not ZeroMQ: is this the orchestrator's HTTP interface (up --http)? " +
          `The CLI talks to its command interface, ${COMMAND_ADDRESS} (${address})\n`
      })
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("at a server of another protocol, it says it does not speak ZeroMQ and exits 3, both ways", () =>
    Effect.gen(function*() {
      const address = `tcp://127.0.0.1:${yield* garbageServer}`
      const result = yield* psBothWays(address)
      expect(result).toEqual({
        code: 3,
        stdout: "",
        stderr: "error: the server does not speak ZeroMQ (ZMTP): the CLI talks to the orchestrator's command interface, " +
          `${COMMAND_ADDRESS} (${address})\n`
      })
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("across contexts, --json names the reason AnswersHttp", () =>
    Effect.gen(function*() {
      const address = `tcp://127.0.0.1:${yield* httpServer}`
      const env = { XDG_CONFIG_HOME: yield* tempDir("orchestrate-contexts-") }
      expect((yield* cli(["context", "add", "web", "--address", address], { env })).code).toBe(0)
      const result = yield* cli(["ps", "--all-contexts", "--json"], { env })
      expect(result.code).toBe(3)
      expect(JSON.parse(result.stdout)).toEqual({
        web: {
          address,
          error: {
            reason: "AnswersHttp",
            message: "an HTTP server answered, not ZeroMQ: is this the orchestrator's HTTP interface (up --http)? " +
              `The CLI talks to its command interface, ${COMMAND_ADDRESS} (${address})`
          }
        }
      })
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
