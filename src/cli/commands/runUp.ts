/**
 * What `orchestrate up` does. Loaded only when `up` runs, so that the other commands never load the
 * orchestrator, the server or the process machinery.
 */
import { Effect, FileSystem, Layer, Option, Path, type PlatformError, Schema } from "effect"
import * as NodePath from "node:path"
import { EventStore } from "../../events/EventStore.ts"
import { processAgent } from "../../orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../orchestrator/Orchestrator.ts"
import { checkConfigSize, type OrchestratorSettings, parseConfigText } from "../../app/ConfigFile.ts"
import { commandNames, isCommandName } from "../../protocol/Commands.ts"
import { layer as commandInterface } from "../../server/CommandInterface.ts"
import { CommandInterfaceConfig } from "../../server/CommandInterfaceConfig.ts"
import { type AllowedCommands, PresetName } from "../../server/Whitelist.ts"
import { packageRoot } from "../../packageRoot.ts"
import { AgentsFailed, UsageError } from "../exit.ts"
import { describeReadFailure } from "../readFailure.ts"
import { SHUTDOWN_SIGNALS } from "../runMain.ts"

/** The demo `up` runs when given no config: examples/demo.json in this package. */
export const demoConfig = (): string => NodePath.join(packageRoot(), "examples", "demo.json")

const isPreset = Schema.is(PresetName)

/** `--allow basic|monitoring|all|ps,status,...` */
const parseAllow = (value: string): Effect.Effect<AllowedCommands, UsageError> => {
  if (isPreset(value)) return Effect.succeed(value)
  const names = value.split(",").map((name) => name.trim()).filter((name) => name !== "")
  const unknown = names.filter((name) => !isCommandName(name))
  return unknown.length === 0
    ? Effect.succeed(names)
    : Effect.fail(new UsageError({
      detail: `--allow: unknown command${unknown.length > 1 ? "s" : ""} ${unknown.map((name) => `'${name}'`).join(", ")} ` +
        `(presets: basic, monitoring, all; commands: ${commandNames.join(", ")})`
    }))
}

const readSettings = Effect.fnUntraced(function*(path: string) {
  const fs = yield* FileSystem.FileSystem
  const cannotRead = (error: PlatformError.PlatformError) =>
    new UsageError({ detail: `cannot read config file ${path}: ${describeReadFailure(error)}` })
  // Sized before it is read, so that a huge file is refused at once instead of filling memory. A pipe has no
  // size: what comes from one is refused after it is read, if it is too large.
  const info = yield* fs.stat(path).pipe(Effect.mapError(cannotRead))
  yield* Effect.fromResult(checkConfigSize(Number(info.size), path))
  const text = yield* fs.readFileString(path).pipe(Effect.mapError(cannotRead))
  return yield* Effect.fromResult(parseConfigText(text, path))
})

const withOverrides = Effect.fnUntraced(function*(
  settings: OrchestratorSettings,
  overrides: { readonly address: Option.Option<string>; readonly allow: Option.Option<string>; readonly maxWorkers: Option.Option<number> }
) {
  const allowed = Option.isSome(overrides.allow) ? yield* parseAllow(overrides.allow.value) : undefined
  // Naming where to listen, or what to allow, asks for the interface: it is switched on.
  const enable = Option.isSome(overrides.address) || allowed !== undefined
  return {
    ...settings,
    maxWorkers: Option.getOrElse(overrides.maxWorkers, () => settings.maxWorkers),
    commandInterface: {
      ...settings.commandInterface,
      ...(enable ? { enableCommandInterface: true } : {}),
      ...(Option.isSome(overrides.address) ? { commandAddress: overrides.address.value } : {}),
      ...(allowed === undefined ? {} : { allowedCommands: allowed })
    }
  } satisfies OrchestratorSettings
})

/** The files a config names are found relative to the config file, wherever `up` runs from. */
const resolveFiles = (settings: OrchestratorSettings, directory: string): OrchestratorSettings => {
  const { curve, auditFile } = settings.commandInterface
  return {
    ...settings,
    commandInterface: {
      ...settings.commandInterface,
      ...(curve === undefined ? {} : { curve: { ...curve, keyFile: NodePath.resolve(directory, curve.keyFile) } }),
      ...(auditFile === undefined ? {} : { auditFile: NodePath.resolve(directory, auditFile) })
    }
  }
}

/** Says which signal began a graceful shutdown (runMain turns it into the interruption that does the work). */
const logShutdownSignal = Effect.gen(function*() {
  const services = yield* Effect.context<never>()
  let logged = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (logged) return
    logged = true
    Effect.runForkWith(services)(Effect.logWarning(`received ${signal}: shutting down gracefully (a second signal kills every agent at once)`))
  }
  yield* Effect.acquireRelease(
    Effect.sync(() => SHUTDOWN_SIGNALS.forEach((signal) => process.on(signal, onSignal))),
    () => Effect.sync(() => SHUTDOWN_SIGNALS.forEach((signal) => process.off(signal, onSignal)))
  )
})

export const runUp = Effect.fnUntraced(function*(options: {
  readonly config: Option.Option<string>
  readonly address: Option.Option<string>
  readonly allow: Option.Option<string>
  readonly maxWorkers: Option.Option<number>
}) {
  const { config, allow, maxWorkers } = options
  const path = yield* Path.Path
  const file = path.resolve(Option.getOrElse(config, demoConfig))
  const settings = yield* withOverrides(resolveFiles(yield* readSettings(file), path.dirname(file)), {
    address: options.address,
    allow,
    maxWorkers
  })
  const agents = settings.agents.map((agent) => processAgent(agent, path.dirname(file)))

  yield* Effect.logInfo(`starting ${agents.length} agents from ${file} (${settings.runMode}, ${settings.maxWorkers} workers)`)
  if (settings.runMode === "daemon" && agents.length > settings.maxWorkers) {
    yield* Effect.logWarning(`${agents.length} agents but ${settings.maxWorkers} workers: the rest wait queued until a slot frees`)
  }
  if (!settings.commandInterface.enableCommandInterface) {
    yield* Effect.logInfo("command interface disabled (enable it with commandInterface.enabled in the config, or --address)")
  }

  yield* logShutdownSignal
  const orchestrator = Orchestrator.layer({ ...settings, agents })
  const app = commandInterface.pipe(
    Layer.provide(Layer.succeed(CommandInterfaceConfig, settings.commandInterface)),
    Layer.provideMerge(orchestrator),
    Layer.provideMerge(EventStore.layer(settings.history, { log: true }))
  )
  const result = yield* Effect.provide(Orchestrator.run, app)
  yield* Effect.logInfo(
    `${result.reason === "finished" ? "every agent has finished" : "shut down"} in ${result.durationMs} ms` +
      (result.forcedKills.length === 0 ? "" : `; killed after their grace period: ${result.forcedKills.join(", ")}`)
  )
  if (result.reason === "finished" && result.failed.length > 0) return yield* new AgentsFailed({ agents: result.failed })
}, Effect.scoped)
