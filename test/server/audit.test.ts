import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { EventStore } from "../../src/events/EventStore.ts"
import { harness, request, sendFrames } from "../support/harness.ts"

describe("audit trail", () => {
  it.effect("records exactly one event per request, with command, args, code and error", () =>
    Effect.gen(function*() {
      const sent: Array<readonly [unknown, number]> = []
      const send = (body: unknown) =>
        Effect.gen(function*() {
          const reply = yield* (typeof body === "string" ? sendFrames([body]) : request(body))
          const code = typeof reply === "object" && reply !== null && "code" in reply ? Number(reply.code) : 200
          sent.push([body, code])
        })
      yield* send({ command: "ps" })
      yield* send({ command: "status", args: ["db"], id: "req-1" })
      yield* send({ command: "shutdown" })
      yield* send({ command: "status", args: [7] })
      yield* send({ command: "nope" })
      yield* send({ command: "status", args: ["ghost"] })
      yield* send("{garbage")
      const page = yield* EventStore.use((store) => store.query({ category: "command", limit: 100 }))
      expect(page.events.map((e) => e.data["code"])).toEqual(sent.map(([, code]) => code))
      expect(page.events.map((e) => e.eventName)).toEqual([
        "COMMAND_EXECUTED",
        "COMMAND_EXECUTED",
        "COMMAND_REJECTED",
        "COMMAND_FAILED",
        "COMMAND_FAILED",
        "COMMAND_FAILED",
        "COMMAND_FAILED"
      ])
      expect(page.events.map((e) => e.severity)).toEqual(["info", "info", "warning", "warning", "warning", "error", "warning"])
      expect(page.events[1]?.data).toEqual({ command: "status", args: ["db"], code: 200, duration_ms: 0, principal: null, request_id: "req-1" })
      expect(page.events[2]?.data).toMatchObject({ command: "shutdown", code: 403, error_reason: "NotAllowed", error: "Command 'shutdown' not allowed" })
      expect(page.events[6]?.data).toMatchObject({ command: null, args: null, code: 400, error_reason: "MalformedRequest", received: "{garbage" })
    }).pipe(Effect.provide(harness({ config: { allowedCommands: "monitoring" } }))))

  it.effect("bounds what it records of huge arguments", () =>
    Effect.gen(function*() {
      yield* request({ command: "status", args: ["é".repeat(5000)] })
      const [event] = (yield* EventStore.use((store) => store.query({ category: "command", limit: 1 }))).events
      const args = event?.data["args"]
      expect(Array.isArray(args) ? args[0] : undefined).toBe(`${"é".repeat(512)}…[+8976 bytes]`)
    }).pipe(Effect.provide(harness())))
})
