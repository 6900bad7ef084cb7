/**
 * What `orchestrate up` does. Loaded only when `up` runs, so that the other commands never load the
 * orchestrator, the server or the process machinery.
 */
import { DateTime, Effect, FileSystem, Layer, Option, Path, type PlatformError, Schema } from "effect"
import * as NodePath from "node:path"
import { EventStore } from "../../events/EventStore.ts"
import { LogFiles, type LogFilesConfig } from "../../logs/LogFiles.ts"
import { type LogSink, LogStore } from "../../logs/LogStore.ts"
import { type LogLayout, lineWriter, renderLogLine } from "../logLines.ts"
import { currentStyle } from "../output.ts"
import { processAgent } from "../../orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../orchestrator/Orchestrator.ts"
import { checkConfigSize, type OrchestratorSettings, parseConfigText } from "../../app/ConfigFile.ts"
import { isCommandName } from "../../protocol/Commands.ts"
import { layer as commandInterface } from "../../server/CommandInterface.ts"
import { CommandInterfaceConfig } from "../../server/CommandInterfaceConfig.ts"
import { type AllowedCommands, PresetName } from "../../server/Whitelist.ts"
import { packageRoot } from "../../packageRoot.ts"
import { UnknownCommandInAllow, UnreadableConfig, UsageError } from "../errors.ts"
import { SHUTDOWN_SIGNALS } from "../runMain.ts"

/** `up` in until-done mode finished with failed agents. */
export class AgentsFailed extends Schema.TaggedError<AgentsFailed>()("AgentsFailed", {
  agents: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `agents failed: ${this.agents.join(", ")}`
  }
}

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
    : Effect.fail(new UsageError({ reason: new UnknownCommandInAllow({ names: unknown }) }))
}

const readSettings = Effect.fnUntraced(function*(path: string) {
  const fs = yield* FileSystem.FileSystem
  const cannotRead = (cause: PlatformError.PlatformError) => new UsageError({ reason: new UnreadableConfig({ path, cause }) })
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
    logs: { ...settings.logs, ...(settings.logs.dir === undefined ? {} : { dir: NodePath.resolve(directory, settings.logs.dir) }) },
    commandInterface: {
      ...settings.commandInterface,
      ...(curve === undefined ? {} : { curve: { ...curve, keyFile: NodePath.resolve(directory, curve.keyFile) } }),
      ...(auditFile === undefined ? {} : { auditFile: NodePath.resolve(directory, auditFile) })
    }
  }
}

/**
 * Switches a terminal's writes from blocking to queued. Node writes to a terminal synchronously: one stopped with
 * Ctrl-S would block the orchestrator, command interface and all, on the next line it shows. Queued, the writes fill
 * the stream's buffer and `writableNeedDrain` says so, as with a pipe. `setBlocking` is the handle's own switch (what
 * Node calls to make it blocking in the first place); Node gives the descriptor back as it found it on exit.
 */
const queueTerminalWrites = (stream: NodeJS.WriteStream): void => {
  const handle: unknown = Reflect.get(stream, "_handle")
  if (typeof handle === "object" && handle !== null && "setBlocking" in handle && typeof handle.setBlocking === "function") {
    handle.setBlocking(false)
  }
}

/**
 * Where agents' lines go besides memory: files, when a directory is given; and this terminal, prefixed with the
 * agent's name, unless `up` runs quiet. Only here: lines are never logged, so none is ever printed twice.
 */
const agentLogs = Effect.fnUntraced(function*(options: {
  readonly keepLines: number
  readonly files: LogFilesConfig | undefined
  readonly foreground: ReadonlyArray<string> | undefined
}) {
  const files = options.files === undefined ? undefined : yield* LogFiles.make(options.files)
  if (files !== undefined) {
    yield* Effect.logInfo(`agents' lines also go to ${files.dir}/<agent>.log`)
    // Said once more at the very end, after the last flush, with the number: the warnings while running say only
    // that writing failed, not how much was lost. (This finalizer runs before the files' own, which then has
    // nothing left to write.)
    yield* Effect.addFinalizer(() =>
      Effect.andThen(
        files.flush,
        Effect.flatMap(files.failures, (failures) =>
          failures === 0
            ? Effect.void
            : Effect.logWarning(`${failures} agent log ${failures === 1 ? "line" : "lines"} could not be written to ${files.dir}`))
      )
    )
  }
  const width = Math.max(0, ...(options.foreground ?? []).map((name) => name.length))
  const layout: LogLayout = { prefix: true, timestamps: false, style: yield* currentStyle }
  // Straight to process.stdout, not through the platform's Console: Console.log queues every line whatever the
  // stream already holds, so a pipe nobody reads would grow this process without limit. `lineWriter` sees when the
  // stream is behind and drops lines (they stay in the LogStore) until it has caught up.
  if (options.foreground !== undefined && process.stdout.isTTY) queueTerminalWrites(process.stdout)
  const show = lineWriter(process.stdout, layout.style)
  const print: LogSink = (lines) =>
    Effect.sync(() =>
      show(lines.flatMap((line) => {
        const rendered = renderLogLine({ ...line, timestamp: DateTime.makeUnsafe(line.timestamp) }, width, layout)
        return rendered === undefined ? [] : [rendered]
      }))
    )
  const sinks = [...(files === undefined ? [] : [files.write]), ...(options.foreground === undefined ? [] : [print])]
  return yield* LogStore.make({ keepLines: options.keepLines, sinks })
})

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
  readonly logsDir: Option.Option<string>
  readonly quiet: boolean
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
  const logsDir = Option.isSome(options.logsDir) ? path.resolve(options.logsDir.value) : settings.logs.dir
  const logs = yield* agentLogs({
    keepLines: settings.logs.keepLines,
    files: logsDir === undefined ? undefined : { dir: logsDir, maxBytes: settings.logs.maxBytes, keep: settings.logs.keep },
    foreground: options.quiet ? undefined : agents.map((agent) => agent.name)
  })
  const orchestrator = Orchestrator.layer({ ...settings, agents })
  const app = commandInterface.pipe(
    Layer.provide(Layer.succeed(CommandInterfaceConfig, settings.commandInterface)),
    Layer.provideMerge(orchestrator),
    Layer.provideMerge(Layer.succeed(LogStore, logs)),
    Layer.provideMerge(EventStore.layer(settings.history, { log: true }))
  )
  const result = yield* Effect.provide(Orchestrator.run, app)
  yield* Effect.logInfo(
    `${result.reason === "finished" ? "every agent has finished" : "shut down"} in ${result.durationMs} ms` +
      (result.forcedKills.length === 0 ? "" : `; killed after their grace period: ${result.forcedKills.join(", ")}`)
  )
  if (result.reason === "finished" && result.failed.length > 0) return yield* new AgentsFailed({ agents: result.failed })
}, Effect.scoped)
