import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { type CommandName, commandNames } from "../../src/protocol/Commands.ts"
import { formatIssues } from "../../src/protocol/issues.ts"
import { CommandInterfaceConfig, CommandInterfaceSettings } from "../../src/server/CommandInterfaceConfig.ts"
import type { AllowedCommands } from "../../src/server/Whitelist.ts"
import { harness, request } from "../support/harness.ts"

/** Sends every known command and returns those that were not refused with 403. */
const admitted = Effect.gen(function*() {
  const passed: Array<CommandName> = []
  for (const command of commandNames) {
    // Valid arguments where a command needs them, so nothing but the whitelist decides.
    const args = ["start", "stop", "restart", "pause", "resume"].includes(command) ? ["db"] : []
    const reply = yield* request({ command, args })
    if (!(typeof reply === "object" && reply !== null && "code" in reply && reply.code === 403)) passed.push(command)
  }
  return passed
})

const cases: Array<readonly [AllowedCommands, ReadonlyArray<CommandName>]> = [
  ["basic", ["ps", "status", "whoami"]],
  ["monitoring", ["ps", "status", "stats", "history", "logs", "whoami"]],
  ["all", commandNames],
  [["history", "pause"], ["history", "pause"]],
  [[], []]
]

describe("whitelist", () => {
  for (const [allowed, expected] of cases) {
    it.effect(`${JSON.stringify(allowed)} admits exactly ${JSON.stringify(expected)}`, () =>
      Effect.gen(function*() {
        expect(yield* admitted).toEqual(expected)
      }).pipe(Effect.provide(harness({ config: { allowedCommands: allowed } }))))
  }

  it("defaults to the basic preset, with the interface disabled", () => {
    expect(CommandInterfaceConfig.defaults).toMatchObject({
      enableCommandInterface: false,
      commandAddress: "tcp://127.0.0.1:5570",
      allowedCommands: "basic",
      maxRequestBytes: 65536
    })
  })

  it("rejects unknown command names in a custom set at startup, naming them", () => {
    const result = Schema.decodeUnknownResult(CommandInterfaceSettings)({ allowedCommands: ["ps", "psx"] }, { errors: "all" })
    if (result._tag === "Success") throw new Error("expected a failure")
    // That one problem, and no other: `ps` is known.
    expect(formatIssues(result.failure)).toBe(`allowedCommands[1]: unknown command 'psx' (known commands: ${commandNames.join(", ")})`)
  })

  it.effect("rejects unknown names given programmatically too", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(CommandInterfaceConfig.layer({ allowedCommands: ["nope"] })))
      expect(formatIssues(error)).toBe(`allowedCommands[0]: unknown command 'nope' (known commands: ${commandNames.join(", ")})`)
    }))
})
