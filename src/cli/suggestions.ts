/**
 * What a user coming from pm2, supervisorctl, docker or kubectl types first, and what it is called here. effect/cli
 * suggests by spelling alone (`stauts` got `stats`); these come first.
 */
import { CliError } from "effect/cli"

const equivalents: Readonly<Record<string, string>> = {
  log: "logs",
  list: "ps",
  ls: "ps",
  describe: "status",
  info: "status",
  show: "status",
  top: "stats",
  monit: "stats",
  stauts: "status",
  statsu: "status",
  kill: "stop",
  reload: "restart",
  events: "history"
}

/** The error to show for a usage error: an unknown subcommand gets our suggestion when we have one. */
export const withEquivalents = (error: CliError.CliError): CliError.CliError => {
  if (error._tag !== "UnknownSubcommand") return error
  const equivalent = equivalents[error.subcommand]
  if (equivalent === undefined) return error
  return new CliError.UnknownSubcommand({
    subcommand: error.subcommand,
    ...(error.parent === undefined ? {} : { parent: error.parent }),
    suggestions: [equivalent]
  })
}

/** Edits (insertions, deletions, substitutions) that turn `a` into `b`. */
const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/**
 * The names closest to a misspelt one, as effect/cli suggests a subcommand: those at the smallest distance, if
 * it is at most 2 edits.
 */
export const didYouMean = (input: string, candidates: ReadonlyArray<string>): ReadonlyArray<string> => {
  const scored = candidates.map((candidate) => [editDistance(input, candidate), candidate] as const).filter(([distance]) => distance <= 2)
  const best = Math.min(...scored.map(([distance]) => distance))
  return scored.filter(([distance]) => distance === best).map(([, candidate]) => candidate)
}
