/**
 * Runs an Effect agent: its program in a fiber of its own, with an AgentContext for readiness, heartbeats and
 * the pause gate.
 */
import { Cause, type Duration, Effect, Exit, Fiber, Latch, Option, Ref } from "effect"
import { AgentContext } from "./AgentContext.ts"
import type { EffectAgent } from "./AgentDefinition.ts"
import type { AgentRun, RunHooks, RunOutcome } from "./AgentRun.ts"

const describeCause = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  if (error instanceof Error) return error.message === "" ? error.name : `${error.name}: ${error.message}`
  return String(error)
}

export const launchEffect = Effect.fn("EffectRun.launch")(function*<R>(
  agent: EffectAgent<R>,
  hooks: RunHooks,
  options: { readonly grace: Duration.Duration }
) {
  const gate = yield* Latch.make(true)
  const context = AgentContext.of({ name: agent.name, ready: hooks.ready, heartbeat: hooks.heartbeat, checkpoint: gate.await })
  // Detached rather than scoped: an agent stuck in an uninterruptible region must not hold the orchestrator's
  // shutdown hostage. Its scope asks it to stop and waits at most the grace period.
  const fiber = yield* Effect.forkDetach(Effect.provideService(agent.run, AgentContext, context))
  // Once a stop has given up on the fiber, stopping it again would only wait out another grace period.
  const abandoned = yield* Ref.make(false)
  const interrupt = (grace: Duration.Duration) =>
    Effect.gen(function*() {
      if (yield* Ref.get(abandoned)) return { forced: true }
      const done = yield* Effect.timeoutOption(Fiber.interrupt(fiber), grace)
      if (Option.isNone(done)) yield* Ref.set(abandoned, true)
      return { forced: Option.isNone(done) }
    })
  yield* Effect.addFinalizer(() => interrupt(options.grace))
  yield* hooks.started(null)
  if (!agent.signalsReady) yield* hooks.ready

  const run: AgentRun = {
    outcome: Effect.map(Fiber.await(fiber), (exit): RunOutcome =>
      Exit.isSuccess(exit) ? { _tag: "Exited", code: 0 } : { _tag: "Crashed", error: describeCause(exit.cause) }),
    stop: interrupt,
    pause: Effect.asVoid(gate.close),
    resume: Effect.asVoid(gate.open)
  }
  return run
})
