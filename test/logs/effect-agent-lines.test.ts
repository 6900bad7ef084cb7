import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { effectAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { awaitState, linesOf, orchestratorLayer } from "../support/orchestrator.ts"

describe("an Effect agent's own logs", () => {
  it.effect("are lines as a process's output is: a message with line breaks is several, a long one is split", () =>
    Effect.gen(function*() {
      yield* awaitState("reporter", "completed")
      expect((yield* linesOf("reporter")).map(({ stream, line }) => `${stream} ${line.length > 20 ? `${line.length} x` : line}`)).toEqual([
        "stdout first",
        "stdout second",
        "stderr warned",
        "stderr twice",
        "stdout 8192 x",
        "stdout xxxxxxxx"
      ])
    }).pipe(Effect.provide(orchestratorLayer([effectAgent({
      name: "reporter",
      run: Effect.gen(function*() {
        yield* Effect.logInfo("first\nsecond")
        yield* Effect.logWarning("warned\r\ntwice")
        yield* Effect.logInfo("x".repeat(8200))
      })
    })]))))
})
