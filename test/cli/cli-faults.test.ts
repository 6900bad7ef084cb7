import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import * as Zmq from "zeromq"
import { BIN, cli, isAlive, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { onTerminal, onTerminalRunning } from "../support/terminal.ts"
import { ANY_PORT, startServer } from "../support/zmq.ts"

/** A Router that reads requests and never answers them. */
const silentServer = Effect.gen(function*() {
  const received = yield* Ref.make<ReadonlyArray<string>>([])
  const router = yield* Effect.acquireRelease(Effect.sync(() => new Zmq.Router({ linger: 0 })), (socket) => Effect.sync(() => socket.close()))
  yield* Effect.promise(() => router.bind(ANY_PORT))
  yield* Effect.forkScoped(Effect.forever(Effect.flatMap(
    Effect.promise(() => router.receive()),
    (frames) => Ref.update(received, (all) => [...all, String(frames[frames.length - 1])])
  )))
  return { address: router.lastEndpoint ?? "", received: Ref.get(received) }
})

const idsOf = (requests: ReadonlyArray<string>) =>
  requests.map((request): unknown => JSON.parse(request)).map((request) =>
    typeof request === "object" && request !== null && "id" in request ? request.id : undefined)


describe("orchestrate against faulty or restrictive servers", () => {
  it.live("exits 3 when the server never answers; a read-only request is retried once, on a fresh socket, with the same id", () =>
    Effect.gen(function*() {
      const server = yield* silentServer
      const started = Date.now()
      const result = yield* cli(["ps", "--timeout", "1", "--address", server.address])
      expect(result.code).toBe(3)
      expect(result.stderr).toMatch(/^error: no answer within 1s \(tcp:\/\/127\.0\.0\.1:\d+\)\n$/)
      expect(Date.now() - started).toBeLessThan(5000)
      const ids = idsOf(yield* server.received)
      expect(ids).toHaveLength(2)
      expect(ids[0]).toBe(ids[1])
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("resends a mutating request only with the same id, which the server answers once; never resends shutdown", () =>
    Effect.gen(function*() {
      const server = yield* silentServer
      const result = yield* cli(["stop", "web", "--timeout", "1", "--address", server.address])
      expect(result.code).toBe(3)
      expect(result.stderr).toMatch(/^error: no answer within 1s \(/)
      const ids = idsOf(yield* server.received)
      expect(ids).toHaveLength(2)
      expect(ids[0]).toBe(ids[1])
      const shutdown = yield* cli(["shutdown", "--timeout", "1", "--address", server.address])
      expect(shutdown.stderr).toMatch(/^error: no answer within 1s/)
      expect(yield* server.received).toHaveLength(3)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a refused command exits 1 with the server's message", () =>
    Effect.gen(function*() {
      const { endpoint } = yield* startServer(yield* Effect.scope, { config: { allowedCommands: "basic" } })
      const result = yield* cli(["shutdown", "--address", endpoint])
      expect(result).toEqual({ code: 1, stdout: "", stderr: "error: Command 'shutdown' not allowed: not among the commands this server allows (see the 'whoami' command) (403)\n" })
      const allowed = yield* cli(["ps", "--address", endpoint])
      expect(allowed.code).toBe(0)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("shutdown stops the orchestrator; afterwards status exits 3", () =>
    Effect.gen(function*() {
      const { address, up } = yield* startUp([])
      const pids = (yield* cli(["ps", "--json", "--address", address])).stdout
      const result = yield* cli(["shutdown", "--address", address])
      expect(result).toEqual({ code: 0, stdout: "Shutdown initiated\n", stderr: "" })
      expect((yield* up.exit()).code).toBe(0)
      expect((yield* cli(["status", "--address", address])).code).toBe(3)
      const agentPids = [...pids.matchAll(/"pid":(\d+)/g)].map((match) => Number(match[1]))
      expect(agentPids.filter(isAlive)).toEqual([])
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("stats --watch redraws in place on a terminal", () =>
    Effect.gen(function*() {
      const { endpoint } = yield* startServer(yield* Effect.scope)
      // Each refresh goes back over the 15 lines drawn before and clears the screen below. The terminal (and the
      // command on it) is closed with the scope.
      const redraws = (screen: string) => screen.split("\u001b[15A\u001b[J").length - 1
      const terminal = yield* onTerminalRunning(
        [process.execPath, BIN, "stats", "--watch", "--interval", "0.2", "--address", endpoint],
        { NO_COLOR: "1" }
      )
      const screen = yield* terminal.waitForStdout((screen) => redraws(screen) >= 3)
      expect(screen).toMatch(/agents\s+4 total/)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("colours only on a terminal, and never with NO_COLOR; FORCE_COLOR forces them, TERM=dumb turns them off", () =>
    Effect.gen(function*() {
      const { endpoint } = yield* startServer(yield* Effect.scope)
      const colourful = yield* onTerminal([process.execPath, BIN, "ps", "--address", endpoint], { NO_COLOR: "" })
      expect(colourful).toContain("\u001b[32mrunning\u001b[0m")
      const plain = yield* onTerminal([process.execPath, BIN, "ps", "--address", endpoint], { NO_COLOR: "1" })
      expect(plain).toContain("running")
      expect(plain).not.toContain("\u001b[")
      const dumb = yield* onTerminal([process.execPath, BIN, "ps", "--address", endpoint], { NO_COLOR: "", TERM: "dumb" })
      expect(dumb).toContain("running")
      expect(dumb).not.toContain("\u001b[")
      const piped = yield* cli(["ps", "--address", endpoint], { env: { NO_COLOR: "" } })
      expect(piped.stdout).not.toContain("\u001b[")
      const forced = yield* cli(["ps", "--address", endpoint], { env: { NO_COLOR: "", FORCE_COLOR: "1" } })
      expect(forced.stdout).toContain("\u001b[32mrunning\u001b[0m")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("up given a directory for its config is a usage error that says it is one", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orchestrate-config-dir-")
      expect(yield* cli(["up", dir])).toEqual({ code: 2, stdout: "", stderr: `error: cannot read config file ${dir}: it is a directory\n` })
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))
})
