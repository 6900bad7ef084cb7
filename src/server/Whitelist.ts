/**
 * Which commands the interface runs. Anything else is refused with 403 before its arguments are looked at.
 */
import { Context, Layer, Schema } from "effect"
import { type CommandName, commandNames, isCommandName } from "../protocol/Commands.ts"

// `whoami` is in every preset: a caller can always learn who it is taken for and what it may do.
export const presets = {
  basic: ["ps", "status", "whoami"],
  monitoring: ["ps", "status", "stats", "history", "logs", "whoami"],
  all: commandNames
} as const satisfies Record<string, ReadonlyArray<CommandName>>

export const PresetName = Schema.Literals(["basic", "monitoring", "all"])
export type PresetName = typeof PresetName.Type

const KnownCommandName = Schema.String.check(
  Schema.makeFilter((name: string) =>
    isCommandName(name) || `unknown command '${name}' (known commands: ${commandNames.join(", ")})`
  )
)

/**
 * A preset name or a list of command names. Decoding fails on a name the interface does not know, so a typo in
 * a config is reported at startup rather than silently allowing less than intended.
 */
export const AllowedCommands = Schema.Union([PresetName, Schema.Array(KnownCommandName)])
export type AllowedCommands = typeof AllowedCommands.Type

/** Resolves a preset or a list to the allowed commands, in catalogue order. */
export const resolveAllowed = (allowed: AllowedCommands): ReadonlyArray<CommandName> => {
  const names: ReadonlyArray<string> = typeof allowed === "string" ? presets[allowed] : allowed
  const set = new Set(names)
  return commandNames.filter((name) => set.has(name))
}

/** The setting as people wrote it, for logs: a preset's name or the list. */
export const describeAllowed = (allowed: AllowedCommands): string => typeof allowed === "string" ? allowed : allowed.join(", ")

/** The server's ceiling: what any caller may run, whoever it is (see `Principals.ts` for callers' own limits). */
export class Whitelist extends Context.Service<Whitelist, {
  readonly allowed: ReadonlyArray<CommandName>
  readonly isAllowed: (command: CommandName) => boolean
}>()("effect-orchestrate/Whitelist") {
  static readonly make = (allowedCommands: AllowedCommands): Whitelist["Service"] => {
    const allowed = resolveAllowed(allowedCommands)
    const set = new Set<CommandName>(allowed)
    return Whitelist.of({ allowed, isAllowed: (command) => set.has(command) })
  }

  static readonly layer = (allowed: AllowedCommands): Layer.Layer<Whitelist> =>
    Layer.succeed(Whitelist, Whitelist.make(allowed))
}
