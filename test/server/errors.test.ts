import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer } from "effect"
import { OrchestratorControl } from "../../src/ports/OrchestratorControl.ts"
import { OrchestratorQuery } from "../../src/ports/OrchestratorQuery.ts"
import { agentStatus } from "../support/fixtures.ts"
import { harness, request, sendFrames } from "../support/harness.ts"

const error = (code: number, reason: string, message: string, id?: string) => ({
  status: "error",
  code,
  reason,
  error: message,
  ...(id === undefined ? {} : { id })
})

describe("error responses", () => {
  it.effect("malformed envelopes are 400 Invalid command format, with the detail after a colon", () =>
    Effect.gen(function*() {
      const cases: Array<readonly [string, string]> = [
        ["{nope", "Invalid command format: not valid JSON ("],
        ["[1,2]", "Invalid command format: expected a JSON object"],
        ["42", "Invalid command format: expected a JSON object"],
        ["\"ps\"", "Invalid command format: expected a JSON object"],
        ["null", "Invalid command format: expected a JSON object"],
        ["{}", "Invalid command format: command: missing"],
        ["{\"command\": 5}", "Invalid command format: command: Expected string, got 5"],
        ["{\"command\": \"ps\", \"args\": {}}", "Invalid command format: args: Expected array, got {}"],
        ["{\"command\": \"ps\", \"arg\": []}", "Invalid command format: arg: unexpected key"]
      ]
      for (const [body, message] of cases) {
        const reply = yield* sendFrames([body])
        expect(reply, body).toMatchObject({ status: "error", code: 400, reason: "MalformedRequest" })
        expect(reply, body).toHaveProperty("error", expect.stringContaining(message))
      }
    }).pipe(Effect.provide(harness())))

  it.effect("echoes the request id on errors whenever it can be read", () =>
    Effect.gen(function*() {
      expect(yield* sendFrames([JSON.stringify({ command: 5, id: "r1" })])).toHaveProperty("id", "r1")
      expect(yield* request({ command: "nope", id: "r2" })).toEqual(error(400, "UnknownCommand", "Unknown command 'nope'", "r2"))
      const tooLong = "x".repeat(500)
      expect(yield* request({ command: "ps", id: tooLong })).toMatchObject({
        code: 400,
        // The quoted value is cut so the whole message stays within 200 characters.
        error: "Invalid command format: id: " +
          `Expected a value with a length between 1 and 128, got "${tooLong}"`.slice(0, 200) + "…"
      })
    }).pipe(Effect.provide(harness())))

  it.effect("an unknown command is 400 Unknown command", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "frobnicate" })).toEqual(error(400, "UnknownCommand", "Unknown command 'frobnicate'"))
    }).pipe(Effect.provide(harness())))

  it.effect("a command outside the whitelist is 403, and its arguments are never inspected", () =>
    Effect.gen(function*() {
      const refused = error(403, "NotAllowed", "Command 'shutdown' not allowed: not among the commands this server allows (see the 'whoami' command)")
      expect(yield* request({ command: "shutdown" })).toEqual(refused)
      expect(yield* request({ command: "shutdown", args: [{ nonsense: true }, 1, 2] })).toEqual(refused)
    }).pipe(Effect.provide(harness({ config: { allowedCommands: "basic" } }))))

  it.effect("arguments that do not fit the command are 400 with the schema's message", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "status", args: [42] })).toEqual(
        error(400, "InvalidArguments", "Invalid arguments for 'status': args[0]: Expected string, got 42")
      )
      expect(yield* request({ command: "ps", args: ["extra"] })).toEqual(
        error(400, "InvalidArguments", "Invalid arguments for 'ps': args[0]: unexpected key")
      )
      expect(yield* request({ command: "stop", args: [] })).toEqual(
        error(400, "InvalidArguments", "Invalid arguments for 'stop': args[0]: missing")
      )
      expect(yield* request({ command: "history", args: [{ limit: "ten", categry: "agent" }] })).toEqual(
        error(
          400,
          "InvalidArguments",
          "Invalid arguments for 'history': args[0].categry: unexpected key; args[0].limit: Expected number, got \"ten\""
        )
      )
      expect(yield* request({ command: "history", args: [{ limit: 0 }] })).toMatchObject({
        code: 400,
        error: "Invalid arguments for 'history': args[0].limit: Expected a value greater than or equal to 1, got 0"
      })
    }).pipe(Effect.provide(harness())))

  it.effect("a command that fails while executing is 500 Failed to execute command", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "status", args: ["ghost"] })).toEqual(
        error(500, "AgentNotFound", "Failed to execute command: agent not found: 'ghost'")
      )
      expect(yield* request({ command: "stop", args: ["ghost"] })).toEqual(
        error(500, "AgentNotFound", "Failed to execute command: agent not found: 'ghost'")
      )
      expect(yield* request({ command: "pause", args: ["migrate"] })).toEqual(
        error(500, "ExecutionFailed", "Failed to execute command: cannot pause agent 'migrate': it is completed")
      )
    }).pipe(Effect.provide(harness())))

  it.effect("a defect inside a handler is 500 Internal server error, and the server keeps serving", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "ps" })).toEqual(error(500, "InternalError", "Internal server error: query exploded"))
      expect(yield* request({ command: "status", args: ["db"] })).toMatchObject({ status: "success", data: { state: "running" } })
    }).pipe(Effect.provide(harness({
      query: Layer.succeed(OrchestratorQuery, {
        snapshot: Effect.die(new Error("query exploded")),
        view: Effect.die(new Error("query exploded")),
        agent: (name) => Effect.succeed(agentStatus({ agentName: name, startedAt: DateTime.makeUnsafe(0) })),
        dependencies: Effect.die(new Error("not asked")),
        logs: () => Effect.die(new Error("not asked"))
      })
    }))))

  it.effect("a result that does not fit its schema is a 500, not a malformed response", () =>
    Effect.gen(function*() {
      // Negative restarts violate the result schema, which validates results without a fast encoder.
      expect(yield* request({ command: "stop", args: ["db"] })).toMatchObject({ code: 500, reason: "InternalError" })
    }).pipe(Effect.provide(harness({
      control: Layer.succeed(OrchestratorControl, {
        control: (_, agent) => Effect.succeed({ message: "done", agent: agentStatus({ agentName: agent, restarts: -1 }), already: false }),
        requestShutdown: Effect.void
      })
    }))))

  it.effect("garbage frames get 400 and the server keeps serving", () =>
    Effect.gen(function*() {
      const garbage: Array<readonly [ReadonlyArray<string | Uint8Array>, string]> = [
        [[new Uint8Array([0xff, 0xfe, 0x00, 0x80])], "Invalid command format: request is not valid UTF-8"],
        [[""], "Invalid command format: empty request"],
        [[], "Invalid command format: empty request"],
        [["{\"command\":\"ps\"}", "{}", "{}"], "Invalid command format: expected one frame (two with CURVE authentication), got 3"],
        [
          ["{\"command\":\"ps\"}", "{\"command\":\"ps\"}"],
          "Invalid command format: unexpected authentication frame: this server does not authenticate requests (CURVE is off)"
        ],
        [["[".repeat(40) + "]".repeat(40)], "Invalid command format: expected a JSON object"],
        [[JSON.stringify({ command: "ps", args: [JSON.parse("[".repeat(40) + "]".repeat(40))] })], "Invalid command format: JSON nested deeper than 32 levels"]
      ]
      for (const [frames, message] of garbage) {
        expect(yield* sendFrames(frames)).toMatchObject({ code: 400, reason: "MalformedRequest", error: message })
      }
      expect(yield* request({ command: "ps" })).toHaveProperty("status", "success")
    }).pipe(Effect.provide(harness())))

  it.effect("a request over maxRequestBytes is 400 Request too large, without being parsed", () =>
    Effect.gen(function*() {
      const huge = JSON.stringify({ command: "ps", args: ["x".repeat(2000)] })
      expect(yield* sendFrames([huge])).toEqual(
        error(400, "RequestTooLarge", `Request too large: ${huge.length} bytes exceeds the limit of 1024 bytes`)
      )
      expect(yield* sendFrames(["{" + "x".repeat(5000)])).toMatchObject({ reason: "RequestTooLarge" })
      expect(yield* request({ command: "ps" })).toHaveProperty("status", "success")
    }).pipe(Effect.provide(harness({ config: { maxRequestBytes: 1024 } }))))
})
