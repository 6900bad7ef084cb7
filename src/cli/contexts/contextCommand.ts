/**
 * `orchestrate context add|list|use|remove`: the named contexts of contexts.json, so that an operator with
 * orchestrators on several machines names one (`--context prod`) instead of retyping its address and keys, or
 * asks them all at once (`ps --all-contexts`).
 */
import { Console, Effect, FileSystem, Option, Path, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { CurveKey, readKeyPair, readPublicKey } from "../../security/keys.ts"
import { ContextExists, ContextNeedsAddress, MissingKeyFlag, UsageError } from "../errors.ts"
import { currentStyle, table } from "../output.ts"
import { root } from "../root.ts"
import {
  ContextName,
  contextNames,
  type ContextsDocument,
  contextsPath,
  loadContexts,
  type SavedContext,
  saveContexts
} from "./ContextsFile.ts"
import { findContext } from "./ContextTarget.ts"

const nameArgument = (description: string) =>
  Argument.String("name").pipe(Argument.withSchema(ContextName), Argument.withDescription(description))

/** The context commands would use now: the one `--context` or `$ORCHESTRATE_CONTEXT` names, else the current one. */
const inUse = Effect.gen(function*() {
  const flags = yield* root
  return (document: ContextsDocument): string | undefined => Option.getOrElse(flags.context, () => document.current)
})

/** `context list --json`, and what the others print with `--json`: the contexts after the change. */
const listJson = (document: ContextsDocument, current: string | undefined): string =>
  JSON.stringify({
    current: current !== undefined && Object.hasOwn(document.contexts, current) ? current : null,
    contexts: contextNames(document).flatMap((name) => {
      const saved = document.contexts[name]
      return saved === undefined ? [] : [{ name, ...saved, current: name === current }]
    })
  })

/** Prints `text`, or with `--json` the contexts as `context list --json` does. */
const report = (document: ContextsDocument, text: string) =>
  Effect.gen(function*() {
    const flags = yield* root
    yield* Console.log(flags.json ? listJson(document, (yield* inUse)(document)) : text)
  })

/**
 * A key as a context keeps it: the server's public key itself, or the absolute path of its file (a key that
 * names no file is taken as the key, as `--server-key` takes it); the client's key pair file by absolute path.
 * Both are read first, so that a context is never saved with keys that do not work.
 */
const keysOf = Effect.fnUntraced(function*(serverKey: Option.Option<string>, clientKey: Option.Option<string>) {
  if (Option.isNone(serverKey) && Option.isNone(clientKey)) return {}
  if (Option.isNone(serverKey) || Option.isNone(clientKey)) {
    return yield* new UsageError({
      reason: new MissingKeyFlag({ flag: Option.isNone(serverKey) ? "--server-key" : "--client-key" })
    })
  }
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const isKey = Schema.is(CurveKey)(serverKey.value) && !(yield* fs.exists(serverKey.value).pipe(Effect.orElseSucceed(() => false)))
  const server = isKey ? serverKey.value : path.resolve(serverKey.value)
  const client = path.resolve(clientKey.value)
  yield* readPublicKey(server)
  yield* readKeyPair(client)
  return { serverKey: server, clientKey: client }
})

const add = Command.make("add", {
  name: nameArgument("The new context's name (letters, digits, '.', '_', '-')"),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("Replace a context of that name"))
}, ({ name, force }) =>
  Effect.gen(function*() {
    const flags = yield* root
    if (Option.isNone(flags.address)) return yield* new UsageError({ reason: new ContextNeedsAddress({}) })
    const saved: SavedContext = { address: flags.address.value, ...(yield* keysOf(flags.serverKey, flags.clientKey)) }
    const document = yield* loadContexts()
    if (Object.hasOwn(document.contexts, name) && !force) return yield* new UsageError({ reason: new ContextExists({ name }) })
    const updated = { ...document, contexts: { ...document.contexts, [name]: saved } }
    yield* saveContexts(updated)
    const curve = saved.serverKey === undefined ? "" : " with CURVE"
    const hint = updated.current === name ? "" : `; 'orchestrate context use ${name}' makes it the default`
    yield* report(updated, `added context '${name}': ${saved.address}${curve}${hint}`)
  })).pipe(
    Command.withDescription(
      "Save an orchestrator's address (--address, required) and, for one that uses CURVE, its public key " +
        "(--server-key: the key or its file) and this client's key pair (--client-key); key files are kept by " +
        "absolute path, and read first to check them"
    ),
    Command.withExamples([
      { command: "orchestrate context add dev --address tcp://127.0.0.1:5570", description: "A local orchestrator" },
      {
        command: "orchestrate context add prod --address tcp://10.0.0.5:5570 --server-key prod.key.pub --client-key ~/.config/orchestrate/ops.key",
        description: "One that uses CURVE"
      }
    ])
  )

const list = Command.make("list", {}, () =>
  Effect.gen(function*() {
    const flags = yield* root
    const document = yield* loadContexts()
    const current = (yield* inUse)(document)
    if (flags.json) return yield* Console.log(listJson(document, current))
    const names = contextNames(document)
    if (names.length === 0) {
      return yield* Console.log(`no contexts in ${yield* contextsPath} (orchestrate context add NAME --address ADDRESS)`)
    }
    const style = yield* currentStyle
    yield* Console.log(table(
      ["CURRENT", "NAME", "ADDRESS", "SERVER KEY", "CLIENT KEY"],
      names.flatMap((name) => {
        const saved = document.contexts[name]
        return saved === undefined
          ? []
          : [[name === current ? "*" : "", name, saved.address, saved.serverKey ?? "-", saved.clientKey ?? "-"]]
      }),
      style
    ))
  })).pipe(
    Command.withDescription(
      "List the contexts; * marks the one commands use (--context or $ORCHESTRATE_CONTEXT, else the one 'context use' chose)"
    ),
    Command.withExamples([
      { command: "orchestrate context list", description: "Every context, the current one marked" },
      { command: "orchestrate context list --json | jq -r '.contexts[].name'", description: "Their names" }
    ])
  )

const use = Command.make("use", { name: nameArgument("The context to use when a command names none") }, ({ name }) =>
  Effect.gen(function*() {
    const flags = yield* root
    const document = yield* loadContexts()
    const saved = yield* findContext(document, name)
    const updated = { ...document, current: name }
    yield* saveContexts(updated)
    if (Option.isSome(flags.context) && flags.context.value !== name) {
      yield* Console.error(`note: --context or $ORCHESTRATE_CONTEXT ('${flags.context.value}') still comes first where it is given`)
    }
    yield* report(updated, `using context '${name}': ${saved.address}`)
  })).pipe(
    Command.withDescription(
      "Make a context the current one: used by every command that gives neither --context nor --address"
    ),
    Command.withExamples([{ command: "orchestrate context use prod && orchestrate ps", description: "prod's agents" }])
  )

const remove = Command.make("remove", { name: nameArgument("The context to remove") }, ({ name }) =>
  Effect.gen(function*() {
    const document = yield* loadContexts()
    yield* findContext(document, name)
    const contexts = Object.fromEntries(Object.entries(document.contexts).filter(([other]) => other !== name))
    const wasCurrent = document.current === name
    const updated: ContextsDocument = wasCurrent ? { contexts } : { ...document, contexts }
    yield* saveContexts(updated)
    yield* report(updated, `removed context '${name}'${wasCurrent ? "; no context is current now" : ""}`)
  })).pipe(
    Command.withDescription("Remove a context (if it was the current one, none is current afterwards)"),
    Command.withExamples([{ command: "orchestrate context remove staging", description: "Forget staging" }])
  )

export const context = Command.make("context").pipe(
  Command.withSubcommands([add, list, use, remove]),
  Command.withDescription(
    "Named contexts: an orchestrator's address and CURVE keys under a name, kept in " +
      "$XDG_CONFIG_HOME/orchestrate/contexts.json (~/.config/orchestrate/contexts.json), mode 0600. Select one " +
      "with --context NAME or $ORCHESTRATE_CONTEXT, or make it current with 'context use'; --address, " +
      "--server-key and --client-key (and their variables) override its values. 'ps', 'status' and 'stats' " +
      "take --all-contexts to ask every one at once."
  )
)
