/**
 * The config file of `orchestrate up`, as a whole: the orchestrator's settings and agents, the event history's
 * and the command interface's, in one schema. It lives here, above both the orchestrator and the server, so that
 * neither has to know the other's settings.
 *
 * Decoding reports every problem with its path (`agents[2].restart: Expected "never" | "on-failure" | "always",
 * got "sometimes"`); unknown keys are errors, so a misspelt setting is never silently ignored. The text of a file
 * is parsed here too, so that no config, however large, deep or malformed, gets further than a `ConfigError`.
 */
import { Effect, FileSystem, Result, Schema } from "effect"
import * as NodePath from "node:path"
import { EventStoreConfig } from "../events/EventStore.ts"
import { LogSettings } from "../logs/LogSettings.ts"
import { messageOf } from "../messageOf.ts"
import { checkAgentGraph, ConfigError, OrchestratorFields } from "../orchestrator/OrchestratorConfig.ts"
import { formatPath, issueLines } from "../protocol/issues.ts"
import { checkJsonLimits } from "../protocol/jsonLimits.ts"
import { CommandInterfaceSettings } from "../server/CommandInterfaceConfig.ts"
import { HttpSettings } from "../server/http/HttpSettings.ts"
import { withDefault } from "../settings.ts"

const { agents, ...orchestrator } = OrchestratorFields

// In the order a config file is usually written, which is the order its problems are reported in.
export const OrchestratorSettings = Schema.Struct({
  ...orchestrator,
  history: withDefault(EventStoreConfig, {}),
  logs: withDefault(LogSettings, {}),
  commandInterface: withDefault(CommandInterfaceSettings, {}),
  http: withDefault(HttpSettings, {}),
  agents
})
export type OrchestratorSettings = typeof OrchestratorSettings.Type

const decodeSettings = Schema.decodeUnknownResult(OrchestratorSettings)

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
    return fail(source, `not valid JSON: ${messageOf(error)}`)
  }
  return parseSettings(json, source)
}


/** Reads and decodes a config file: a `ConfigError` for what it holds, a `PlatformError` if it cannot be read. */
export const readConfigFile = Effect.fnUntraced(function*(path: string) {
  const fs = yield* FileSystem.FileSystem
  // Sized before it is read, so that a huge file is refused at once instead of filling memory. A pipe has no
  // size: what comes from one is refused after it is read, if it is too large.
  const info = yield* fs.stat(path)
  yield* Effect.fromResult(checkConfigSize(Number(info.size), path))
  const text = yield* fs.readFileString(path)
  return yield* Effect.fromResult(parseConfigText(text, path))
})

/** The files a config names are found relative to the config file's directory, wherever `up` runs from. */
export const resolveConfigPaths = (settings: OrchestratorSettings, directory: string): OrchestratorSettings => {
  const { curve, auditFile } = settings.commandInterface
  const { tls } = settings.http
  return {
    ...settings,
    logs: { ...settings.logs, ...(settings.logs.dir === undefined ? {} : { dir: NodePath.resolve(directory, settings.logs.dir) }) },
    commandInterface: {
      ...settings.commandInterface,
      ...(curve === undefined ? {} : { curve: { ...curve, keyFile: NodePath.resolve(directory, curve.keyFile) } }),
      ...(auditFile === undefined ? {} : { auditFile: NodePath.resolve(directory, auditFile) })
    },
    http: tls === undefined ? settings.http : {
      ...settings.http,
      tls: { certFile: NodePath.resolve(directory, tls.certFile), keyFile: NodePath.resolve(directory, tls.keyFile) }
    }
  }
}
