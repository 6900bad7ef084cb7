/**
 * The orchestrator's settings and its process agents, as a JSON config file holds them. Decoding reports every
 * problem with its path (`agents[2].restart: Expected "never" | "on-failure" | "always", got "sometimes"`);
 * unknown keys are errors, so a misspelt setting is never silently ignored. Every number has bounds, and the text
 * of a config file is parsed here too, so that no config, however large, deep or malformed, gets further than a
 * `ConfigError`.
 */
import { Duration, Result, Schema } from "effect"
import { EventStoreConfig } from "../events/EventStore.ts"
import { formatPath, issueLines } from "../protocol/issues.ts"
import { checkJsonLimits } from "../protocol/jsonLimits.ts"
import { RestartPolicy, RunMode } from "../protocol/Model.ts"
import { CommandInterfaceSettings } from "../server/CommandInterfaceConfig.ts"
import { describeDuration, durationBetween, intBetween, numberBetween, withDefault } from "../settings.ts"
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

/** How an agent is restarted; shared by process and Effect agents. */
export const RestartSettings = {
  restart: withDefault(RestartPolicy, "never"),
  /** Consecutive restarts allowed before the agent is left failed. */
  maxRestarts: withDefault(intBetween(0, 1_000_000), 5),
  backoff: withDefault(Backoff, {}),
  dependsOn: withDefault(Schema.Array(AgentName), []),
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
  ...RestartSettings
})
export type ProcessAgentConfig = typeof ProcessAgentConfig.Type

/** Most agents running at once; exported so that `up --max-workers` can be held to the same bounds. */
export const MaxWorkers = intBetween(1, 100_000)

export const OrchestratorSettings = Schema.Struct({
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

/**
 * Deepest nesting a config may have. The deepest real one, `commandInterface.curve.principals[0].agents`, is 6
 * levels; past this a file is generated wrongly or hostile, and decoding would recurse once per level.
 */
export const MAX_CONFIG_DEPTH = 32

/**
 * Most JSON values a config may hold (objects, arrays and scalars). Decoding makes an issue per bad value and
 * reports them all: a quarter of a million bad ones take about a second and 400 MB; the 4 million an 8 MiB file
 * can hold took 12 s and 2.5 GB, and a 16 MiB one ran Node out of heap. A config of 10,000 agents fits.
 */
export const MAX_CONFIG_VALUES = 250_000

/** Larger config files are refused without being read: a real one is a few kilobytes. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024

const fail = (source: string, problem: string) => Result.fail(new ConfigError({ source, problems: [problem] }))

const sizeProblem = (size: string) => `${size}; a config may be at most 16 MiB (${MAX_CONFIG_BYTES} bytes)`

/** Refuses a config file of `bytes` bytes, if it is over the limit, before anything reads it. */
export const checkConfigSize = (bytes: number, source: string): Result.Result<void, ConfigError> =>
  bytes > MAX_CONFIG_BYTES ? fail(source, sizeProblem(`the file is ${bytes} bytes`)) : Result.void

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "string" ? "a string" : `a ${typeof value}`

/** A path of a few segments at most: the start of a too-deep path is enough to find it, and keys may be huge. */
const shortPath = (path: ReadonlyArray<PropertyKey>): string => {
  const shown = formatPath("", path.slice(0, 4))
  return shown.length > 80 || path.length > 4 ? `${shown.slice(0, 80)}…` : shown
}

/** Decodes a parsed config file, reporting every problem with its path. */
export const parseSettings = (input: unknown, source: string): Result.Result<OrchestratorSettings, ConfigError> => {
  // Before decoding, which recurses once per level (100,000 levels overflowed the stack) and makes an issue per
  // bad value.
  const limit = checkJsonLimits(input, { maxDepth: MAX_CONFIG_DEPTH, maxValues: MAX_CONFIG_VALUES })
  if (limit?._tag === "TooDeep") return fail(source, `${shortPath(limit.path)}: nested deeper than ${MAX_CONFIG_DEPTH} levels`)
  if (limit?._tag === "TooManyValues") {
    return fail(
      source,
      `(root): more than ${MAX_CONFIG_VALUES} JSON values (objects, arrays, strings, numbers, …); a config may hold at most ${MAX_CONFIG_VALUES}`
    )
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return fail(source, `(root): expected an object of settings, got ${kindOf(input)}`)
  }
  const decoded = decodeSettings(input, { errors: "all", onExcessProperty: "error", reportInput: true })
  if (Result.isFailure(decoded)) {
    return Result.fail(new ConfigError({ source, problems: issueLines(decoded.failure) }))
  }
  const problems = checkAgentGraph(decoded.success.agents)
  return problems.length > 0 ? Result.fail(new ConfigError({ source, problems })) : Result.succeed(decoded.success)
}

/** Parses and decodes the text of a config file (`source` names it in errors): the one way a config is read. */
export const parseConfigText = (text: string, source: string): Result.Result<OrchestratorSettings, ConfigError> => {
  // A string has at most as many UTF-16 units as its UTF-8 bytes, so this refuses only what is over the limit.
  if (text.length > MAX_CONFIG_BYTES) return fail(source, sizeProblem(`the text is ${text.length} characters`))
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return fail(source, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  return parseSettings(json, source)
}

export const millis = Duration.toMillis
