/**
 * The orchestrator's settings and its process agents, as a JSON config file holds them. Decoding reports every
 * problem with its path (`agents[2].restart: Expected "never" | "on-failure" | "always", got "sometimes"`);
 * unknown keys are errors, so a misspelt setting is never silently ignored.
 */
import { Duration, Result, Schema } from "effect"
import { EventStoreConfig } from "../events/EventStore.ts"
import { issueLines } from "../protocol/issues.ts"
import { RestartPolicy, RunMode } from "../protocol/Model.ts"
import { CommandInterfaceSettings } from "../server/CommandInterfaceConfig.ts"
import { DurationSetting, withDefault } from "../settings.ts"
import { describeGraphProblem, type GraphProblem, startOrder } from "./graph.ts"

const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export const AgentName = Schema.String.check(
  Schema.makeFilter((name: string) =>
    AGENT_NAME.test(name) ||
    `expected an agent name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got ${JSON.stringify(name)}`
  )
)

const RegexSource = Schema.String.check(
  Schema.makeFilter((source: string) => {
    try {
      new RegExp(source)
      return true
    } catch (error) {
      return `expected a regular expression: ${error instanceof Error ? error.message : String(error)}`
    }
  })
)

/** Delays between restarts: `initial`, multiplied by `factor` after each failure, capped at `max`. */
export const Backoff = Schema.Struct({
  initial: withDefault(DurationSetting, 1000),
  max: withDefault(DurationSetting, 30_000),
  factor: withDefault(Schema.Finite.check(Schema.isBetween({ minimum: 1, maximum: 10 })), 2),
  /** An agent that ran at least this long before exiting starts its backoff and restart count afresh. */
  resetAfter: withDefault(DurationSetting, 60_000)
})
export type Backoff = typeof Backoff.Type

/** How an agent is restarted; shared by process and Effect agents. */
export const RestartSettings = {
  restart: withDefault(RestartPolicy, "never"),
  /** Consecutive restarts allowed before the agent is left failed. */
  maxRestarts: withDefault(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000 })), 5),
  backoff: withDefault(Backoff, {}),
  dependsOn: withDefault(Schema.Array(AgentName), []),
  /** Grace period between SIGTERM (or interruption) and SIGKILL; defaults to the orchestrator's `agentStopTimeout`. */
  stopTimeout: Schema.optionalKey(DurationSetting)
}

export const ProcessAgentConfig = Schema.Struct({
  name: AgentName,
  command: Schema.String.check(Schema.isNonEmpty()),
  args: withDefault(Schema.Array(Schema.String), []),
  /** Relative to the config file's directory; defaults to it. */
  cwd: Schema.optionalKey(Schema.String),
  /** Added to the orchestrator's own environment. */
  env: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  /** A regular expression; the agent is ready when a line of its output matches. Without it, ready on start. */
  readyLine: Schema.optionalKey(RegexSource),
  ...RestartSettings
})
export type ProcessAgentConfig = typeof ProcessAgentConfig.Type

export const OrchestratorSettings = Schema.Struct({
  /** Most agents running at once; the rest wait queued. */
  maxWorkers: withDefault(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100_000 })), 16),
  /** `daemon` runs until shut down; `until-done` ends when every agent has finished. */
  runMode: withDefault(RunMode, "daemon"),
  agentStopTimeout: withDefault(DurationSetting, 5000),
  /** How often a process agent's liveness is probed (each success is a heartbeat). */
  heartbeatInterval: withDefault(DurationSetting, 5000),
  history: withDefault(EventStoreConfig, {}),
  commandInterface: withDefault(CommandInterfaceSettings, {}),
  agents: withDefault(Schema.Array(ProcessAgentConfig), [])
})
export type OrchestratorSettings = typeof OrchestratorSettings.Type

/** A config that cannot be run, with every problem found, one per line. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  source: Schema.String,
  problems: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `invalid config ${this.source}:\n${this.problems.map((problem) => `  ${problem}`).join("\n")}`
  }
}

const decodeSettings = Schema.decodeUnknownResult(OrchestratorSettings)

/** Where a graph problem is, as a config path. */
const graphProblemPath = (
  problem: GraphProblem,
  agents: ReadonlyArray<{ readonly name: string; readonly dependsOn: ReadonlyArray<string> }>
): string => {
  const at = (name: string) => agents.findIndex((agent) => agent.name === name)
  switch (problem._tag) {
    case "UnknownDependency": {
      const index = at(problem.agent)
      const dependency = agents[index]?.dependsOn.indexOf(problem.dependency) ?? -1
      return `agents[${index}].dependsOn[${dependency}]: ${describeGraphProblem(problem)}`
    }
    case "DuplicateAgent":
      return `agents[${agents.map((agent) => agent.name).lastIndexOf(problem.agent)}].name: ${describeGraphProblem(problem)}`
    case "Cycle":
      return `agents: ${describeGraphProblem(problem)}`
  }
}

/** Checks what a schema cannot: unique names, dependencies that exist, and no cycles. */
export const checkAgentGraph = (
  agents: ReadonlyArray<{ readonly name: string; readonly dependsOn: ReadonlyArray<string> }>
): ReadonlyArray<string> => {
  const order = startOrder(agents.map((agent) => ({ name: agent.name, dependencies: agent.dependsOn })))
  return Result.isFailure(order) ? [graphProblemPath(order.failure, agents)] : []
}

/** Decodes a parsed config file, reporting every problem with its path. */
export const parseSettings = (input: unknown, source: string): Result.Result<OrchestratorSettings, ConfigError> => {
  const decoded = decodeSettings(input, { errors: "all", onExcessProperty: "error", reportInput: true })
  if (Result.isFailure(decoded)) {
    return Result.fail(new ConfigError({ source, problems: issueLines(decoded.failure) }))
  }
  const problems = checkAgentGraph(decoded.success.agents)
  return problems.length > 0 ? Result.fail(new ConfigError({ source, problems })) : Result.succeed(decoded.success)
}

export const millis = Duration.toMillis
