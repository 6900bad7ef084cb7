import { describe, expect, it } from "@effect/vitest"
import { Context, DateTime, Deferred, Effect, Exit, Fiber, Layer, Logger, Ref, Scope } from "effect"
import { TestClock } from "effect/testing"
import { EventStore } from "../../src/events/EventStore.ts"
import { CommandServer } from "../../src/server/CommandServer.ts"
import { MemoryClient } from "../../src/server/MemorySocket.ts"
import { gatedControl } from "../support/fixtures.ts"
import { harness, request } from "../support/harness.ts"

const untilInFlight = (server: CommandServer["Service"], count: number) =>
  server.inFlight.pipe(
    Effect.tap(() => Effect.yieldNow),
    Effect.repeat({ until: (n) => n === count })
  )

const statusOf = (reply: unknown) =>
  typeof reply === "object" && reply !== null && "reason" in reply ? reply.reason : "success"

describe("server lifecycle", () => {
  it.effect("a slow command does not delay ps", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const slow = yield* Effect.forkChild(request({ command: "stop", args: ["db"] }))
        yield* untilInFlight(yield* CommandServer, 1)
        expect(yield* request({ command: "ps" })).toHaveProperty("status", "success")
        expect(slow.pollUnsafe() === undefined).toBe(true)
        yield* Deferred.succeed(gate, undefined)
        expect(yield* Fiber.join(slow)).toHaveProperty(["data", "message"], "Agent 'db' stop done")
      }).pipe(Effect.provide(harness({ control: gatedControl(gate) })))
    }))

  it.effect("at the in-flight limit nothing more is read until a request in flight ends", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const slow = yield* Effect.forkChild(
          Effect.all([request({ command: "stop", args: ["db"] }), request({ command: "stop", args: ["api"] })], { concurrency: 2 })
        )
        const server = yield* CommandServer
        yield* untilInFlight(server, 2)
        const ps = yield* Effect.forkChild(request({ command: "ps" }))
        yield* Effect.yieldNow.pipe(Effect.repeat({ times: 20 }))
        expect(ps.pollUnsafe()).toBeUndefined()
        expect(yield* server.inFlight).toBe(2)
        yield* Deferred.succeed(gate, undefined)
        expect(yield* Fiber.join(ps)).toHaveProperty("status", "success")
        expect((yield* Fiber.join(slow)).map((reply) => statusOf(reply))).toEqual(["success", "success"])
      }).pipe(Effect.provide(harness({ control: gatedControl(gate), config: { maxInFlight: 2 } })))
    }))

  it.effect("at debug level every request is logged with its answer's code and time; below it, none is", () =>
    Effect.gen(function*() {
      const debugLines = (logLevel: "Debug" | "Info") =>
        Effect.gen(function*() {
          const lines: Array<string> = []
          const capture = Logger.make<unknown, void>(({ logLevel: level, message }) => {
            if (level === "Debug") lines.push(Array.isArray(message) ? message.join(" ") : String(message))
          })
          yield* Effect.gen(function*() {
            yield* request({ command: "ps" })
            yield* request({ command: "nope" })
          }).pipe(Effect.provide(harness({ config: { logLevel } }).pipe(Layer.provide(Logger.layer([capture])))))
          return lines
        })
      const logged = yield* debugLines("Debug")
      expect(logged).toHaveLength(2)
      expect(logged[0]).toMatch(/^ps -> 200 in \d+(\.\d+)? ms$/)
      expect(logged[1]).toMatch(/^nope -> 400 in \d+(\.\d+)? ms$/)
      expect(yield* debugLines("Info")).toEqual([])
    }))

  it.effect("shutdown sends its reply before it asks the orchestrator to shut down", () =>
    Effect.gen(function*() {
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const gate = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        expect(yield* request({ command: "shutdown" })).toHaveProperty(["data", "message"], "Shutdown initiated")
        yield* Effect.yieldNow.pipe(Effect.repeat({ until: () => false, times: 10 }))
        expect(yield* Ref.get(log)).toEqual(["reply sent", "shutdown requested"])
      }).pipe(Effect.provide(harness({
        control: gatedControl(gate, log),
        wrapSocket: (socket) => ({
          ...socket,
          serve: (onRequest, open) =>
            socket.serve((incoming) =>
              onRequest({
                ...incoming,
                reply: (body, code, reason) =>
                  Effect.andThen(Ref.update(log, (entries) => [...entries, "reply sent"]), incoming.reply(body, code, reason))
              }), open)
        })
      })))
    }))

  it.effect("closing the server answers requests in flight and refuses new ones", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(harness({ control: gatedControl(gate) }), scope)
      const client = Context.get(context, MemoryClient)
      const slow = yield* Effect.forkChild(client.request({ command: "stop", args: ["db"] }))
      yield* untilInFlight(Context.get(context, CommandServer), 1)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      // Once draining has begun, new requests are refused rather than executed.
      const refused = yield* client.request({ command: "ps", id: "late" }).pipe(
        Effect.repeat({ until: (reply) => statusOf(reply) === "ShuttingDown" })
      )
      expect(refused).toEqual({
        status: "error",
        code: 500,
        reason: "ShuttingDown",
        error: "Server is shutting down",
        id: "late"
      })
      expect(closing.pollUnsafe() === undefined).toBe(true)
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(slow)).toHaveProperty("status", "success")
      yield* Fiber.join(closing)
    }))

  it.effect("a request still running at the shutdown timeout is interrupted, answered and audited", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        harness({ control: gatedControl(gate), config: { shutdownTimeout: DurationOf2s } }),
        scope
      )
      const client = Context.get(context, MemoryClient)
      const slow = yield* Effect.forkChild(client.request({ command: "stop", args: ["db"], id: "slow" }))
      yield* untilInFlight(Context.get(context, CommandServer), 1)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("1999 millis")
      expect(slow.pollUnsafe() === undefined).toBe(true)
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(slow)).toEqual({
        status: "error",
        code: 500,
        reason: "ShuttingDown",
        error: "Server shut down before the command completed",
        id: "slow"
      })
      yield* Fiber.join(closing)
      const audit = yield* Context.get(context, EventStore).query({ category: "command", limit: 10 })
      expect(audit.events.map((e) => [e.eventName, e.data["code"], e.data["error_reason"]])).toEqual([
        ["COMMAND_FAILED", 500, "ShuttingDown"]
      ])
    }))
})

const DurationOf2s = DateTime.distance(DateTime.makeUnsafe(0), DateTime.makeUnsafe(2000))
