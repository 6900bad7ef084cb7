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
