import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Scope } from "effect"
import * as Zmq from "zeromq"
import { EventStore } from "../../src/events/EventStore.ts"
import { spawn } from "../support/cli.ts"
import { startServer } from "../support/zmq.ts"

type Outcome = "answered" | "refused" | "timed out" | "other"

/**
 * One client sending `ps` back to back until `stopAfter` says so; every request ends as an answer, a clear
 * refusal (ShuttingDown) or a receive timeout, never a hang: the socket has a receive timeout and is replaced
 * after one.
 */
const hammer = (endpoint: string, stopAfter: (outcomes: ReadonlyArray<Outcome>) => boolean) =>
  Effect.promise(async () => {
    const outcomes: Array<Outcome> = []
    const connect = () => {
      const socket = new Zmq.Request({ linger: 0, receiveTimeout: 1500 })
      socket.connect(endpoint)
      return socket
    }
    let socket = connect()
    while (!stopAfter(outcomes)) {
      try {
        await socket.send(JSON.stringify({ command: "ps" }))
        const [reply] = await socket.receive()
        const parsed: unknown = JSON.parse(String(reply))
        outcomes.push(
          typeof parsed === "object" && parsed !== null && "status" in parsed && parsed.status === "success"
            ? "answered"
            : typeof parsed === "object" && parsed !== null && "reason" in parsed && parsed.reason === "ShuttingDown"
            ? "refused"
            : "other"
        )
      } catch {
        outcomes.push("timed out")
        socket.close()
        socket = connect()
      }
    }
    socket.close()
    return outcomes
  })

const count = (outcomes: ReadonlyArray<ReadonlyArray<Outcome>>, kind: Outcome) =>
  outcomes.reduce((total, list) => total + list.filter((outcome) => outcome === kind).length, 0)

describe("load while shutting down", () => {
  it.live("in-process: every request the server accepted was answered, and recorded", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { endpoint, context } = yield* startServer(scope)
      const store = Context.get(context, EventStore)
      let closed = false
      const clients = yield* Effect.forkChild(Effect.all(
        Array.from({ length: 16 }, () => hammer(endpoint, (outcomes) => closed && outcomes[outcomes.length - 1] === "timed out")),
        { concurrency: "unbounded" }
      ))
      yield* Effect.sleep("400 millis")
      yield* Scope.close(scope, Exit.void)
      closed = true
      const outcomes = yield* Fiber.join(clients)
      expect(count(outcomes, "other")).toBe(0)
      const handled = count(outcomes, "answered") + count(outcomes, "refused")
      expect(count(outcomes, "answered")).toBeGreaterThan(100)
      // Every request the server read was answered: the audit trail holds one record for each, no more.
      const audit = yield* store.query({ category: "command", limit: 1000 })
      const recorded = (yield* store.info).recorded
      expect(recorded).toBe(handled)
      expect(audit.events.every((event) => event.data["code"] === 200 || event.data["error_reason"] === "ShuttingDown")).toBe(true)
    }), 60_000)

  it.live("as a process: 16 clients hammering when `shutdown` arrives; exit 0 in time, no hang, the port free at once", () =>
    Effect.gen(function*() {
      const up = yield* spawn(["up", "--address", "tcp://127.0.0.1:*"])
      const endpoint = yield* up.stderr.pipe(
        Effect.map((text) => /listening on (tcp:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1]),
        Effect.tap(() => Effect.sleep("50 millis")),
        Effect.repeat({ until: (found) => found !== undefined, times: 200 })
      )
      if (endpoint === undefined) return yield* Effect.die(new Error(`no endpoint in: ${yield* up.stderr}`))
      let exited = false
      const clients = yield* Effect.forkChild(Effect.all(
        Array.from({ length: 16 }, () => hammer(endpoint, () => exited)),
        { concurrency: "unbounded" }
      ))
      yield* Effect.sleep("500 millis")
      const shutdownAt = Date.now()
      const request = new Zmq.Request({ linger: 0, receiveTimeout: 2000 })
      request.connect(endpoint)
      yield* Effect.promise(() => request.send(JSON.stringify({ command: "shutdown" })))
      const [reply] = yield* Effect.promise(() => request.receive())
      request.close()
      expect(JSON.parse(String(reply))).toMatchObject({ status: "success", data: { message: "Shutdown initiated" } })
      const exit = yield* up.exit("15 seconds")
      exited = true
      expect(exit.code).toBe(0)
      // Agents stop within their 5 s grace period; the interface drains within its 2 s shutdown timeout.
      expect(Date.now() - shutdownAt).toBeLessThan(10_000)
      const rebind = new Zmq.Router({ linger: 0 })
      const bound = yield* Effect.promise(() => rebind.bind(endpoint).then(() => true, () => false))
      rebind.close()
      expect(bound).toBe(true)
      const outcomes = yield* Fiber.join(clients)
      expect(count(outcomes, "other")).toBe(0)
      expect(count(outcomes, "answered")).toBeGreaterThan(50)
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)
})
