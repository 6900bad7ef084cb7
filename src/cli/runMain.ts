/**
 * Runs the CLI's main effect. The first SIGINT, SIGTERM or SIGHUP interrupts it, which shuts an orchestrator down
 * gracefully; a second one stops waiting and exits at once, and the orchestrator's guardian process then kills
 * every agent (see orchestrator/Guardian.ts): the same path as any other sudden end of this process.
 */
import { Effect, Runtime } from "effect"
import { type CliFailure, conclude, ExitCode } from "./exit.ts"
import { EXIT_GRACE_MILLIS, ignoreOutputErrors, SHUTDOWN_SIGNALS } from "./processEnd.ts"

export { SHUTDOWN_SIGNALS } from "./processEnd.ts"

/**
 * Runs the CLI. Its error channel is `CliFailure`, so a command that can fail with an error that has no exit code
 * does not compile. The exit is concluded inside the program, where its type is still known.
 */
export const runMain = <A>(effect: Effect.Effect<A, CliFailure>): void => {
  let signals = 0
  const concluded = Effect.onExit(effect, (exit) =>
    Effect.sync(() => {
      const { code, line } = conclude(exit, signals > 0)
      if (line !== undefined) process.stderr.write(`${line}\n`)
      process.exitCode = code
    }))
  Runtime.makeRunMain(({ fiber }) => {
    const onSignal = () => {
      signals++
      if (signals === 1) {
        fiber.interruptUnsafe(fiber.id)
        return
      }
      process.stderr.write("error: interrupted again; killing every agent and exiting now\n")
      process.exit(ExitCode.interrupted)
    }
    ignoreOutputErrors()
    for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal)
    fiber.addObserver(() => {
      for (const signal of SHUTDOWN_SIGNALS) process.removeListener(signal, onSignal)
      // Let Node exit on its own so piped output is flushed, but never hang on a stray handle.
      setTimeout(() => process.exit(), EXIT_GRACE_MILLIS).unref()
    })
  })(concluded, { disableErrorReporting: true })
}
