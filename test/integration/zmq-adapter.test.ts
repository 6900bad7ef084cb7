import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Latch } from "effect"
import * as Zmq from "zeromq"
import { makeSendQueue, receiveEach, receiver, send, type ZmqError } from "../../src/zmq/ZmqAdapter.ts"
import { eventually } from "../support/orchestrator.ts"
import { ANY_PORT } from "../support/zmq.ts"

const scoped = <S extends Zmq.Socket>(make: () => S) => Effect.acquireRelease(Effect.sync(make), (socket) => Effect.sync(() => socket.close()))

/** A Router on a random port and a Dealer connected to it, both receiving with a 20 ms timeout. */
const pair = Effect.gen(function*() {
  const router = yield* scoped(() => new Zmq.Router({ linger: 0, receiveTimeout: 20 }))
  yield* Effect.promise(() => router.bind(ANY_PORT))
  const dealer = yield* scoped(() => new Zmq.Dealer({ linger: 0, receiveTimeout: 20 }))
  dealer.connect(router.lastEndpoint ?? "")
  return { router, dealer }
})

describe("the ZeroMQ adapter", () => {
  it.live("receives a message that comes many receive timeouts later, looking again after each", () =>
    Effect.gen(function*() {
      const { router, dealer } = yield* pair
      const waiting = yield* Effect.forkChild(receiver(router), { startImmediately: true })
      // Long enough for the receive to have timed out several times.
      yield* Effect.sleep("150 millis")
      expect(waiting.pollUnsafe()).toBeUndefined()
      yield* send(dealer, ["hello"])
      const [identity, body] = yield* Fiber.join(waiting)
      expect(identity?.length).toBeGreaterThan(0)
      expect(String(body)).toBe("hello")
    }))

  it.live("fails with SocketClosed when the socket is closed under a waiting receive, or before it", () =>
    Effect.gen(function*() {
      const { router } = yield* pair
      const waiting = yield* Effect.forkChild(Effect.flip(receiver(router)), { startImmediately: true })
      yield* Effect.sleep("30 millis")
      router.close()
      expect(yield* Fiber.join(waiting)).toMatchObject({
        _tag: "ZmqError",
        operation: "receive",
        reason: { _tag: "SocketClosed" },
        message: "receive failed: the socket is closed"
      })
      expect(yield* Effect.flip(send(router, ["late"]))).toMatchObject({ operation: "send", reason: { _tag: "SocketClosed" } })
    }))

  it.live("fails with the code libzmq gives for anything else: a REQ socket receiving before it sent", () =>
    Effect.gen(function*() {
      const request = yield* scoped(() => new Zmq.Request({ linger: 0, receiveTimeout: 20 }))
      expect(yield* Effect.flip(receiver(request))).toMatchObject({
        _tag: "ZmqError",
        operation: "receive",
        reason: { _tag: "OperationFailed", code: "EFSM" }
      })
    }))
})

describe("the ZeroMQ adapter for a server", () => {
  it.live("hands every message over in order, and reads none while its latch is closed", () =>
    Effect.gen(function*() {
      const { router, dealer } = yield* pair
      const open = yield* Latch.make(true)
      const bodies: Array<string> = []
      yield* Effect.forkScoped(receiveEach(router, ([, body]) => {
        bodies.push(String(body))
        if (bodies.length === 3) open.closeUnsafe()
      }, open))
      for (const body of ["a", "b", "c", "d", "e"]) yield* send(dealer, [body])
      // The last two wait in ZeroMQ's queue: the socket has them to read, and nothing reads them.
      yield* eventually(Effect.sync(() => router.readable), (readable) => readable)
      expect(bodies).toEqual(["a", "b", "c"])
      yield* open.open
      expect(yield* eventually(Effect.sync(() => [...bodies]), (read) => read.length === 5)).toEqual(["a", "b", "c", "d", "e"])
    }))

  it.live("sends every message given at once, in order, one send in flight at a time", () =>
    Effect.gen(function*() {
      const { router, dealer } = yield* pair
      yield* send(dealer, ["hello"])
      const [identity = new Uint8Array()] = yield* receiver(router)
      const failures: Array<ZmqError> = []
      const queue = makeSendQueue<Array<Uint8Array | string>>(router, (error) => failures.push(error))
      // Fewer than the high-water mark (1000), beyond which a Router drops what its peer has not read yet.
      for (let i = 0; i < 500; i++) queue.send([identity, String(i)])
      yield* queue.flushed
      const received: Array<string> = []
      while (received.length < 500) received.push(String((yield* receiver(dealer))[0]))
      expect(failures).toEqual([])
      expect(received).toEqual(Array.from({ length: 500 }, (_, i) => String(i)))
    }))

  it.live("reports each message it could not send, and goes on with the next", () =>
    Effect.gen(function*() {
      const { router } = yield* pair
      const failures: Array<ZmqError> = []
      const queue = makeSendQueue<Array<string>>(router, (error) => failures.push(error))
      router.close()
      queue.send(["nobody", "a"])
      queue.send(["nobody", "b"])
      yield* queue.flushed
      expect(failures.map((error) => [error.operation, error.reason._tag])).toEqual([["send", "SocketClosed"], ["send", "SocketClosed"]])
    }))
})
