/**
 * Which orchestrator a command talks to, and with which keys: the flags (and their variables) over the context in
 * use, field by field.
 *
 * The context in use is the one `--context` (or `$ORCHESTRATE_CONTEXT`) names; without one, the current one
 * (`context use`), unless `--address` (or `$ORCHESTRATE_ADDRESS`) names an orchestrator outright, which then owes
 * nothing to any context: its file is not even read, so a broken one never stands in the way of an explicit
 * address. Within the context in use, `--address`, `--server-key` and `--client-key` (or their variables) each
 * replace the context's value.
 */
import { Effect, Option } from "effect"
import { didYouMean } from "../suggestions.ts"
import { UnknownContext, UsageError } from "../errors.ts"
import { contextNames, type ContextsDocument, loadContexts, type SavedContext } from "./ContextsFile.ts"

/** The flags that say where a command goes. */
export interface TargetFlags {
  readonly context: Option.Option<string>
  readonly address: Option.Option<string>
  readonly serverKey: Option.Option<string>
  readonly clientKey: Option.Option<string>
}

export interface Target {
  readonly address: Option.Option<string>
  readonly serverKey: Option.Option<string>
  readonly clientKey: Option.Option<string>
}

/** The context called `name`, or a usage error that lists the known ones. */
export const findContext = (document: ContextsDocument, name: string): Effect.Effect<SavedContext, UsageError> => {
  const saved = Object.hasOwn(document.contexts, name) ? document.contexts[name] : undefined
  if (saved !== undefined) return Effect.succeed(saved)
  const known = contextNames(document)
  return Effect.fail(new UsageError({ reason: new UnknownContext({ name, known, suggestions: didYouMean(name, known) }) }))
}

export const targetOf = Effect.fnUntraced(function*(flags: TargetFlags) {
  const own: Target = { address: flags.address, serverKey: flags.serverKey, clientKey: flags.clientKey }
  if (Option.isNone(flags.context) && Option.isSome(flags.address)) return own
  const document = yield* loadContexts()
  const name = Option.orElse(flags.context, () => Option.fromUndefinedOr(document.current))
  if (Option.isNone(name)) return own
  const saved = yield* findContext(document, name.value)
  return {
    address: Option.orElse(flags.address, () => Option.some(saved.address)),
    serverKey: Option.orElse(flags.serverKey, () => Option.fromUndefinedOr(saved.serverKey)),
    clientKey: Option.orElse(flags.clientKey, () => Option.fromUndefinedOr(saved.clientKey))
  } satisfies Target
})
