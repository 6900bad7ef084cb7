import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Zmq from "zeromq"
import { CommandClient } from "../../src/client/CommandClient.ts"
import { packageRoot } from "../../src/packageRoot.ts"
import { RECEIVE_RECHECK_MILLIS, receiver, send } from "../../src/zmq/ZmqAdapter.ts"
import { startUp } from "../support/cli.ts"
import { eventually } from "../support/orchestrator.ts"
import { ask, reqClient } from "../support/zmq.ts"

const CONFIG = Path.join(packageRoot(), "test", "fixtures", "steady.json")
const PS = JSON.stringify({ command: "ps" })

const openFiles = (pid: number) => Fs.readdirSync(`/proc/${pid}/fd`).length
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024

/** Each kind of client misbehaviour, once. */
const abuse = (endpoint: string) =>
  Effect.promise(async () => {
    // Clients that send a request and disconnect before the reply.
    for (let i = 0; i < 300; i++) {
      const dealer = new Zmq.Dealer({ linger: 0 })
      dealer.connect(endpoint)
      await dealer.send(["", PS])
      dealer.close()
    }
    // A client that sends many requests and never reads a reply.
    const greedy = new Zmq.Dealer({ linger: 0, sendHighWaterMark: 5000 })
    greedy.connect(endpoint)
    for (let i = 0; i < 2000; i++) await greedy.send(["", PS])
    await new Promise((resolve) => setTimeout(resolve, 500))
    greedy.close()
    // A thousand clients that connect and vanish, half of them after sending. ZeroMQ frees a closed socket's slot
    // (1,023 per context) asynchronously, so the burst pauses now and then to stay under the cap on this side.
    for (let i = 0; i < 1000; i++) {
      const socket = new Zmq.Request({ linger: 0 })
      socket.connect(endpoint)
      if (i % 2 === 0) await socket.send(PS)
      socket.close()
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

/** Polls until `measure` is at most `limit`, for up to 5 seconds, and returns its last value. */
const settle = (measure: () => number, limit: number) =>
  Effect.sync(measure).pipe(
    Effect.tap(() => Effect.sleep("100 millis")),
    Effect.repeat({ until: (value) => value <= limit, times: 50 })
  )

describe("misbehaving clients", () => {
  it.live("leave the server serving, with its file descriptors back to their baseline and no memory growing per client", () =>
    Effect.gen(function*() {
      const { address, up } = yield* startUp([CONFIG])
      const client = yield* reqClient(address)
      for (let i = 0; i < 200; i++) yield* ask(client, { command: "ps" })
      const filesBefore = openFiles(up.pid)

      yield* abuse(address)
      expect(yield* ask(client, { command: "ps" })).toMatchObject({ status: "success" })
      expect(yield* settle(() => openFiles(up.pid), filesBefore)).toBeLessThanOrEqual(filesBefore)
      const rssAfterFirst = rssMiB(up.pid)

      yield* abuse(address)
      yield* abuse(address)
      expect(yield* ask(client, { command: "ps" })).toMatchObject({ status: "success" })
      expect(yield* settle(() => openFiles(up.pid), filesBefore)).toBeLessThanOrEqual(filesBefore)
      // Twice the abuse again (2,600 more clients) may not grow memory by more than a few MiB.
      expect(rssMiB(up.pid) - rssAfterFirst).toBeLessThan(24)
    }).pipe(Effect.provide(NodeServices.layer)), 120_000)
})

/** A Router that drops the first `drop` requests it gets and answers the next ones with an empty `ps`. */
const forgetfulServer = (drop: number) =>
  Effect.gen(function*() {
    const ids: Array<unknown> = []
    const router = yield* Effect.acquireRelease(
      Effect.sync(() => new Zmq.Router({ linger: 0, receiveTimeout: RECEIVE_RECHECK_MILLIS })),
      (socket) => Effect.sync(() => socket.close())
    )
    yield* Effect.promise(() => router.bind("tcp://127.0.0.1:*"))
    const next = receiver(router)
    yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
      const [identity = "", , body] = yield* next
      const request: unknown = JSON.parse(String(body))
      const id = typeof request === "object" && request !== null && "id" in request ? request.id : undefined
      ids.push(id)
      if (ids.length > drop) yield* send(router, [identity, "", JSON.stringify({ status: "success", data: { agents: [] }, id })])
    }).pipe(Effect.orDie)))
    return { address: router.lastEndpoint ?? "", ids: Effect.sync((): ReadonlyArray<unknown> => [...ids]) }
  })

describe("the client against lost requests and silent servers", () => {
  it.live("a request whose first attempt got no answer is answered on the resend, with the same id, within the budget", () =>
    Effect.gen(function*() {
      const server = yield* forgetfulServer(1)
      const client = CommandClient.make({ address: server.address, timeout: Duration.seconds(1) })
      const started = yield* Clock.currentTimeMillis
      const reply = yield* client.call("ps", [])
      const millis = (yield* Clock.currentTimeMillis) - started
      expect(reply.data).toEqual({ agents: [] })
      // The resend goes out once 60% of the budget has passed, and its answer ends the call.
      expect(millis).toBeGreaterThanOrEqual(600)
      expect(millis).toBeLessThan(1000)
      const [first, resend, ...more] = yield* server.ids
      expect(more).toEqual([])
      expect(resend).toBe(first)
    }))

  it.live("requests that time out leave no socket behind: the process's descriptors return to their baseline", () =>
    Effect.gen(function*() {
      const server = yield* forgetfulServer(Number.POSITIVE_INFINITY)
      const client = CommandClient.make({ address: server.address, timeout: Duration.millis(100) })
      // One request first, so that what ZeroMQ opens once per process (its I/O thread, the context) is counted.
      yield* Effect.flip(client.call("ps", []))
      const filesBefore = openFiles(process.pid)
      const failures = yield* Effect.forEach(Array.from({ length: 30 }, (_, n) => n), () => Effect.flip(client.call("ps", [])))
      expect(new Set(failures.map((failure) => failure.message))).toEqual(new Set([`no answer within 100ms (${server.address})`]))
      // Each call's resend may reach the server after the call has given up.
      expect(yield* eventually(server.ids, (ids) => ids.length >= 62)).toHaveLength(62)
      expect(yield* settle(() => openFiles(process.pid), filesBefore)).toBeLessThanOrEqual(filesBefore)
    }))
})
