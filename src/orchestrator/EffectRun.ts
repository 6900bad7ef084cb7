/**
 * Runs an Effect agent: its program in a fiber of its own, with an AgentContext for readiness, heartbeats and
 * the pause gate.
 */
import { Cause, type Duration, Effect, Exit, Fiber, Latch, Logger, Option, Ref } from "effect"
import type { ByteLines } from "../logs/ByteLines.ts"
import { linesOfTexts } from "../logs/LineSplitter.ts"
import { AgentContext } from "./AgentContext.ts"
import type { EffectAgent } from "./AgentDefinition.ts"
import type { AgentRun, RunHooks, RunOutcome } from "./AgentRun.ts"

/** A log call's arguments as one line of text: strings as they are, anything else as JSON. */
const formatLogMessage = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((part) => {
    if (typeof part === "string") return part
    try {
      return JSON.stringify(part) ?? String(part)
    } catch {
      return String(part)
    }
  }).join(" ")

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
  // The program's own logs are its output lines: warnings and errors on stderr, the rest on stdout. A logger's
  // callback cannot wait, while the output may leave something to wait for (a LogSink that answers later, log
  // files behind the disk) before it takes more: lines logged meanwhile are queued, in order, and handed over once
  // it is done, in a fiber of its own, so that the agent never blocks or fails in a log call.
  const runFork = Effect.runForkWith(yield* Effect.context<never>())
  const queued: Array<readonly ["stdout" | "stderr", ReadonlyArray<ByteLines>]> = []
  let waiting = false
  const handOver = (): void => {
    for (let next = queued.shift(); next !== undefined; next = queued.shift()) {
      const rest = hooks.output(next[0], next[1])
      if (rest !== undefined) {
        waiting = true
        runFork(rest).addObserver(() => {
          waiting = false
          handOver()
        })
        return
      }
    }
  }
  const output = Logger.make(({ logLevel, message }) => {
    const stream = logLevel === "Warn" || logLevel === "Error" || logLevel === "Fatal" ? "stderr" : "stdout"
    queued.push([stream, linesOfTexts([formatLogMessage(message)])])
    if (!waiting) handOver()
  })
  const program = agent.run.pipe(
    Effect.provideService(AgentContext, context),
    Effect.provideService(Logger.CurrentLoggers, new Set([output]))
  )
  const fiber = yield* Effect.forkDetach(program)
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
  // With a readiness probe, the probe says when the agent is ready (and `AgentContext.ready` as well, if it signals).
  if (!agent.signalsReady && agent.readiness === undefined) yield* hooks.ready

  const run: AgentRun = {
    outcome: Effect.map(Fiber.await(fiber), (exit): RunOutcome =>
      Exit.isSuccess(exit) ? { _tag: "Exited", code: 0 } : { _tag: "Crashed", error: describeCause(exit.cause) }),
    stop: interrupt,
    pause: Effect.asVoid(gate.close),
    resume: Effect.asVoid(gate.open)
  }
  return run
})
