/**
 * The fast path's decoders and request args (src/cli/fast/) against the protocol's Schemas, which the full CLI
 * uses: on any wire value the schema encodes, a fast decoder gives exactly the schema's decoded value; on a wire
 * value broken anywhere (a field missing, of another type, an extra one), it gives the schema's value or FAIL,
 * never something the schema would refuse or decode otherwise. The same for the response envelope (against
 * protocol/Envelope.ts's `Response`) and the contexts file (against ContextsFile.ts's `parseContexts`). And the
 * args it sends are the schemas' encoding of the query the full CLI builds.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, DateTime, Schema } from "effect"
import { historyQuery } from "../../src/cli/commands/historyRender.ts"
import { InvalidContexts, parseContexts } from "../../src/cli/contexts/ContextsFile.ts"
import { contextsOf } from "../../src/cli/fast/contexts.ts"
import { FAIL, type Decoder } from "../../src/cli/fast/decoders.ts"
import { historyArgs, logsArgs, statusArgs } from "../../src/cli/fast/requests.ts"
import { decodeEnvelope } from "../../src/cli/fast/response.ts"
import { commandsResult, psResult, statsResult, whoamiResult } from "../../src/cli/fast/results.ts"
import { historyResult, logsResult, statusResult } from "../../src/cli/fast/timedResults.ts"
import { Commands } from "../../src/protocol/Commands.ts"
import { Response } from "../../src/protocol/Envelope.ts"
import { generateKeyPair } from "../../src/security/keys.ts"

const decoders = {
  ps: psResult,
  status: statusResult,
  stats: statsResult,
  history: historyResult,
  logs: logsResult,
  commands: commandsResult,
  whoami: whoamiResult
} satisfies Record<string, Decoder<unknown>>

type Decoded = keyof typeof decoders
const decodedCommands: ReadonlyArray<Decoded> = ["ps", "status", "stats", "history", "logs", "commands", "whoami"]

/** A result as the wire carries it: encoded, then through JSON as a frame is. */
const wire = (command: Decoded, value: unknown): unknown =>
  JSON.parse(JSON.stringify(Schema.encodeUnknownSync(Commands[command].result)(value)))

const schemaDecode = (command: Decoded, input: unknown) => Schema.decodeUnknownResult(Commands[command].result)(input)

/** Every place in a JSON value: each key or index inside it, at any depth. */
type Place = { readonly parent: Record<string, unknown> | Array<unknown>; readonly key: string | number }

const isArray = (value: unknown): value is Array<unknown> => Array.isArray(value)
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !isArray(value)

const placesIn = (value: unknown): ReadonlyArray<Place> => {
  if (isArray(value)) return value.flatMap((item, key) => [{ parent: value, key }, ...placesIn(item)])
  if (isObject(value)) return Object.keys(value).flatMap((key) => [{ parent: value, key }, ...placesIn(value[key])])
  return []
}

const hasProtoKey = (value: unknown): boolean =>
  placesIn(value).some(({ parent, key }) => !isArray(parent) && key === "__proto__")

/** Values that are wrong somewhere for sure: other types, out of bounds, every literal of the protocol misplaced. */
const REPLACEMENTS: ReadonlyArray<unknown> = [
  null, -1, 1.5, 2 ** 53, "x", "", true, {}, [], "2026-12-01T10:00:00Z", "not a date", "running", "healthy", "process",
  "readiness", "http", "success", "daemon", "stdout", "orchestrator", "error", "worker", "always", { name: "x" }
]

/** One change to a wire value, chosen by three numbers: where, what (replace, delete, add a key) and with what. */
const mutate = (input: unknown, where: number, what: number, withWhat: number, replacements = REPLACEMENTS): unknown => {
  const copy: unknown = JSON.parse(JSON.stringify(input))
  const places = placesIn(copy)
  const place = places[where % Math.max(1, places.length)]
  const replacement = replacements[withWhat % replacements.length]
  if (place === undefined) return replacement
  const { parent, key } = place
  if (isArray(parent) && typeof key === "number") {
    if (what % 3 === 1) parent.splice(key, 1)
    else parent[key] = replacement
  } else if (!isArray(parent) && typeof key === "string") {
    if (what % 3 === 1) delete parent[key]
    else if (what % 3 === 2) parent[`${key}_extra`] = replacement
    else parent[key] = replacement
  }
  return copy
}

const index = Arbitrary.schema(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 10_000 })))

describe("the fast path's decoders give what the result schemas give", () => {
  for (const command of decodedCommands) {
    it.prop(`${command}: a valid result decodes to the schema's value`, [Commands[command].result], ([value]) => {
      const input = wire(command, value)
      const expected = schemaDecode(command, input)
      expect(expected._tag).toBe("Success")
      const fast = decoders[command](input)
      // The one valid result left to the full CLI: a record key `__proto__` (see decoders.ts).
      if (fast === FAIL && hasProtoKey(input)) return
      expect(fast).toEqual(expected._tag === "Success" ? expected.success : undefined)
    })

    it.prop(
      `${command}: a broken result decodes to the schema's value or fails, never to anything else`,
      [Commands[command].result, index, index, index],
      ([value, where, what, withWhat]) => {
        const input = mutate(wire(command, value), where, what, withWhat)
        const fast = decoders[command](input)
        if (fast === FAIL) return
        const expected = schemaDecode(command, input)
        expect(expected._tag).toBe("Success")
        expect(fast).toEqual(expected._tag === "Success" ? expected.success : undefined)
      },
      // Many runs: each breaks one place of a large value, and every kind of place should be broken in some.
      { arbitrary: { runs: 1000 } }
    )
  }

  it("an event's data keeps its keys; one named __proto__ is left to the schema", () => {
    const event = { seq: 1, event_name: "E", category: "agent", agent_name: null, timestamp: "2026-12-01T10:00:00.000Z", severity: "info" }
    const page = (data: string) =>
      JSON.parse(`{"events":[${JSON.stringify(event).slice(0, -1)},"data":${data}}],"count":1,"limit":50,"has_more":false,"capacity":10,"first_seq":1,"last_seq":1}`)
    const decoded = historyResult(page(`{"b":1,"a":{"c":[2]}}`))
    expect(decoded === FAIL ? undefined : Object.entries(decoded.events[0]?.data ?? {})).toEqual([["b", 1], ["a", { c: [2] }]])
    expect(historyResult(page(`{"__proto__":{"x":1}}`))).toBe(FAIL)
  })
})

describe("the fast path reads a response frame and the contexts file as the full CLI does, or leaves them to it", () => {
  const decodeResponse = Schema.decodeUnknownResult(Schema.fromJsonString(Response))
  /** What the fast path keeps of a response: a success's data, an error's code and message. */
  const kept = (response: Response) =>
    response.status === "success" ? { status: response.status, data: response.data } : { status: response.status, code: response.code, error: response.error }

  it.prop("a response frame, as sent and broken anywhere", [Response, index, index, index], ([value, where, what, withWhat]) => {
    const sent = JSON.stringify(Schema.encodeSync(Response)(value))
    const broken = JSON.stringify(mutate(JSON.parse(sent), where, what, withWhat))
    for (const raw of [sent, broken]) {
      const fast = decodeEnvelope(raw)
      const full = decodeResponse(raw)
      // As sent, a frame is read, but for a success whose data was undefined: JSON leaves the key out, and the
      // fast path leaves such a frame to the full CLI.
      if (raw === sent && (value.status === "error" || Object.hasOwn(JSON.parse(raw), "data"))) expect(fast).toBeDefined()
      if (fast === undefined) continue
      expect(full._tag).toBe("Success")
      expect(fast).toEqual(full._tag === "Success" ? kept(full.success) : undefined)
    }
  }, { arbitrary: { runs: 500 } })

  const { publicKey } = generateKeyPair()
  const DOCUMENTS: ReadonlyArray<unknown> = [
    { contexts: {} },
    {
      current: "dev",
      contexts: {
        dev: { address: "tcp://127.0.0.1:5570" },
        prod: { address: "tcp://10.0.0.5:5570", serverKey: publicKey, clientKey: "/home/ops/.config/orchestrate/ops.key" }
      }
    },
    { contexts: { "a.b_c-1": { address: "ipc:///run/orchestrate.sock", serverKey: "/etc/orchestrate/server.key.pub", clientKey: "/k" } } }
  ]
  /** What a contexts file might hold in the wrong place: other types, names, addresses and keys, valid or not. */
  const CONTEXT_VALUES: ReadonlyArray<unknown> = [
    null, 1, "", true, {}, [], "dev", "prod", "bad name", "-dev", "x".repeat(65), "__proto__", "tcp://127.0.0.1:5571",
    "tcp://nowhere", "tcp://[::1]:5570", "tcp://127.0.0.1:0", "inproc://name", "relative.key", "/abs/ops.key", publicKey,
    publicKey.slice(1), { address: "tcp://h:1" }, { address: "tcp://h:1", serverKey: publicKey }, { address: "tcp://h:1", extra: 1 }
  ]
  /** A document as the fast path reads it: `Contexts`, a Map of contexts with their keys or undefined. */
  const asRead = (text: string) => {
    const parsed = parseContexts(text)
    if (parsed instanceof InvalidContexts) return parsed
    return {
      current: parsed.current,
      contexts: new Map(Object.entries(parsed.contexts).map(([name, { address, serverKey, clientKey }]) => [name, { address, serverKey, clientKey }]))
    }
  }

  it.prop("a contexts file, as `orchestrate context` writes it and broken anywhere", [index, index, index, index], ([which, where, what, withWhat]) => {
    const document = DOCUMENTS[which % DOCUMENTS.length]
    const written = `${JSON.stringify(document, null, 2)}\n`
    expect(contextsOf(written)).toEqual(asRead(written))
    const broken = JSON.stringify(mutate(document, where, what, withWhat, CONTEXT_VALUES))
    const fast = contextsOf(broken)
    if (fast !== undefined) expect(fast).toEqual(asRead(broken))
  }, { arbitrary: { runs: 2000 } })
})

describe("the fast path's request args are the schemas' encoding of the full CLI's queries", () => {
  const filters = Schema.Struct({
    limit: Schema.UndefinedOr(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
    category: Schema.UndefinedOr(Schema.Literals(["agent", "orchestrator", "command"])),
    all: Schema.Boolean,
    agent: Schema.UndefinedOr(Schema.String),
    event: Schema.UndefinedOr(Schema.String),
    afterSeq: Schema.UndefinedOr(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
  })

  it.prop("history", [filters], ([given]) => {
    const query = historyQuery(given)
    expect(historyArgs(query)).toEqual(Schema.encodeSync(Commands.history.args)([query]))
  })

  const logs = Schema.Struct({
    agents: Schema.Array(Schema.String.check(Schema.isNonEmpty(), Schema.isMaxLength(128))),
    limit: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 })),
    sinceMillis: Schema.UndefinedOr(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 4_102_444_800_000 }))),
    stream: Schema.UndefinedOr(Schema.Literals(["stdout", "stderr"]))
  })

  it.prop("logs, the instant as DateTime.makeUnsafe makes it of the milliseconds", [logs], ([given]) => {
    const request = {
      limit: given.limit,
      ...(given.agents.length > 0 ? { agents: given.agents } : {}),
      ...(given.sinceMillis === undefined ? {} : { sinceMillis: given.sinceMillis }),
      ...(given.stream === undefined ? {} : { stream: given.stream })
    }
    const query = {
      limit: given.limit,
      ...(given.agents.length > 0 ? { agents: given.agents } : {}),
      ...(given.sinceMillis === undefined ? {} : { since: DateTime.makeUnsafe(given.sinceMillis) }),
      ...(given.stream === undefined ? {} : { stream: given.stream })
    }
    expect(logsArgs(request)).toEqual(Schema.encodeSync(Commands.logs.args)([query]))
  })

  it.prop("status", [Schema.UndefinedOr(Schema.String.check(Schema.isNonEmpty(), Schema.isMaxLength(128)))], ([agent]) => {
    expect(statusArgs(agent)).toEqual(Schema.encodeSync(Commands.status.args)(agent === undefined ? [] : [agent]))
  })
})
