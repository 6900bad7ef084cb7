/**
 * The orchestrator's settings and its process agents, as a JSON config file holds them (the file as a whole,
 * with the other parts' settings, is app/ConfigFile.ts). Every number has bounds, with a message by path.
 */
import { Duration, Schema } from "effect"
import { DependencyCondition, RestartPolicy, RunMode } from "../protocol/Model.ts"
import { describeDuration, durationBetween, intBetween, numberBetween, withDefault } from "../settings.ts"
import { describeGraphProblem, type GraphProblem, graphProblems } from "./graph.ts"
import { type DependencyInput, dependencyName } from "./dependencies.ts"
import { ProbeConfig, RegexSource } from "./Probe.ts"

const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export const AgentName = Schema.String.check(
  Schema.makeFilter((name: string) =>
    AGENT_NAME.test(name) ||
    `expected an agent name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got ${JSON.stringify(name)}`
  )
)

/**
 * Grace period between SIGTERM and SIGKILL. 0 kills at once; an hour covers the slowest clean shutdown of a large
 * database, and a longer grace would hold `stop` and shutdown up for longer than anyone waits for them.
 */
const StopTimeout = durationBetween(0, "1 hour")

const DEFAULT_BACKOFF_MAX = 30_000

/** A delay between restarts: 0 restarts at once (the crash loop is still bounded by `maxRestarts`). */
const BackoffDelay = durationBetween(0, "1 hour")

/** Delays between restarts: `initial`, multiplied by `factor` after each failure, capped at `max`. */
export const Backoff = Schema.Struct({
  initial: withDefault(BackoffDelay, 1000),
  max: withDefault(BackoffDelay, DEFAULT_BACKOFF_MAX),
  factor: withDefault(numberBetween(1, 10), 2),
  /**
   * An agent that ran at least this long before exiting starts its backoff and restart count afresh. At least a
   * second, so that a process crashing as it starts is always counted against `maxRestarts`: below that, with an
   * `initial` of 0, it would be restarted in a tight loop forever.
   */
  resetAfter: withDefault(durationBetween("1 second", "1 day"), 60_000)
}).check(
  Schema.makeFilter((backoff) =>
    Duration.isGreaterThanOrEqualTo(backoff.max, backoff.initial) || {
      path: ["max"],
      issue: `expected at least initial (${describeDuration(backoff.initial)}), got ${describeDuration(backoff.max)}` +
        // A max the file did not set is its default, which the message would otherwise leave unexplained.
        (Duration.toMillis(backoff.max) === DEFAULT_BACKOFF_MAX ? ` (max defaults to ${describeDuration(backoff.max)})` : "")
    }
  )
)
export type Backoff = typeof Backoff.Type

/**
 * A `dependsOn` entry: an agent's name (it must be ready), or an edge with a condition, as in Compose's
 * `depends_on`. `restart: true` restarts the dependent whenever the dependency is restarted.
 */
export const DependencyEdgeConfig = Schema.Struct({
  agent: AgentName,
  condition: withDefault(DependencyCondition, "ready"),
  restart: withDefault(Schema.Boolean, false)
})
export const DependsOnEntry = Schema.Union([AgentName, DependencyEdgeConfig])
export type DependsOnEntry = typeof DependsOnEntry.Type

/** How an agent is restarted; shared by process and Effect agents. */
export const RestartSettings = {
  restart: withDefault(RestartPolicy, "never"),
  /** Consecutive restarts allowed before the agent is left failed. */
  maxRestarts: withDefault(intBetween(0, 1_000_000), 5),
  backoff: withDefault(Backoff, {}),
  dependsOn: withDefault(Schema.Array(DependsOnEntry), []),
  /** Grace period between SIGTERM (or interruption) and SIGKILL; defaults to the orchestrator's `agentStopTimeout`. */
  stopTimeout: Schema.optionalKey(StopTimeout)
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
  /** Until it passes, the agent is `starting` and its dependents wait; failing later makes it unready. */
  readiness: Schema.optionalKey(ProbeConfig),
  /** Failing `failureThreshold` times in a row, the agent is killed and restarted as its policy says. */
  liveness: Schema.optionalKey(ProbeConfig),
  ...RestartSettings
}).check(
  Schema.makeFilter((agent) =>
    agent.readyLine === undefined || agent.readiness === undefined || {
      path: ["readyLine"],
      issue: "readyLine is a shorthand for a readiness probe { \"line\": ... }: give readyLine or readiness, not both"
    }
  )
)
export type ProcessAgentConfig = typeof ProcessAgentConfig.Type

/** Most agents running at once; exported so that `up --max-workers` can be held to the same bounds. */
export const MaxWorkers = intBetween(1, 100_000)

/** The orchestrator's own settings, as a config file's top level holds them beside the other parts' settings. */
export const OrchestratorFields = {
  /** Most agents running at once; the rest wait queued. */
  maxWorkers: withDefault(MaxWorkers, 16),
  /** `daemon` runs until shut down; `until-done` ends when every agent has finished. */
  runMode: withDefault(RunMode, "daemon"),
  agentStopTimeout: withDefault(StopTimeout, 5000),
  /**
   * How often a process agent's liveness is probed (each success is a heartbeat). At 0 an idle orchestrator spun
   * at 100% CPU recording about 65,000 heartbeats a second. 100 ms is already far more often than a liveness
   * probe needs; past an hour, an agent's `last_heartbeat` tells an operator nothing.
   */
  heartbeatInterval: withDefault(durationBetween("100 millis", "1 hour"), 5000),
  agents: withDefault(Schema.Array(ProcessAgentConfig), [])
}

/** A config that cannot be run, with every problem found, one per line. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  source: Schema.String,
  problems: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `invalid config ${this.source}:\n${this.problems.map((problem) => `  ${problem}`).join("\n")}`
  }
}

/** Where a graph problem is, as a config path. */
const graphProblemPath = (
  problem: GraphProblem,
  agents: ReadonlyArray<{ readonly name: string; readonly dependsOn: ReadonlyArray<DependencyInput> }>
): string => {
  switch (problem._tag) {
    case "UnknownDependency": {
      const index = problem.index
      const entries = agents[index]?.dependsOn ?? []
      const dependency = entries.findIndex((entry) => dependencyName(entry) === problem.dependency)
      // An edge written as an object names its dependency in `agent`.
      const key = typeof entries[dependency] === "object" ? ".agent" : ""
      return `agents[${index}].dependsOn[${dependency}]${key}: ${describeGraphProblem(problem)}`
    }
    case "DuplicateAgent":
      return `agents[${problem.index}].name: ${describeGraphProblem(problem)}`
    case "Cycle":
      return `agents: ${describeGraphProblem(problem)}`
  }
}

/** Checks what a schema cannot: unique names, dependencies that exist, and no cycles. */
export const checkAgentGraph = (
  agents: ReadonlyArray<{ readonly name: string; readonly dependsOn: ReadonlyArray<DependencyInput> }>
): ReadonlyArray<string> => {
  const problems = graphProblems(agents.map((agent) => ({ name: agent.name, dependencies: agent.dependsOn.map(dependencyName) })))
  return problems.map((problem) => graphProblemPath(problem, agents))
}

export const millis = Duration.toMillis
