import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Predicate, Scope } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import * as Zmq from "zeromq"
import { EventStore } from "../../src/events/EventStore.ts"
import { layer as commandInterface } from "../../src/server/CommandInterface.ts"
import { CommandServer } from "../../src/server/CommandServer.ts"
import { tempDir } from "../support/files.ts"
import { gatedControl } from "../support/fixtures.ts"
import { ANY_PORT, ask, dealerClient, dependencies, receiveFrames, reqClient, send, startServer } from "../support/zmq.ts"
import { freePort } from "../support/net.ts"

const untilInFlight = (context: Context.Context<CommandServer>, count: number) =>
  Context.get(context, CommandServer).inFlight.pipe(
    Effect.tap(() => Effect.sleep("5 millis")),
    Effect.repeat({ until: (n) => n === count })
  )

/** Whether a TCP port on loopback is free right now (a Node listener closes deterministically, unlike a probe socket). */
const isPortFree = (port: number) =>
  Effect.callback<boolean>((resume) => {
    const probe = Net.createServer()
    probe.once("error", () => resume(Effect.succeed(false)))
    probe.listen({ host: "127.0.0.1", port, exclusive: true }, () => probe.close(() => resume(Effect.succeed(true))))
  })

/** Sends `ps` on `dealer` until the server refuses it as shutting down: proof that it has begun to drain. */
const untilRefused = (dealer: Zmq.Dealer) =>
  Effect.gen(function*() {
    yield* send(dealer, [JSON.stringify({ command: "ps" })])
    const [reply] = yield* receiveFrames(dealer)
    const parsed: unknown = JSON.parse(reply ?? "")
    return parsed
  }).pipe(Effect.repeat({ until: (reply) => Predicate.hasProperty(reply, "reason") && reply.reason === "ShuttingDown" }))

/**
 * Binds a bare Router to `endpoint` at once (no layer to build first, so no time for a slow release to catch up),
 * then closes it and waits for its own teardown so the next attempt is not racing this one.
 */
const bindsAtOnce = (endpoint: string) =>
  Effect.promise(async () => {
    const probe = new Zmq.Router({ linger: 0 })
    const ended = new Promise<void>((resolve) => probe.events.on("end", () => resolve()))
    const bound = await probe.bind(endpoint).then(() => true, () => false)
    probe.close()
    await ended
    return bound
  })

describe("command server over real ZeroMQ sockets", () => {
  it.live("answers a REQ client, and keeps answering after errors", () =>
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const { endpoint } = yield* startServer(scope)
      const client = yield* reqClient(endpoint)
      expect(yield* ask(client, { command: "ps", id: "1" })).toMatchObject({ status: "success", id: "1", data: { agents: [{ name: "db" }, {}, {}, {}] } })
      expect(yield* ask(client, "not json")).toMatchObject({ status: "error", code: 400, reason: "MalformedRequest" })
      expect(yield* ask(client, { command: "status", args: ["db"] })).toMatchObject({ data: { agent_name: "db" } })
    }))

  it.live("answers DEALER clients in the shape they asked in, with or without the delimiter", () =>
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const { endpoint } = yield* startServer(scope)
      const dealer = yield* dealerClient(endpoint)
      yield* send(dealer, ["", JSON.stringify({ command: "ps", id: "with" })])
      const delimited = yield* receiveFrames(dealer)
      expect(delimited).toHaveLength(2)
      expect(delimited[0]).toBe("")
      expect(JSON.parse(delimited[1] ?? "")).toMatchObject({ status: "success", id: "with" })
      yield* send(dealer, [JSON.stringify({ command: "ps", id: "without" })])
      const bare = yield* receiveFrames(dealer)
      expect(bare).toHaveLength(1)
      expect(JSON.parse(bare[0] ?? "")).toMatchObject({ status: "success", id: "without" })
    }))

  it.live("keeps several requests in flight: a slow command does not delay ps", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const scope = yield* Effect.scope
      const { endpoint, context } = yield* startServer(scope, { control: gatedControl(gate) })
      const dealer = yield* dealerClient(endpoint)
      yield* send(dealer, ["", JSON.stringify({ command: "stop", args: ["db"], id: "slow" })])
      yield* untilInFlight(context, 1)
      yield* send(dealer, ["", JSON.stringify({ command: "ps", id: "fast" })])
      const first = yield* receiveFrames(dealer)
      expect(JSON.parse(first[1] ?? "")).toMatchObject({ id: "fast", status: "success" })
      yield* Deferred.succeed(gate, undefined)
      const second = yield* receiveFrames(dealer)
      expect(JSON.parse(second[1] ?? "")).toMatchObject({ id: "slow", status: "success" })
    }))

  it.live("answers garbage with 400 and keeps serving", () =>
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const { endpoint } = yield* startServer(scope)
      const dealer = yield* dealerClient(endpoint)
      const garbage: Array<Array<string | Uint8Array>> = [
        [new Uint8Array([0xc3, 0x28, 0xa0, 0xa1])],
        ["{\"command\":\"ps\"}", "second frame"],
        ["\"".repeat(10_000)],
        [JSON.stringify({ command: "ps", args: ["x".repeat(200_000)] })],
        ["[".repeat(50_000) + "]".repeat(50_000)],
        [JSON.stringify({ command: 42 })]
      ]
      for (const frames of garbage) {
        yield* send(dealer, frames)
        const [reply] = yield* receiveFrames(dealer)
        expect(JSON.parse(reply ?? "")).toMatchObject({ status: "error", code: 400 })
      }
      for (let i = 0; i < 500; i++) {
        const bytes = new Uint8Array(1 + (i % 97))
        for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 31 + j * 17) % 256
        yield* send(dealer, ["", bytes])
        const [, reply] = yield* receiveFrames(dealer)
        expect(JSON.parse(reply ?? "")).toMatchObject({ status: "error", code: 400 })
      }
      const client = yield* reqClient(endpoint)
      expect(yield* ask(client, { command: "ps" })).toHaveProperty("status", "success")
    }))

  it.live("drops a frame beyond the ZeroMQ limit at the transport, and keeps serving others", () =>
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const { endpoint } = yield* startServer(scope, { config: { maxRequestBytes: 1024 } })
      const abuser = yield* dealerClient(endpoint)
      yield* send(abuser, [new Uint8Array(2 * 1024 * 1024)])
      // No reply, however long it waits: ZeroMQ dropped the frame and the sender's connection.
      expect(yield* Effect.flip(receiveFrames(abuser, 500))).toMatchObject({ _tag: "TimeoutError" })
      const client = yield* reqClient(endpoint)
      expect(yield* ask(client, { command: "ps" })).toHaveProperty("status", "success")
    }))

  it.live("on close, answers requests in flight, then frees the port for an immediate rebind", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      const { endpoint, context } = yield* startServer(scope, { control: gatedControl(gate) })
      const client = yield* reqClient(endpoint)
      const slow = yield* Effect.forkChild(ask(client, { command: "stop", args: ["db"] }))
      yield* untilInFlight(context, 1)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      // Draining has begun once a new request is refused; only then may the slow one finish.
      const late = yield* dealerClient(endpoint)
      yield* untilRefused(late)
      expect(closing.pollUnsafe()).toBeUndefined()
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(slow)).toMatchObject({ status: "success", data: { message: "Agent 'db' stop done" } })
      yield* Fiber.join(closing)
      const again = yield* startServer(yield* Effect.scope, { config: { commandAddress: endpoint } })
      expect(again.endpoint).toBe(endpoint)
    }))

  it.live("frees its port by the time it has closed, every time", () =>
    Effect.gen(function*() {
      let endpoint = ANY_PORT
      for (let cycle = 0; cycle < 50; cycle++) {
        const scope = yield* Scope.make()
        const started = yield* startServer(scope, { config: { commandAddress: endpoint } })
        endpoint = started.endpoint
        const client = yield* reqClient(endpoint).pipe(Scope.provide(scope))
        expect(yield* ask(client, { command: "ps" })).toHaveProperty("status", "success")
        yield* Scope.close(scope, Exit.void)
        expect(yield* bindsAtOnce(endpoint), `cycle ${cycle}`).toBe(true)
      }
    }))

  it.live("fails startup with a clear error when the address is in use", () =>
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const { endpoint } = yield* startServer(scope)
      const second = yield* Effect.exit(startServer(scope, { config: { commandAddress: endpoint } }))
      expect(second).toEqual(Exit.fail(expect.objectContaining({
        _tag: "BindError",
        message: `cannot bind the command interface to ${endpoint}: the address is already in use (is another orchestrator running?)`
      })))
    }))

  it.live("serves ipc, refuses a path a live server holds, and replaces a stale socket file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const address = `ipc://${Path.join(dir, "cmd.sock")}`
      const scope = yield* Effect.scope
      const { endpoint } = yield* startServer(scope, { config: { commandAddress: address } })
      const client = yield* reqClient(endpoint)
      expect(yield* ask(client, { command: "ps" })).toHaveProperty("status", "success")
      const stolen = yield* Effect.exit(startServer(scope, { config: { commandAddress: address } }))
      expect(stolen).toEqual(Exit.fail(expect.objectContaining({
        _tag: "BindError",
        reason: expect.objectContaining({ _tag: "AddressInUse" }),
        message: `cannot bind the command interface to ${address}: the address is already in use (is another orchestrator running?)`
      })))
      expect(yield* ask(client, { command: "ps" })).toHaveProperty("status", "success")

      const stalePath = Path.join(dir, "stale.sock")
      Fs.writeFileSync(stalePath, "")
      const stale = yield* startServer(scope, { config: { commandAddress: `ipc://${stalePath}` } })
      const staleClient = yield* reqClient(stale.endpoint)
      expect(yield* ask(staleClient, { command: "ps" })).toHaveProperty("status", "success")
    }))

  it.live("binds nothing when the config leaves the interface disabled", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      yield* Layer.build(commandInterface.pipe(Layer.provide(dependencies({ enableCommandInterface: false, commandAddress: `tcp://127.0.0.1:${port}` }))))
      expect(yield* isPortFree(port)).toBe(true)
      // The probe itself can tell a bound port from a free one.
      yield* startServer(yield* Effect.scope, { config: { commandAddress: `tcp://127.0.0.1:${port}` } })
      expect(yield* isPortFree(port)).toBe(false)
    }))

  it.live("records every request over the socket in the audit trail", () =>
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const { endpoint, context } = yield* startServer(scope, { config: { allowedCommands: "basic" } })
      const client = yield* reqClient(endpoint)
      for (const body of [{ command: "ps" }, { command: "shutdown" }, "{", { command: "status", args: ["x"] }]) {
        yield* ask(client, body)
      }
      const audit = yield* Context.get(context, EventStore).query({ category: "command", limit: 10 })
      expect(audit.events.map((e) => e.data["code"])).toEqual([200, 403, 400, 500])
    }))
})
