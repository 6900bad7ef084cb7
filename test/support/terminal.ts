/**
 * Commands on a terminal of their own: `script` gives them one, and what the terminal showed is their output.
 */
import { Effect } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import { spawnCommand } from "./cli.ts"

const scriptArgs = (words: ReadonlyArray<string>) => ["-qec", words.map((word) => `'${word}'`).join(" "), "/dev/null"]

/** An xterm unless a test says otherwise: whatever runs the tests may have set TERM=dumb (no colour, no redraw). */
const terminalEnv = (env: Record<string, string>) => ({ TERM: "xterm", ...env })

/** Runs a command on a terminal, and returns what the terminal showed. */
export const onTerminal = (words: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.scoped(Effect.gen(function*() {
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    return yield* Effect.orDie(spawner.string(ChildProcess.make("script", scriptArgs(words), { env: terminalEnv(env), extendEnv: true })))
  }))

/** Starts a command on a terminal; what the terminal shows is collected as it comes. */
export const onTerminalRunning = (words: ReadonlyArray<string>, env: Record<string, string>) =>
  spawnCommand("script", scriptArgs(words), { env: terminalEnv(env) })
