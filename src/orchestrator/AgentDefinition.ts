/**
 * Agent definitions as the orchestrator runs them: process agents (from a config file or code) and Effect agents
 * (from code). Both share the restart and dependency settings.
 */
import { Duration, type Effect, Schema } from "effect"
import * as Path from "node:path"
import type { RestartPolicy } from "../protocol/Model.ts"
import type { AgentContext } from "./AgentContext.ts"
import { Backoff, type ProcessAgentConfig } from "./OrchestratorConfig.ts"
import { type Dependency, type DependencyInput, toDependency } from "./dependencies.ts"
import { lineProbe, type Probe, probeFrom } from "./Probe.ts"

interface AgentCommon {
  readonly name: string
  /** The names of the agent's dependencies, in order; `dependencies` has each one's edge. */
  readonly dependsOn: ReadonlyArray<string>
  /** Each dependency's condition and restart setting, in `dependsOn` order. */
  readonly dependencies: ReadonlyArray<Dependency>
  readonly restart: RestartPolicy
  readonly maxRestarts: number
  readonly backoff: Backoff
  /** Grace period before a forced stop; the orchestrator's `agentStopTimeout` when absent. */
  readonly stopTimeout: Duration.Duration | undefined
  /** Until it passes, the agent is `starting` (not ready); later failures make it unready. */
  readonly readiness: Probe | undefined
  /** Failing, the agent is killed and restarted as its policy says. */
  readonly liveness: Probe | undefined
}

export interface ProcessAgent extends AgentCommon {
  readonly _tag: "ProcessAgent"
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>> | undefined
}

export interface EffectAgent<R = never> extends AgentCommon {
  readonly _tag: "EffectAgent"
  readonly run: Effect.Effect<void, unknown, AgentContext | R>
  /** When true the agent is running only once it calls `AgentContext.ready`; otherwise as soon as it starts. */
  readonly signalsReady: boolean
}

export type AgentDefinition<R = never> = ProcessAgent | EffectAgent<R>

const dependenciesFrom = (entries: ReadonlyArray<DependencyInput>) => {
  const dependencies = entries.map(toDependency)
  return { dependsOn: dependencies.map((edge) => edge.agent), dependencies }
}

const defaultBackoff: Backoff = Schema.decodeUnknownSync(Backoff)({})

/** A process agent from its config entry; relative paths are resolved against `baseDir`. */
export const processAgent = (config: ProcessAgentConfig, baseDir: string): ProcessAgent => ({
  _tag: "ProcessAgent",
  name: config.name,
  command: config.command,
  args: config.args,
  cwd: config.cwd === undefined ? baseDir : Path.resolve(baseDir, config.cwd),
  env: config.env,
  // `readyLine` is shorthand for a `line` readiness probe (the config refuses both at once).
  readiness: config.readiness !== undefined
    ? probeFrom(config.readiness)
    : config.readyLine === undefined
    ? undefined
    : lineProbe(new RegExp(config.readyLine)),
  liveness: config.liveness === undefined ? undefined : probeFrom(config.liveness),
  ...dependenciesFrom(config.dependsOn),
  restart: config.restart,
  maxRestarts: config.maxRestarts,
  backoff: config.backoff,
  stopTimeout: config.stopTimeout
})

export interface EffectAgentOptions<R> {
  readonly name: string
  readonly run: Effect.Effect<void, unknown, AgentContext | R>
  /** Names (the dependency must be ready), or edges with a condition and a restart setting. */
  readonly dependsOn?: ReadonlyArray<DependencyInput>
  readonly restart?: RestartPolicy
  readonly maxRestarts?: number
  readonly backoff?: Partial<{ readonly [K in keyof Backoff]: K extends "factor" ? number : Duration.Input }>
  readonly stopTimeout?: Duration.Input
  readonly signalsReady?: boolean
  /** Probes, as for a process agent: `exec` runs in the orchestrator's directory, `line` reads the agent's logs. */
  readonly readiness?: Probe
  readonly liveness?: Probe
}

/**
 * An agent that runs an Effect program in a fiber. The orchestrator provides `AgentContext`; anything else the
 * program needs (`R`) must be provided to the orchestrator's layer.
 */
export const effectAgent = <R = never>(options: EffectAgentOptions<R>): EffectAgent<R> => ({
  _tag: "EffectAgent",
  name: options.name,
  run: options.run,
  ...dependenciesFrom(options.dependsOn ?? []),
  restart: options.restart ?? "never",
  maxRestarts: options.maxRestarts ?? 5,
  backoff: {
    initial: Duration.fromInputUnsafe(options.backoff?.initial ?? defaultBackoff.initial),
    max: Duration.fromInputUnsafe(options.backoff?.max ?? defaultBackoff.max),
    factor: options.backoff?.factor ?? defaultBackoff.factor,
    resetAfter: Duration.fromInputUnsafe(options.backoff?.resetAfter ?? defaultBackoff.resetAfter)
  },
  stopTimeout: options.stopTimeout === undefined ? undefined : Duration.fromInputUnsafe(options.stopTimeout),
  signalsReady: options.signalsReady ?? false,
  readiness: options.readiness,
  liveness: options.liveness
})
