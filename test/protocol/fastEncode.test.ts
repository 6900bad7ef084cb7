import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { Commands } from "../../src/protocol/Commands.ts"
import { fastEncoders } from "../../src/protocol/fastEncode.ts"

// Each fast encoder must write exactly what the command's result schema writes, for any value of its type.
describe("fast encoders", () => {
  it.prop("ps", [Commands.ps.result], ([result]) => {
    expect(fastEncoders.ps?.(result)).toEqual(Schema.encodeSync(Commands.ps.result)(result))
  })

  it.prop("status", [Commands.status.result], ([result]) => {
    expect(fastEncoders.status?.(result)).toEqual(Schema.encodeSync(Commands.status.result)(result))
  })

  it.prop("history", [Commands.history.result], ([result]) => {
    expect(fastEncoders.history?.(result)).toEqual(Schema.encodeSync(Commands.history.result)(result))
  })

  it.prop("stats", [Commands.stats.result], ([result]) => {
    expect(fastEncoders.stats?.(result)).toEqual(Schema.encodeSync(Commands.stats.result)(result))
  })
})
