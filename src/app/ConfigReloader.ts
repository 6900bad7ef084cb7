/**
 * `reload` for an orchestrator run from a config file: reads the file again (or another), compares it with the
 * config it runs, and applies the difference through `Orchestrator.reconfigure`. The comparison is made on the
 * config as JSON (defaults filled in, paths resolved against each file's directory), so that a value written
 * differently but meaning the same (`5000` and `"5 seconds"`) is no change, and a relative path in another
 * directory is one.
 */
import { Effect, type FileSystem, Layer, Path, Predicate, Ref, Schema, Semaphore } from "effect"
import { EventCategory, EventStore } from "../events/EventStore.ts"
import { processAgent } from "../orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../orchestrator/Orchestrator.ts"
import type { ProcessAgentConfig } from "../orchestrator/OrchestratorConfig.ts"
import {
  CannotApply,
  ConfigReload,
  InvalidConfig,
  ReloadFailed,
  type ReloadRequest,
  UnreadableConfig
} from "../ports/ConfigReload.ts"
import type { ReloadPlan, SettingChange } from "../protocol/Commands.ts"
import { describeReadFailure } from "../readFailure.ts"
import { OrchestratorSettings, readConfigFile, resolveConfigPaths } from "./ConfigFile.ts"

/** A config as the orchestrator runs it: the file (its agents' paths are relative to it) and its settings. */
export interface LoadedConfig {
  readonly file: string
  readonly settings: OrchestratorSettings
}

/** The settings a reload applies at once; every other one needs a restart of `up`. */
const APPLIED = new Set(["maxWorkers", "agentStopTimeout", "heartbeatInterval"])

/** Longest value a plan shows of a setting (a CURVE principal list can be long). */
const MAX_SHOWN = 200

const encodeSettings = Schema.encodeSync(OrchestratorSettings)

const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? "null"
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text
}

/**
 * Each setting that differs, by path: the top-level ones, and one level into the sections (`history.capacity`,
 * `commandInterface.address`), so that a change is named as precisely as a config file names it.
 */
const settingChanges = (before: Record<string, unknown>, after: Record<string, unknown>): ReadonlyArray<SettingChange> => {
  const changes: Array<SettingChange> = []
  const keys = new Set([...Object.keys(before), ...Object.keys(after)].filter((key) => key !== "agents"))
  for (const key of keys) {
    const from = before[key]
    const to = after[key]
    if (Predicate.isObject(from) && Predicate.isObject(to)) {
      for (const inner of new Set([...Object.keys(from), ...Object.keys(to)])) {
        if (JSON.stringify(from[inner]) !== JSON.stringify(to[inner])) {
          changes.push({ key: `${key}.${inner}`, from: shown(from[inner]), to: shown(to[inner]) })
        }
      }
    } else if (JSON.stringify(from) !== JSON.stringify(to)) {
      changes.push({ key, from: shown(from), to: shown(to) })
    }
  }
  return changes
}

/** An agent's definition as JSON, with its working directory resolved: equal texts run the same agent. */
const agentIdentity = (agent: unknown, config: ProcessAgentConfig, directory: string, path: Path.Path): string =>
  JSON.stringify({ ...(Predicate.isObject(agent) ? agent : {}), cwd: path.resolve(directory, config.cwd ?? ".") })

/** What reloading `next` over `current` would do; `results` is left to the application. */
export const planReload = (current: LoadedConfig, next: LoadedConfig, path: Path.Path): Omit<ReloadPlan, "dryRun" | "results"> => {
  const before = encodeSettings(current.settings)
  const after = encodeSettings(next.settings)
  const identities = (config: LoadedConfig, encoded: typeof before) =>
    new Map(config.settings.agents.map((agent, index) => [
      agent.name,
      agentIdentity(encoded.agents?.[index], agent, path.dirname(config.file), path)
    ]))
  const old = identities(current, before)
  const updated = identities(next, after)
  const names = (keep: (name: string) => boolean, from: Map<string, string>) => [...from.keys()].filter(keep)
  const changes = settingChanges(before, after)
  return {
    config: next.file,
    agents: {
      added: names((name) => !old.has(name), updated),
      removed: names((name) => !updated.has(name), old),
      changed: names((name) => old.has(name) && old.get(name) !== updated.get(name), updated),
      unchanged: names((name) => old.get(name) === updated.get(name), updated)
    },
    settings: changes.filter((change) => APPLIED.has(change.key)),
    needsRestart: changes.filter((change) => !APPLIED.has(change.key))
  }
}

export interface ConfigReloaderOptions {
  /** The config `up` runs, as it runs it (after its command-line overrides). */
  readonly loaded: LoadedConfig
  /** `up`'s command-line overrides (`--max-workers`, `--address`, ...), applied to a reloaded config too. */
  readonly overrides: (settings: OrchestratorSettings) => OrchestratorSettings
}

export const layer = (options: ConfigReloaderOptions) =>
  Layer.effect(
    ConfigReload,
    Effect.gen(function*() {
      const orchestrator = yield* Orchestrator
      const events = yield* EventStore
      const path = yield* Path.Path
      const services = yield* Effect.context<Path.Path | FileSystem.FileSystem>()
      const current = yield* Ref.make(options.loaded)
      // One at a time: a second reload plans against what the first one left.
      const turn = yield* Semaphore.make(1)

      const fail = (reason: InvalidConfig | UnreadableConfig | CannotApply) => new ReloadFailed({ reason })

      const read = (file: string) =>
        readConfigFile(file).pipe(
          Effect.map((settings) => ({ file, settings: options.overrides(resolveConfigPaths(settings, path.dirname(file))) })),
          Effect.catchTags({
            ConfigError: (error) => Effect.fail(fail(new InvalidConfig({ source: error.source, problems: error.problems }))),
            PlatformError: (error) => Effect.fail(fail(new UnreadableConfig({ path: file, detail: describeReadFailure(error) })))
          }),
          Effect.provideContext(services)
        )

      const reload = Effect.fn("ConfigReloader.reload")(function*(request: ReloadRequest) {
        return yield* turn.withPermit(Effect.gen(function*() {
          const running = yield* Ref.get(current)
          const next = yield* read(path.resolve(request.config ?? running.file))
          const plan = planReload(running, next, path)
          if (request.dryRun) return { ...plan, dryRun: true, results: [] } satisfies ReloadPlan
          const directory = path.dirname(next.file)
          const results = yield* orchestrator.reconfigure({
            agents: next.settings.agents.map((agent) => processAgent(agent, directory)),
            changed: plan.agents.changed,
            maxWorkers: next.settings.maxWorkers,
            agentStopTimeout: next.settings.agentStopTimeout,
            heartbeatInterval: next.settings.heartbeatInterval
          }).pipe(
            Effect.catchTags({
              ConfigError: (error) => Effect.fail(fail(new InvalidConfig({ source: next.file, problems: error.problems }))),
              NeedsGuardian: (error) => Effect.fail(fail(new CannotApply({ detail: error.message }))),
              OrchestratorStopping: (error) => Effect.fail(fail(new CannotApply({ detail: error.message })))
            })
          )
          // What runs now: the new agents and the settings applied; the others stay as `up` started with them, so
          // that the next plan still reports them.
          const { agents, maxWorkers, agentStopTimeout, heartbeatInterval } = next.settings
          yield* Ref.set(current, { file: next.file, settings: { ...running.settings, agents, maxWorkers, agentStopTimeout, heartbeatInterval } })
          yield* events.record({
            eventName: "CONFIG_RELOADED",
            category: EventCategory.orchestrator,
            data: {
              config: next.file,
              added: plan.agents.added,
              removed: plan.agents.removed,
              changed: plan.agents.changed,
              settings: plan.settings.map((change) => change.key),
              needs_restart: plan.needsRestart.map((change) => change.key),
              failed: results.filter((result) => result.outcome === "failed").map((result) => result.agent)
            }
          })
          return { ...plan, dryRun: false, results } satisfies ReloadPlan
        }))
      })

      return ConfigReload.of({ reload })
    })
  )
