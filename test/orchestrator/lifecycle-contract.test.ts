/**
 * Both orchestrators follow one set of state rules (AgentLifecycle.ts): the same action on an agent in the same
 * state gets the same answer and leaves the same state, from the real orchestrator and from the in-memory one
 * that the command interface's tests run against.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { effectAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { InMemoryOrchestrator } from "../../src/orchestrator/InMemoryOrchestrator.ts"
import type { AgentAction } from "../../src/ports/OrchestratorControl.ts"
import { OrchestratorControl } from "../../src/ports/OrchestratorControl.ts"
import { OrchestratorQuery } from "../../src/ports/OrchestratorQuery.ts"
import type { AgentState } from "../../src/protocol/Model.ts"
import { awaitState, orchestratorLayer } from "../support/orchestrator.ts"

const states = ["running", "paused", "stopped", "completed", "failed"] as const satisfies ReadonlyArray<AgentState>
const actions = ["start", "stop", "restart", "pause", "resume"] as const satisfies ReadonlyArray<AgentAction>

/** What an operator sees: the reply's message (or the refusal's), and the state the agent is left in. */
const outcome = (action: AgentAction) =>
  Effect.gen(function*() {
    const control = yield* OrchestratorControl
    const query = yield* OrchestratorQuery
    const reply = yield* Effect.result(control.control(action, "svc"))
    const message = reply._tag === "Success" ? reply.success.message : reply.failure.message
    return { message, state: (yield* query.agent("svc").pipe(Effect.orDie)).state }
  })

/** A real orchestrator whose one agent `svc` has been brought to `state`. */
const real = (state: (typeof states)[number]) => {
  const run = state === "completed" ? Effect.void : state === "failed" ? Effect.fail("it broke") : Effect.never
  return Layer.effectDiscard(Effect.gen(function*() {
    const control = yield* OrchestratorControl
    if (state === "completed" || state === "failed") return yield* awaitState("svc", state)
    yield* awaitState("svc", "running")
    if (state === "paused") yield* control.control("pause", "svc")
    if (state === "stopped") yield* control.control("stop", "svc")
  }).pipe(Effect.orDie)).pipe(Layer.provideMerge(orchestratorLayer([effectAgent({ name: "svc", run })])))
}

const inMemory = (state: AgentState) => InMemoryOrchestrator.layer({ agents: [{ name: "svc", state, kind: "effect" }] })

describe("one state machine for both orchestrators", () => {
  for (const state of states) {
    for (const action of actions) {
      it.live(`${action} on a ${state} agent`, () =>
        Effect.gen(function*() {
          const fromReal = yield* Effect.provide(outcome(action), real(state))
          const fromMemory = yield* Effect.provide(outcome(action), inMemory(state))
          expect(fromMemory).toEqual(fromReal)
        }))
    }
  }

  it.live("the rules themselves, as an operator sees them on a running agent", () =>
    Effect.gen(function*() {
      expect(yield* Effect.provide(outcome("start"), inMemory("running"))).toEqual({ message: "Agent 'svc' is already running", state: "running" })
      expect(yield* Effect.provide(outcome("resume"), inMemory("stopped"))).toEqual({
        message: "cannot resume agent 'svc': it is stopped",
        state: "stopped"
      })
      expect(yield* Effect.provide(outcome("start"), inMemory("paused"))).toEqual({ message: "Agent 'svc' is already paused", state: "paused" })
    }))
})
