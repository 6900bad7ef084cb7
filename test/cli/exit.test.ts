import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Schema } from "effect"
import { CliError } from "effect/cli"
import { expectTypeOf } from "vitest"
import { AgentsFailed } from "../../src/cli/commands/runUp.ts"
import { AgentsNotReady, NeverReady, NotPolled, WaitTimedOut } from "../../src/cli/commands/status.ts"
import { MissingKeyFlag, UnknownCommandInAllow, UsageError } from "../../src/cli/errors.ts"
import { type CliFailure, conclude } from "../../src/cli/exit.ts"
import type { runMain } from "../../src/cli/runMain.ts"

const failed = (failure: CliFailure) => conclude(Exit.fail(failure), false)

describe("how the CLI ends", () => {
  it("succeeds with 0 and prints nothing", () => {
    expect(conclude(Exit.succeed(undefined), false)).toEqual({ code: 0 })
  })

  it("prints a failure's message as one line, with its exit code", () => {
    expect(failed(new UsageError({ reason: new MissingKeyFlag({ flag: "--client-key" }) }))).toEqual({
      code: 2,
      line: "error: --server-key and --client-key go together: a CURVE client needs the orchestrator's public key " +
        "and its own key pair (missing --client-key)"
    })
    expect(failed(new UsageError({ reason: new UnknownCommandInAllow({ names: ["frob", "nicate"] }) })).line).toMatch(
      /^error: --allow: unknown commands 'frob', 'nicate' \(presets: basic, monitoring, all; commands: ps, status, /
    )
    expect(failed(new AgentsFailed({ agents: ["a", "b"] }))).toEqual({ code: 1, line: "error: agents failed: a, b" })
  })

  it("says why status --wait gave up, and exits 3", () => {
    const gaveUp = (timeoutSeconds: number, reason: WaitTimedOut["reason"]) => failed(new WaitTimedOut({ timeoutSeconds, reason }))
    expect(gaveUp(90, new AgentsNotReady({ pending: [{ agent: "web", state: "starting", health: null }] }))).toEqual({
      code: 3,
      line: "error: not ready after 1m 30s: agent 'web' is starting"
    })
    expect(gaveUp(5, new AgentsNotReady({
      pending: [{ agent: "web", state: "starting", health: "starting" }, { agent: "api", state: "running", health: "unhealthy" }]
    }))).toEqual({ code: 3, line: "error: not ready after 5s: waiting for web (starting), api (unhealthy)" })
    expect(gaveUp(2, new NotPolled({ address: "tcp://127.0.0.1:5570" }))).toEqual({
      code: 3,
      line: "error: not ready after 2s: no answer from tcp://127.0.0.1:5570"
    })
    // An agent that can no longer become ready ends the wait at once, as a failure.
    expect(failed(new NeverReady({ agent: "job", state: "failed", lastError: "exit code 2" }))).toEqual({
      code: 1,
      line: "error: agent 'job' is failed: exit code 2; it will not become ready by waiting"
    })
  })

  it("prints nothing for help, which was shown already: 0 when asked for, 2 with usage errors", () => {
    expect(failed(new CliError.ShowHelp({ commandPath: ["orchestrate"], errors: [] }))).toEqual({ code: 0 })
    const unknownFlag = new CliError.UnrecognizedOption({ option: "--bogus", command: ["orchestrate", "ps"], suggestions: [] })
    expect(failed(new CliError.ShowHelp({ commandPath: ["orchestrate", "ps"], errors: [unknownFlag] }))).toEqual({ code: 2 })
    expect(failed(unknownFlag).code).toBe(2)
  })

  it("reports a defect as an internal error, exit 1, and a failure before a defect", () => {
    expect(conclude(Exit.die(new Error("boom")), false)).toEqual({ code: 1, line: "error: internal error: boom" })
    const both = Cause.combine(Cause.die(new Error("boom")), Cause.fail(new AgentsFailed({ agents: ["a"] })))
    expect(conclude(Exit.failCause(both), false)).toEqual({ code: 1, line: "error: agents failed: a" })
  })

  it("ends an interrupted run with 130, or 0 when a signal asked for the graceful stop", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.interrupt)
      expect(conclude(exit, false)).toEqual({ code: 130 })
      expect(conclude(exit, true)).toEqual({ code: 0 })
    }))

  it("accepts, at compile time, only failures that have an exit code (checked by tsc)", () => {
    class Unmapped extends Schema.TaggedError<Unmapped>()("Unmapped", {}) {}
    expectTypeOf<Effect.Effect<void, Unmapped>>().not.toExtend<Parameters<typeof runMain>[0]>()
    expectTypeOf<Effect.Effect<void, UsageError | CliError.CliError>>().toExtend<Parameters<typeof runMain>[0]>()
    expect(new Unmapped()._tag).toBe("Unmapped")
  })
})
