/**
 * What `orchestrate up` does. Loaded only when `up` runs, so that the other commands never load the
 * orchestrator, the server or the process machinery.
 */
import { Clock, Effect, Layer, Option, Path, Schema } from "effect"
import { countingEvents, countLines } from "../../server/metrics/StoreMetrics.ts"
import * as NodePath from "node:path"
import { EventStore } from "../../events/EventStore.ts"
import { LogFiles, type LogFilesConfig } from "../../logs/LogFiles.ts"
import { type LogSink, LogStore } from "../../logs/LogStore.ts"
import { batchPrinter, type LogLayout } from "../logLines.ts"
import { currentStyle } from "../output.ts"
import { processAgent } from "../../orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../orchestrator/Orchestrator.ts"
import { type OrchestratorSettings, readConfigFile, resolveConfigPaths } from "../../app/ConfigFile.ts"
import * as ConfigReloader from "../../app/ConfigReloader.ts"
import * as Telemetry from "../../app/Telemetry.ts"
import { isCommandName } from "../../protocol/Commands.ts"
import { HttpConfig } from "../../server/http/HttpSettings.ts"
import { layer as commandInterface } from "../../server/Transports.ts"
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

const readSettings = (path: string) =>
  readConfigFile(path).pipe(
    Effect.catchTag("PlatformError", (cause) => Effect.fail(new UsageError({ reason: new UnreadableConfig({ path, cause }) })))
  )

/** `up`'s command-line settings over the config's: applied to the config it starts with, and to each reload. */
const withOverrides = (
  overrides: {
    readonly address: Option.Option<string>
    readonly allowed: AllowedCommands | undefined
    readonly maxWorkers: Option.Option<number>
    readonly logsDir: Option.Option<string>
    readonly http: Option.Option<string>
  }
) =>
(settings: OrchestratorSettings): OrchestratorSettings => {
  const { allowed } = overrides
  // Naming where to listen, or what to allow, asks for the interface: it is switched on.
  const enable = Option.isSome(overrides.address) || allowed !== undefined
  return {
    ...settings,
    maxWorkers: Option.getOrElse(overrides.maxWorkers, () => settings.maxWorkers),
    logs: Option.isSome(overrides.logsDir) ? { ...settings.logs, dir: overrides.logsDir.value } : settings.logs,
    commandInterface: {
      ...settings.commandInterface,
      ...(enable ? { enableCommandInterface: true } : {}),
      ...(Option.isSome(overrides.address) ? { commandAddress: overrides.address.value } : {}),
      ...(allowed === undefined ? {} : { allowedCommands: allowed })
    },
    // As with --address: naming where HTTP listens switches it on.
    http: Option.isSome(overrides.http) ? { ...settings.http, enabled: true, address: overrides.http.value } : settings.http
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
 * agent's name, unless `up` runs quiet. Only here: lines are never logged, so none is ever printed twice. (Exported
 * for benchmark 8, which measures the agents' lines as `up` keeps them.)
 */
export const agentLogs = Effect.fnUntraced(function*(options: {
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
  const show = batchPrinter(process.stdout, width, layout)
  const print: LogSink = (batches) => {
    show(batches)
    return undefined
  }
  const sinks = [...(files === undefined ? [] : [files.writeUnsafe]), ...(options.foreground === undefined ? [] : [print]), countLines]
  return yield* LogStore.make({ keepLines: options.keepLines, sinks })
})

/** Says which signal began a graceful shutdown (runMain turns it into the interruption that does the work). */
const logShutdownSignal = Effect.gen(function*() {
  const services = yield* Effect.context<never>()
  let logged = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (logged) return
    logged = true
    // At once, not forked, and before runMain's own listener (prepended): the shutdown that one begins logs too, and
    // this line says why it began.
    Effect.runSyncWith(services)(Effect.logWarning(`received ${signal}: shutting down gracefully (a second signal kills every agent at once)`))
  }
  yield* Effect.acquireRelease(
    Effect.sync(() => SHUTDOWN_SIGNALS.forEach((signal) => process.prependListener(signal, onSignal))),
    () => Effect.sync(() => SHUTDOWN_SIGNALS.forEach((signal) => process.off(signal, onSignal)))
  )
})

const runOrchestrator = Effect.fnUntraced(function*(options: {
  readonly config: Option.Option<string>
  readonly address: Option.Option<string>
  readonly allow: Option.Option<string>
  readonly maxWorkers: Option.Option<number>
  readonly logsDir: Option.Option<string>
  readonly http: Option.Option<string>
  readonly quiet: boolean
}, telemetry: Telemetry.TelemetrySettings | undefined) {
  const path = yield* Path.Path
  const file = path.resolve(Option.getOrElse(options.config, demoConfig))
  const overrides = withOverrides({
    address: options.address,
    allowed: Option.isSome(options.allow) ? yield* parseAllow(options.allow.value) : undefined,
    maxWorkers: options.maxWorkers,
    logsDir: Option.map(options.logsDir, (dir) => path.resolve(dir)),
    http: options.http
  })
  const settings = overrides(resolveConfigPaths(yield* readSettings(file), path.dirname(file)))
  const agents = settings.agents.map((agent) => processAgent(agent, path.dirname(file)))

  yield* Effect.logInfo(`starting ${agents.length} ${agents.length === 1 ? "agent" : "agents"} from ${file} (${settings.runMode}, ${settings.maxWorkers} workers)`)
  if (settings.runMode === "daemon" && agents.length > settings.maxWorkers) {
    yield* Effect.logWarning(`${agents.length} agents but ${settings.maxWorkers} workers: the rest wait queued until a slot frees`)
  }
  if (!settings.commandInterface.enableCommandInterface) {
    yield* Effect.logInfo(
      settings.http.enabled
        ? "the ZeroMQ command interface is disabled, so the CLI cannot reach this orchestrator; commands are served over HTTP only (enable ZeroMQ with commandInterface.enabled in the config, or --address)"
        : "command interface disabled (enable it with commandInterface.enabled in the config, or --address)"
    )
  }

  yield* logShutdownSignal
  const logsDir = settings.logs.dir
  const logs = yield* agentLogs({
    keepLines: settings.logs.keepLines,
    files: logsDir === undefined ? undefined : {
      dir: logsDir,
      maxBytes: settings.logs.maxBytes,
      keep: settings.logs.keep,
      flushTimeout: settings.logs.flushTimeout
    },
    foreground: options.quiet ? undefined : agents.map((agent) => agent.name)
  })
  // With a guardian whatever the config holds: a reload may add process agents.
  const orchestrator = Orchestrator.layer({ ...settings, agents, guardian: true })
  const app = commandInterface.pipe(
    Layer.provide(Layer.succeed(CommandInterfaceConfig, settings.commandInterface)),
    Layer.provide(Layer.succeed(HttpConfig, settings.http)),
    Layer.provide(ConfigReloader.layer({ loaded: { file, settings }, overrides })),
    Layer.merge(telemetry === undefined ? Layer.empty : Telemetry.agentMetrics(telemetry)),
    Layer.provideMerge(orchestrator),
    Layer.provideMerge(Layer.succeed(LogStore, logs)),
    Layer.provideMerge(Layer.effect(EventStore, EventStore.useSync(countingEvents)).pipe(
      Layer.provide(EventStore.layer(settings.history, { log: true }))
    ))
  )
  const began = yield* Clock.currentTimeMillis
  const result = yield* Effect.provide(Orchestrator.run, app)
  // The report's duration is the shutdown's: after a finished run, it says how long the run took instead.
  const ranMs = (yield* Clock.currentTimeMillis) - began
  yield* Effect.logInfo(
    (result.reason === "finished" ? `every agent has finished, ${ranMs} ms after the start` : `shut down in ${result.durationMs} ms`) +
      (result.forcedKills.length === 0 ? "" : `; killed after their grace period: ${result.forcedKills.join(", ")}`)
  )
  if (result.reason === "finished" && result.failed.length > 0) return yield* new AgentsFailed({ agents: result.failed })
}, Effect.scoped)

/**
 * The orchestrator within OpenTelemetry export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (a malformed `OTEL_*`
 * variable is a config error, before anything starts): its exporters are in place before the first log line and
 * flush after the last, once every agent has stopped.
 */
export const runUp = (options: Parameters<typeof runOrchestrator>[0]) =>
  Effect.flatMap(Telemetry.otelEnvironment(), (telemetry) =>
    telemetry === undefined
      ? runOrchestrator(options, undefined)
      : Effect.provide(runOrchestrator(options, telemetry), Telemetry.layer(telemetry)))
