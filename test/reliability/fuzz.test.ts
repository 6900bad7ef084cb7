import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Context, Effect, Schema } from "effect"
import { EventStore } from "../../src/events/EventStore.ts"
import { isCommandName } from "../../src/protocol/Commands.ts"
import { ask, dealerClient, receiveFrames, reqClient, send, startServer } from "../support/zmq.ts"

const encoder = new TextEncoder()
const json = (value: unknown) => encoder.encode(JSON.stringify(value))

/** Valid JSON whose shape is wrong: never an object with a string `command` and an array `args`. */
const WrongShape = Schema.Union([
  Schema.Struct({ command: Schema.Union([Schema.Finite, Schema.Boolean, Schema.Null, Schema.Array(Schema.String)]) }),
  Schema.Struct({ command: Schema.String, args: Schema.Union([Schema.String, Schema.Finite, Schema.Struct({ k: Schema.String })]) }),
  Schema.Struct({ command: Schema.String, id: Schema.Finite }),
  Schema.Struct({ verb: Schema.String }),
  Schema.Array(Schema.Unknown),
  Schema.Finite,
  Schema.String,
  Schema.Boolean,
  Schema.Null
])

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

/**
 * Frames beyond the ZeroMQ-level limit (1 MiB here) are dropped by ZeroMQ itself, which disconnects the sender
 * without a reply; that path has its own test. Everything up to it must be answered, including the band between
 * maxRequestBytes (64 KiB) and 1 MiB, which gets `Request too large`.
 */
const FRAME_LIMIT = 1024 * 1024
const withinTransport = (frames: ReadonlyArray<Uint8Array>) =>
  frames.map((frame) => frame.length < FRAME_LIMIT ? frame : frame.subarray(0, FRAME_LIMIT - 1))

/** Every kind of bad request the fuzzer sends, as the frames of one message. */
const badRequests = Arbitrary.array(
  Arbitrary.flatMap(Arbitrary.schema(Schema.Literals(["bytes", "utf8", "shape", "unknown", "args", "deep"])), (kind) => {
    switch (kind) {
      case "bytes":
        return Arbitrary.map(Arbitrary.schema(Schema.Uint8Array), (bytes) => [bytes])
      case "utf8":
        return Arbitrary.map(Arbitrary.schema(Schema.Uint8Array), (bytes) => [new Uint8Array([...bytes, 0xc3, 0x28, 0xa0])])
      case "shape":
        return Arbitrary.map(Arbitrary.schema(WrongShape), (value) => [json(value)])
      case "unknown":
        return Arbitrary.map(
          Arbitrary.filter(Arbitrary.schema(Schema.String), (name) => !isCommandName(name)),
          (command) => [json({ command, args: [] })]
        )
      case "args":
        // Known commands, every one of which rejects a non-empty list of numbers as its arguments.
        return Arbitrary.map(
          Arbitrary.all([
            Arbitrary.schema(Schema.Literals(["ps", "status", "stats", "history", "dependencies", "commands", "stop", "pause", "shutdown"])),
            Arbitrary.array(Arbitrary.schema(Schema.Finite), { minLength: 1, maxLength: 4 })
          ]),
          ([command, args]) => [json({ command, args })]
        )
      case "deep":
        return Arbitrary.map(
          Arbitrary.schema(Schema.Int.check(Schema.isBetween({ minimum: 33, maximum: 400 }))),
          (depth) => [encoder.encode(`{"command":"ps","args":[${nested(depth)}]}`)]
        )
    }
  }).pipe(Arbitrary.map(withinTransport)),
  { minLength: 3000, maxLength: 3000 }
)

const summarize = (frames: ReadonlyArray<Uint8Array | string>) =>
  frames.map((frame) => typeof frame === "string" ? JSON.stringify(frame.slice(0, 60)) : `${frame.length} bytes`).join(", ")

const isReadable400 = (reply: unknown): boolean =>
  typeof reply === "object" && reply !== null && "code" in reply && reply.code === 400 &&
  "error" in reply && typeof reply.error === "string" && reply.error.length > 0 && reply.error.length < 4096 &&
  /^(Invalid command format|Request too large|Unknown command|Invalid arguments for)/.test(reply.error)

describe("fuzzing the command interface", () => {
  it.live("answers thousands of generated bad requests with a readable 400, then still serves ps", () =>
    Effect.gen(function*() {
      const seed = Number(process.env["FUZZ_SEED"] ?? Date.now())
      const { endpoint, context } = yield* startServer(yield* Effect.scope)
      const [requests] = yield* Arbitrary.sampleEffect(badRequests, { count: 1, seed, size: 40 })
      const extra: Array<Array<Uint8Array | string>> = [
        [json({ command: "ps", args: ["x".repeat(70_000)] })],
        ["{" + "\"a\":".repeat(40_000)],
        ["", ""],
        [""],
        ["{\"command\":\"ps\"}", "{\"command\":\"ps\"}", "third"]
      ]
      const dealer = yield* dealerClient(endpoint)
      let answered = 0
      for (const frames of [...(requests ?? []), ...extra]) {
        yield* send(dealer, [...frames])
        const reply = yield* receiveFrames(dealer).pipe(
          Effect.catchCause(() =>
            Effect.flatMap(Context.get(context, EventStore).info, (info) =>
              Effect.die(new Error(`seed ${seed}: no reply to request ${answered}: ${summarize(frames)}; the server recorded ${info.recorded} requests`))))
        )
        const parsed: unknown = JSON.parse(reply[reply.length - 1] ?? "")
        expect(isReadable400(parsed), `seed ${seed}: ${JSON.stringify(parsed).slice(0, 300)}`).toBe(true)
        answered++
      }
      expect(answered).toBe(3005)
      const client = yield* reqClient(endpoint)
      expect(yield* ask(client, { command: "ps" })).toMatchObject({ status: "success", data: { agents: [{ name: "db" }, {}, {}, {}] } })
    }), 60_000)
})
