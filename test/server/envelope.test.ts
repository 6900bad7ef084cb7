import { describe, expect, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { Request } from "../../src/protocol/Envelope.ts"
import { makeEnvelopeReader, plainRequest } from "../../src/server/pipeline/RequestEnvelope.ts"

const decodeRequest = Schema.decodeUnknownResult(Request, { onExcessProperty: "error" })

// Near-valid requests: each member of the right type or not, strings at the id's and reason's length limits (1 to
// 128 and 1 to 500) and just outside them, sometimes a member the envelope does not have.
const Other = Schema.Union([Schema.Finite, Schema.Boolean, Schema.Null, Schema.Record(Schema.String, Schema.String)])
const Candidate = Schema.Struct({
  command: Schema.optionalKey(Schema.Union([Schema.String, Schema.String, Other])),
  args: Schema.optionalKey(Schema.Union([Schema.Array(Schema.Union([Schema.String, Schema.Finite, Schema.Null])), Schema.String, Other])),
  id: Schema.optionalKey(Schema.Union([Schema.String, Schema.Literals(["", "i".repeat(128), "i".repeat(129)]), Other])),
  reason: Schema.optionalKey(Schema.Union([Schema.String, Schema.Literals(["", "r".repeat(500), "r".repeat(501)]), Other])),
  extra: Schema.optionalKey(Schema.Union([Schema.String, Other]))
})

describe("the request envelope", () => {
  // The reader takes requests it can check plainly without the schema: it must agree with the schema exactly.
  it.prop("a plainly read request is what the schema decodes, and one the schema refuses is never read plainly", [Candidate], ([value]) => {
    expect(plainRequest(value)).toEqual(Result.getOrUndefined(decodeRequest(value)))
  }, { arbitrary: { runs: 2000 } })

  it.prop("every request the schema accepts is read plainly", [Schema.toEncoded(Request)], ([value]) => {
    expect(plainRequest(value)).toEqual(Result.getOrUndefined(decodeRequest(value)))
  })

  it("a member named __proto__ is an unknown key, not the object's prototype", () => {
    const read = makeEnvelopeReader(1024)([new TextEncoder().encode(`{"command":"ps","__proto__":{"id":"x"}}`)])
    expect(Result.isFailure(read) && read.failure.message).toBe("Invalid command format: __proto__: unexpected key")
  })

  it("a request nested 32 levels deep is read, one nested 33 deep refused", () => {
    const read = (text: string) => makeEnvelopeReader(4096)([new TextEncoder().encode(text)])
    const nested = (depth: number) => `{"command":"ps","args":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`
    expect(Result.isSuccess(read(nested(32)))).toBe(true)
    const tooDeep = read(nested(33))
    expect(Result.isFailure(tooDeep) && tooDeep.failure.message).toBe("Invalid command format: JSON nested deeper than 32 levels")
  })
})
