/**
 * Runs the CLI's main effect. The first SIGINT or SIGTERM interrupts it, which shuts an orchestrator down
 * gracefully; a second one stops waiting: it kills every agent's process group and exits at once.
 */
import { Effect, Runtime } from "effect"
import * as LiveProcesses from "../orchestrator/liveProcesses.ts"
import { conclude, ExitCode } from "./exit.ts"

/** How long a finished CLI may take to drain its output before it exits regardless. */
const EXIT_GRACE_MILLIS = 2000

export const runMain: <A, E>(effect: Effect.Effect<A, E>) => void = (effect) =>
  Runtime.makeRunMain(({ fiber }) => {
    let signals = 0
    const onSignal = () => {
      signals++
      if (signals === 1) {
        fiber.interruptUnsafe(fiber.id)
        return
      }
      process.stderr.write("error: interrupted again; killing every agent and exiting now\n")
      LiveProcesses.killAllNow()
      process.exit(ExitCode.interrupted)
    }
    process.on("SIGINT", onSignal)
    process.on("SIGTERM", onSignal)
    fiber.addObserver((exit) => {
      process.removeListener("SIGINT", onSignal)
      process.removeListener("SIGTERM", onSignal)
      // Let Node exit on its own so piped output is flushed, but never hang on a stray handle.
      process.exitCode = conclude(exit, signals > 0)
      setTimeout(() => process.exit(), EXIT_GRACE_MILLIS).unref()
    })
  })(effect, { disableErrorReporting: true })
