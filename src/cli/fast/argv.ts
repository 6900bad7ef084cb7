/**
 * Which invocations the fast path takes, read from the command line and the environment alone: a read command
 * (`ps`, `status`, `stats`, `history`, `logs`, `commands`, `whoami`) with the shared flags and that command's
 * common flags, each in a form whose meaning to effect/cli's parser is certain. Anything else is `undefined`, and
 * the full CLI runs: `--help`, `--version`, `--watch`, `--follow`, `--wait`, `--all-contexts`, an unknown or
 * repeated flag, a value that does not parse (`--timeout abc`, `--limit 0`), a value that starts with `-`, a
 * boolean flag followed by `true` or `no` (which the parser would take as its value), `--`. So a usage error is
 * always the full CLI's own, word for word: this parser never reports one.
 */
import { parseAddress } from "../../protocol/endpoint.ts"
import { isContextName } from "../contexts/contextRules.ts"
import type { HistoryFilters } from "../commands/historyRender.ts"
import { MAX_TIMEOUT_SECONDS } from "../defaults.ts"

/** What the shared flags (and their variables) say; each undefined when not given. */
export interface SharedFlags {
  readonly address: string | undefined
  readonly context: string | undefined
  readonly serverKey: string | undefined
  readonly clientKey: string | undefined
  readonly json: boolean
  /** `--timeout` in milliseconds. */
  readonly timeoutMillis: number | undefined
}

export interface LogsFlags {
  readonly agents: ReadonlyArray<string>
  readonly lines: number
  readonly since: string | undefined
  readonly stream: "stdout" | "stderr" | undefined
  readonly timestamps: boolean
  readonly prefix: boolean
}

export type Invocation =
  | { readonly command: "ps" | "stats" | "commands" | "whoami"; readonly shared: SharedFlags }
  | { readonly command: "status"; readonly shared: SharedFlags; readonly agent: string | undefined }
  | { readonly command: "history"; readonly shared: SharedFlags; readonly filters: HistoryFilters }
  | { readonly command: "logs"; readonly shared: SharedFlags; readonly logs: LogsFlags }

export type ReadCommand = Invocation["command"]

type Environment = Readonly<Record<string, string | undefined>>

/** What effect/cli's parser reads as the value of a boolean flag given just before it (`--json true`). */
const BOOLEAN_LITERAL = /^(?:true|yes|on|1|y|false|no|off|0|n)$/i

const POSITIVE = /^[1-9]\d{0,14}$/
const NATURAL = /^(?:0|[1-9]\d{0,14})$/
const SECONDS = /^(?:0|[1-9]\d{0,8})(?:\.\d{1,9})?$/

/** The flag value types: each turns the text into its value, or undefined when it is not certainly valid. */
const text = (value: string): string | undefined => value.length > 0 ? value : undefined
const positive = (value: string): number | undefined => POSITIVE.test(value) ? Number(value) : undefined
const natural = (value: string): number | undefined => NATURAL.test(value) ? Number(value) : undefined
const oneOf = <const A extends string>(choices: ReadonlyArray<A>) => (value: string): A | undefined =>
  choices.find((choice) => choice === value)
const address = (value: string): string | undefined => parseAddress(value) === undefined ? undefined : value
const contextName = (value: string): string | undefined => isContextName(value) ? value : undefined
/**
 * Seconds as a whole number of milliseconds, as `Duration.seconds` makes of them: a fraction of a millisecond would
 * be formatted with nanoseconds in `no answer within ...`, which the fast path leaves to the full CLI.
 */
const timeoutMillis = (value: string): number | undefined => {
  if (!SECONDS.test(value)) return undefined
  const millis = Number(value) * 1000
  return millis > 0 && millis <= MAX_TIMEOUT_SECONDS * 1000 && Number.isInteger(millis) ? millis : undefined
}
/** An agent name as the `status` and `logs` arguments' schemas take it: 1 to 128 characters. */
const agentName = (value: string): string | undefined => value.length >= 1 && value.length <= 128 ? value : undefined

type ValueType = (value: string) => string | number | undefined

interface FlagSpecs {
  /** Flags taking a value, by the names the command line uses (`--limit`, `-n`). */
  readonly values: Readonly<Record<string, { readonly key: string; readonly type: ValueType }>>
  /** Boolean flags: the name that sets them, and the one that clears them. */
  readonly booleans: Readonly<Record<string, { readonly key: string; readonly value: boolean }>>
  /** Most positional arguments. */
  readonly positionals: number
}

const SHARED: FlagSpecs = {
  values: {
    "--address": { key: "address", type: address },
    "--context": { key: "context", type: contextName },
    "--server-key": { key: "serverKey", type: text },
    "--client-key": { key: "clientKey", type: text },
    "--timeout": { key: "timeoutMillis", type: timeoutMillis }
  },
  booleans: { "--json": { key: "json", value: true } },
  positionals: 0
}

const NONE: FlagSpecs = { values: {}, booleans: {}, positionals: 0 }

const COMMANDS: Readonly<Record<ReadCommand, FlagSpecs>> = {
  ps: NONE,
  stats: NONE,
  commands: NONE,
  whoami: NONE,
  status: { values: {}, booleans: {}, positionals: 1 },
  history: {
    values: {
      "--limit": { key: "limit", type: positive },
      "--category": { key: "category", type: oneOf(["agent", "orchestrator", "command"]) },
      "--agent": { key: "agent", type: text },
      "--event": { key: "event", type: text },
      "--after-seq": { key: "afterSeq", type: natural }
    },
    booleans: { "--all": { key: "all", value: true } },
    positionals: 0
  },
  logs: {
    values: {
      "--lines": { key: "lines", type: positive },
      "-n": { key: "lines", type: positive },
      "--since": { key: "since", type: text },
      "--stream": { key: "stream", type: oneOf(["stdout", "stderr"]) }
    },
    booleans: {
      "--timestamps": { key: "timestamps", value: true },
      "--prefix": { key: "prefix", value: true },
      "--no-prefix": { key: "prefix", value: false }
    },
    positionals: Number.POSITIVE_INFINITY
  }
}

const isReadCommand = (name: string): name is ReadCommand => Object.hasOwn(COMMANDS, name)

type Values = Map<string, string | number | boolean>

/**
 * Reads one flag at `index` into `values`; the index of the next token, or undefined when the flag is not one of
 * `specs` or not in a certain form.
 */
const readFlag = (argv: ReadonlyArray<string>, index: number, specs: ReadonlyArray<FlagSpecs>, values: Values): number | undefined => {
  const token = argv[index] ?? ""
  const equals = token.startsWith("--") ? token.indexOf("=") : -1
  const name = equals < 0 ? token : token.slice(0, equals)
  for (const spec of specs) {
    const valued = spec.values[name]
    if (valued !== undefined) {
      const raw = equals < 0 ? argv[index + 1] : token.slice(equals + 1)
      if (raw === undefined || raw.startsWith("-") || values.has(valued.key)) return undefined
      const value = valued.type(raw)
      if (value === undefined) return undefined
      values.set(valued.key, value)
      return equals < 0 ? index + 2 : index + 1
    }
    const boolean = spec.booleans[name]
    if (boolean !== undefined) {
      const next = argv[index + 1]
      if (equals >= 0 || values.has(boolean.key) || (next !== undefined && BOOLEAN_LITERAL.test(next))) return undefined
      values.set(boolean.key, boolean.value)
      return index + 1
    }
  }
  return undefined
}

/** An environment variable standing in for a flag: unset, or a value it takes; an empty one is left to the full CLI. */
const fromEnvironment = (env: Environment, variable: string, type: ValueType): { readonly value: string | undefined } | undefined => {
  const raw = env[variable]
  if (raw === undefined) return { value: undefined }
  const value = type(raw)
  return typeof value === "string" ? { value } : undefined
}

const sharedFlags = (values: Values, env: Environment): SharedFlags | undefined => {
  const fallback = (key: string, variable: string, type: ValueType) => {
    const given = values.get(key)
    return typeof given === "string" ? { value: given } : fromEnvironment(env, variable, type)
  }
  const addressFlag = fallback("address", "ORCHESTRATE_ADDRESS", address)
  const context = fallback("context", "ORCHESTRATE_CONTEXT", contextName)
  const serverKey = fallback("serverKey", "ORCHESTRATE_SERVER_KEY", text)
  const clientKey = fallback("clientKey", "ORCHESTRATE_CLIENT_KEY", text)
  if (addressFlag === undefined || context === undefined || serverKey === undefined || clientKey === undefined) return undefined
  const timeout = values.get("timeoutMillis")
  return {
    address: addressFlag.value,
    context: context.value,
    serverKey: serverKey.value,
    clientKey: clientKey.value,
    json: values.get("json") === true,
    timeoutMillis: typeof timeout === "number" ? timeout : undefined
  }
}

const stringOf = (values: Values, key: string): string | undefined => {
  const value = values.get(key)
  return typeof value === "string" ? value : undefined
}

const numberOf = (values: Values, key: string): number | undefined => {
  const value = values.get(key)
  return typeof value === "number" ? value : undefined
}

const invocationOf = (
  command: ReadCommand,
  shared: SharedFlags,
  values: Values,
  positionals: ReadonlyArray<string>
): Invocation | undefined => {
  switch (command) {
    case "ps":
    case "stats":
    case "commands":
    case "whoami":
      return { command, shared }
    case "status": {
      const [agent] = positionals
      if (agent !== undefined && agentName(agent) === undefined) return undefined
      return { command, shared, agent }
    }
    case "history":
      return {
        command,
        shared,
        filters: {
          limit: numberOf(values, "limit"),
          category: stringOf(values, "category"),
          all: values.get("all") === true,
          agent: stringOf(values, "agent"),
          event: stringOf(values, "event"),
          afterSeq: numberOf(values, "afterSeq")
        }
      }
    case "logs": {
      if (!positionals.every((agent) => agentName(agent) !== undefined)) return undefined
      const stream = values.get("stream")
      return {
        command,
        shared,
        logs: {
          agents: positionals,
          lines: numberOf(values, "lines") ?? 100,
          since: stringOf(values, "since"),
          stream: stream === "stdout" || stream === "stderr" ? stream : undefined,
          timestamps: values.get("timestamps") === true,
          prefix: values.get("prefix") !== false
        }
      }
    }
  }
}

/** The invocation `argv` (without node and the script) asks for, if the fast path takes it. */
export const parseInvocation = (argv: ReadonlyArray<string>, env: Environment): Invocation | undefined => {
  const values: Values = new Map()
  const positionals: Array<string> = []
  let command: ReadCommand | undefined
  for (let index = 0; index < argv.length;) {
    const token = argv[index] ?? ""
    if (token.startsWith("-")) {
      // Before the command, only the shared flags (effect/cli's parser takes no command flag there either).
      const specs = command === undefined ? [SHARED] : [SHARED, COMMANDS[command]]
      const next = readFlag(argv, index, specs, values)
      if (next === undefined) return undefined
      index = next
      continue
    }
    if (command === undefined) {
      if (!isReadCommand(token)) return undefined
      command = token
    } else {
      if (positionals.length >= COMMANDS[command].positionals) return undefined
      positionals.push(token)
    }
    index++
  }
  if (command === undefined) return undefined
  const shared = sharedFlags(values, env)
  return shared === undefined ? undefined : invocationOf(command, shared, values, positionals)
}
