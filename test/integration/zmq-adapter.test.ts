import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as Zmq from "zeromq"
import { receiver, send } from "../../src/zmq/ZmqAdapter.ts"
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
