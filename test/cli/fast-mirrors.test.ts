/**
 * What the fast path does without effect, where the full CLI uses effect's own function: each must give the same
 * answer on every input. `formatMillis` against `Duration.format` (the `no answer within 5s` of a timeout),
 * `canColor` against effect/cli's `TerminalCapabilities` (whether output is coloured), and `displayWidth` (which
 * both paths' tables now use) against `CliOutput.displayWidth` (which the help text uses).
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Schema, Stdio } from "effect"
import { CliOutput, TerminalCapabilities } from "effect/cli"
import { displayWidth } from "../../src/cli/displayWidth.ts"
import { canColor } from "../../src/cli/fast/terminal.ts"
import { formatMillis } from "../../src/client/wire.ts"

describe("the fast path's mirrors of effect", () => {
  it.prop(
    "formatMillis writes a whole number of milliseconds as Duration.format does",
    [Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10 * 86_400_000 }))],
    ([millis]) => {
      expect(formatMillis(millis)).toBe(Duration.format(Duration.millis(millis)))
    }
  )

  it("formatMillis on the timeouts people give", () => {
    for (const seconds of [0.5, 1, 2, 2.25, 5, 60, 90, 120, 3600, 86_400, 100_000]) {
      expect(formatMillis(seconds * 1000)).toBe(Duration.format(Duration.seconds(seconds)))
    }
  })

  it.effect("canColor decides as TerminalCapabilities does, for every combination of the variables and a terminal", () =>
    Effect.gen(function*() {
      const values = {
        NO_COLOR: [undefined, "", "1"],
        FORCE_COLOR: [undefined, "", "0", "false", "FALSE", "1", "true", "3"],
        TERM: [undefined, "dumb", "xterm-256color"]
      }
      for (const noColor of values.NO_COLOR) {
        for (const forceColor of values.FORCE_COLOR) {
          for (const term of values.TERM) {
            for (const terminal of [false, true]) {
              const env = Object.fromEntries(
                Object.entries({ NO_COLOR: noColor, FORCE_COLOR: forceColor, TERM: term }).flatMap(([key, value]) =>
                  value === undefined ? [] : [[key, value]]
                )
              )
              const effects = yield* TerminalCapabilities.TerminalCapabilities.pipe(
                Effect.provide(TerminalCapabilities.layer),
                Effect.provide(Stdio.layerTest({ stdoutIsTerminal: Effect.succeed(terminal) })),
                Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))
              )
              expect({ env, terminal, canColor: canColor(env, terminal) }).toEqual({ env, terminal, canColor: effects.canColor })
            }
          }
        }
      }
    }))

  it.prop("displayWidth measures any text as CliOutput.displayWidth does", [Schema.String], ([text]) => {
    expect(displayWidth(text)).toBe(CliOutput.displayWidth(text))
  })

  it("displayWidth on wide, combining, emoji, control and coloured text", () => {
    for (const text of ["ファイル", "e\u0301", "1\uFE0F\u20E3", "👩‍👩‍👧", "\u001b[1mbold\u001b[0m", "tab\there", "\u200bzero", "한국어", "ｆｕｌｌ"]) {
      expect(displayWidth(text)).toBe(CliOutput.displayWidth(text))
    }
  })
})
