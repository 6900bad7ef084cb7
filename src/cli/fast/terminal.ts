/**
 * Whether standard output gets colour, decided as effect/cli's `TerminalCapabilities` decides it for the full CLI
 * (output.ts), without loading effect: never with TERM=dumb or a non-empty NO_COLOR; always with a FORCE_COLOR other
 * than empty, `0` or `false`; otherwise on a terminal. test/cli/fast-mirrors.test.ts checks it against effect's.
 */
import { colored, plain, type Style } from "../style.ts"

type Environment = Readonly<Record<string, string | undefined>>

const isPresent = (value: string | undefined): value is string => value !== undefined && value.length > 0

export const canColor = (env: Environment, stdoutIsTerminal: boolean): boolean => {
  if (env["TERM"] === "dumb") return false
  const force = env["FORCE_COLOR"]
  const forcing = isPresent(force) && force !== "0" && force.toLowerCase() !== "false"
  return !isPresent(env["NO_COLOR"]) && (forcing || stdoutIsTerminal)
}

export const styleFor = (env: Environment, stdoutIsTerminal: boolean): Style => canColor(env, stdoutIsTerminal) ? colored : plain
