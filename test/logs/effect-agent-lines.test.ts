import { describe, expect, it } from "@effect/vitest"
import { Effect, References } from "effect"
import { effectAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
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

  it.effect("are kept at the orchestrator's level when a caller at another level starts the agent", () =>
    Effect.gen(function*() {
      yield* awaitState("greeter", "completed")
      // As a command's request does: its interface's own level and name for its logs.
      yield* Orchestrator.use((o) => o.control.control("start", "greeter")).pipe(
        Effect.provideService(References.MinimumLogLevel, "Error"),
        Effect.annotateLogs({ component: "command-interface" })
      )
      yield* awaitState("greeter", "completed")
      expect((yield* linesOf("greeter")).filter(({ stream }) => stream === "stdout").map(({ line }) => line)).toEqual(["hello", "hello"])
    }).pipe(Effect.provide(orchestratorLayer([effectAgent({ name: "greeter", run: Effect.logInfo("hello") })]))))
})
