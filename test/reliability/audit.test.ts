import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Context, Effect, Schema } from "effect"
import { EventStore } from "../../src/events/EventStore.ts"
import { ask, reqClient, startServer } from "../support/zmq.ts"

/** One request of each kind: allowed, refused by the whitelist, malformed, or failing while it executes. */
const Kind = Schema.Literals(["allowed", "refused", "malformed", "failing", "unknown", "bad-args"])

const requestOf = (kind: typeof Kind.Type, n: number): unknown => {
  switch (kind) {
    case "allowed":
      return [{ command: "ps" }, { command: "stats" }, { command: "status", args: ["db"] }, { command: "history", args: [{ limit: 3 }] }][n % 4]
    case "refused":
      return [{ command: "shutdown" }, { command: "stop", args: ["db"] }, { command: "commands" }][n % 3]
    case "malformed":
      return ["{not json", "[]", "{\"command\": 1}", "{\"args\": []}"][n % 4]
    case "failing":
      return { command: "status", args: [`ghost-${n}`] }
    case "unknown":
      return { command: `nope-${n}` }
    case "bad-args":
      return { command: "history", args: [{ limit: "many" }] }
  }
}

const codeOf = (reply: unknown): number =>
  typeof reply === "object" && reply !== null && "code" in reply && typeof reply.code === "number" ? reply.code : 200

describe("audit trail completeness", () => {
  it.live("after a random mix of requests, holds exactly one record per request, with the code each got", () =>
    Effect.gen(function*() {
      const seed = Date.now()
      const [kinds] = yield* Arbitrary.sampleEffect(Arbitrary.array(Arbitrary.schema(Kind), { minLength: 400, maxLength: 400 }), { count: 1, seed })
      const { endpoint, context } = yield* startServer(yield* Effect.scope, { config: { allowedCommands: "monitoring" } })
      const client = yield* reqClient(endpoint)
      const codes: Array<number> = []
      for (const [n, kind] of (kinds ?? []).entries()) codes.push(codeOf(yield* ask(client, requestOf(kind, n))))
      expect(new Set(codes)).toEqual(new Set([200, 400, 403, 500]))
      const store = Context.get(context, EventStore)
      const audit = yield* store.query({ category: "command", limit: 1000 })
      expect(audit.events.length, `seed ${seed}`).toBe(400)
      expect(audit.events.map((event) => event.data["code"]), `seed ${seed}`).toEqual(codes)
      expect((yield* store.info).recorded).toBe(400)
    }), 60_000)
})
