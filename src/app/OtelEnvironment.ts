/**
 * The OpenTelemetry SDK's environment variables, read into `TelemetrySettings`: where to export
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`), with which headers (`OTEL_EXPORTER_OTLP_HEADERS`), as which service
 * (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), and the few others a deployment sets beside them (protocol,
 * timeout, export intervals, `OTEL_SDK_DISABLED`). Without an endpoint there is nothing to export, and no settings.
 *
 * The values are parsed as the specification writes them, and a malformed one is a `ConfigError` naming the variable
 * and the entry, as a config file's problems are, so that `up` refuses to start (exit 2) rather than run without the
 * headers a collector needs. (The specification suggests warning and ignoring the value instead; an orchestrator
 * whose telemetry silently went nowhere, or to a collector refusing it, is what that leads to.) A header's value is
 * never in a message: it is usually a credential.
 *
 * This module loads no exporter: `Telemetry.ts` does, only when there are settings.
 */
import { Config, Effect, Option, Result } from "effect"
import { ConfigError } from "../orchestrator/OrchestratorConfig.ts"

/** What the OTLP/HTTP exporter sends its payloads as. */
export type OtlpProtocol = "http/json" | "http/protobuf"

export interface TelemetrySettings {
  /** The OTLP/HTTP receiver's base URL: traces go to `<endpoint>/v1/traces`, metrics and logs beside them. */
  readonly endpoint: string
  /** Sent with every export, such as a vendor's API key. */
  readonly headers: Readonly<Record<string, string>>
  /** The resource's `service.name`. */
  readonly serviceName: string
  /** The resource's other attributes (`service.version`, `deployment.environment`, …). */
  readonly resourceAttributes: Readonly<Record<string, string>>
  readonly protocol: OtlpProtocol
  /** How long one export may take before it counts as failed. */
  readonly exportTimeoutMillis: number
  /** How often each signal's batch is sent; effect's defaults (5 s, 10 s, 1 s) when undefined. */
  readonly tracesIntervalMillis?: number | undefined
  readonly metricsIntervalMillis?: number | undefined
  readonly logsIntervalMillis?: number | undefined
}

/** The variables read, in the order their problems are reported. */
export const OTEL_VARIABLES = [
  "OTEL_SDK_DISABLED",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_BSP_SCHEDULE_DELAY",
  "OTEL_METRIC_EXPORT_INTERVAL",
  "OTEL_BLRP_SCHEDULE_DELAY"
] as const
export type OtelVariable = typeof OTEL_VARIABLES[number]

export type OtelEnvironment = Readonly<Partial<Record<OtelVariable, string | undefined>>>

/** The service name when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` gives one. */
export const DEFAULT_SERVICE_NAME = "effect-orchestrate"

/** The specification's default export timeout. */
const DEFAULT_TIMEOUT_MILLIS = 10_000

/** An HTTP header name: a token of RFC 9110's characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** What fetch refuses in a header value: line breaks, NUL, and anything past Latin-1. */
const BAD_HEADER_VALUE = /[\0\r\n]|[^\u0000-\u00ff]/

const SOURCE = "from the environment"

type Parsed<A> = Result.Result<A, string>

/** `key=value` entries separated by commas, as both variables write them; empty entries (a trailing comma) are skipped. */
const entries = (variable: OtelVariable, text: string): Parsed<ReadonlyArray<readonly [number, string, string]>> => {
  const found: Array<readonly [number, string, string]> = []
  const parts = text.split(",")
  for (let index = 0; index < parts.length; index++) {
    const entry = (parts[index] ?? "").trim()
    if (entry === "") continue
    const equals = entry.indexOf("=")
    if (equals < 0) {
      return Result.fail(`${variable}: entry ${index + 1} has no '=': expected key=value pairs separated by commas, such as a=1,b=2`)
    }
    found.push([index + 1, entry.slice(0, equals).trim(), entry.slice(equals + 1).trim()])
  }
  return Result.succeed(found)
}

/** A percent-encoded text, decoded; undefined when a `%` does not start a valid UTF-8 sequence. */
const percentDecoded = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: header names as they are, values percent-decoded. */
const parseHeaders = (text: string): Parsed<Record<string, string>> =>
  Result.flatMap(entries("OTEL_EXPORTER_OTLP_HEADERS", text), (found) => {
    const headers: Record<string, string> = {}
    for (const [index, name, encoded] of found) {
      const at = `OTEL_EXPORTER_OTLP_HEADERS: entry ${index}`
      if (!HEADER_NAME.test(name)) {
        return Result.fail(`${at}: ${JSON.stringify(name)} is not a header name (letters, digits and !#$%&'*+-.^_\`|~)`)
      }
      const value = percentDecoded(encoded)
      if (value === undefined) return Result.fail(`${at} (${name}): its value is not percent-encoded correctly (a '%' starts %XX)`)
      if (BAD_HEADER_VALUE.test(value)) {
        return Result.fail(`${at} (${name}): its value holds a line break, NUL or a character past U+00FF, which no header may`)
      }
      headers[name.toLowerCase()] = value
    }
    return Result.succeed(headers)
  })

/** `OTEL_RESOURCE_ATTRIBUTES`: keys and values percent-decoded, every value a string. */
const parseResourceAttributes = (text: string): Parsed<Record<string, string>> =>
  Result.flatMap(entries("OTEL_RESOURCE_ATTRIBUTES", text), (found) => {
    const attributes: Record<string, string> = {}
    for (const [index, encodedKey, encodedValue] of found) {
      const at = `OTEL_RESOURCE_ATTRIBUTES: entry ${index}`
      const key = percentDecoded(encodedKey)
      const value = percentDecoded(encodedValue)
      if (key === undefined || value === undefined) {
        return Result.fail(`${at}: not percent-encoded correctly (a '%' starts %XX; write ',' as %2C and '=' as %3D)`)
      }
      if (key === "") return Result.fail(`${at}: the key is empty`)
      attributes[key] = value
    }
    return Result.succeed(attributes)
  })

/**
 * `OTEL_EXPORTER_OTLP_ENDPOINT`: an http(s) URL, the base of the signals' paths. Without credentials in it: fetch
 * refuses such a URL (every export would fail), and the URL is in log lines.
 */
const parseEndpoint = (text: string): Parsed<string> => {
  const url = URL.parse(text)
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return Result.fail(
      `OTEL_EXPORTER_OTLP_ENDPOINT: expected the collector's OTLP/HTTP URL, such as http://localhost:4318, got ${JSON.stringify(text)}`
    )
  }
  if (url.username !== "" || url.password !== "") {
    return Result.fail(
      "OTEL_EXPORTER_OTLP_ENDPOINT: the URL holds a user name or password, which fetch refuses to send; give them as " +
        "a header instead: OTEL_EXPORTER_OTLP_HEADERS=authorization=Basic%20<base64 of user:password>"
    )
  }
  return Result.succeed(url.href)
}

/** A URL as log lines show it: without its query, which may hold a key. */
export const displayUrl = (url: string): string => {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}

/**
 * Where a signal goes: `v1/traces` (or metrics, logs) under the endpoint's path, as the specification says for
 * `OTEL_EXPORTER_OTLP_ENDPOINT`: `http://collector:4318` and `http://collector:4318/` give
 * `http://collector:4318/v1/traces`, `http://gateway/otlp` gives `http://gateway/otlp/v1/traces`. A query stays.
 */
export const signalUrl = (endpoint: string, signal: "traces" | "metrics" | "logs"): string => {
  const url = new URL(endpoint)
  url.pathname = `${url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`}v1/${signal}`
  return url.href
}

const parseProtocol = (text: string): Parsed<OtlpProtocol> =>
  text === "http/json" || text === "http/protobuf"
    ? Result.succeed(text)
    : Result.fail(
      `OTEL_EXPORTER_OTLP_PROTOCOL: ${JSON.stringify(text)} is not supported: expected http/json or http/protobuf ` +
        "(OTLP over HTTP; for gRPC's port 4317, use the collector's HTTP port 4318)"
    )

/** Milliseconds as the specification writes them: a whole number. */
const parseMillis = (variable: OtelVariable, text: string, minimum: number): Parsed<number> =>
  /^\d+$/.test(text) && Number(text) >= minimum && Number(text) <= 86_400_000
    ? Result.succeed(Number(text))
    : Result.fail(`${variable}: expected milliseconds, a whole number from ${minimum} to 86400000, got ${JSON.stringify(text)}`)

/** A variable's value; an empty one counts as unset, as the specification says. */
const valueOf = (env: OtelEnvironment, variable: OtelVariable): string | undefined => {
  const value = env[variable]?.trim()
  return value === undefined || value === "" ? undefined : value
}

/**
 * The settings the variables in `env` describe: undefined when there is nothing to export (no endpoint, or
 * `OTEL_SDK_DISABLED=true`); a `ConfigError` with every malformed variable otherwise.
 */
export const readOtelEnvironment = (
  env: OtelEnvironment,
  options: { readonly defaultServiceName?: string } = {}
): Result.Result<TelemetrySettings | undefined, ConfigError> => {
  const endpointText = valueOf(env, "OTEL_EXPORTER_OTLP_ENDPOINT")
  if (endpointText === undefined || valueOf(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return Result.succeed(undefined)
  const problems: Array<string> = []
  const read = <A>(variable: OtelVariable, parse: (text: string) => Parsed<A>): A | undefined => {
    const text = valueOf(env, variable)
    if (text === undefined) return undefined
    const parsed = parse(text)
    if (Result.isFailure(parsed)) problems.push(parsed.failure)
    return Result.getOrUndefined(parsed)
  }
  const endpoint = read("OTEL_EXPORTER_OTLP_ENDPOINT", parseEndpoint)
  const protocol = read("OTEL_EXPORTER_OTLP_PROTOCOL", parseProtocol)
  const headers = read("OTEL_EXPORTER_OTLP_HEADERS", parseHeaders)
  const timeout = read("OTEL_EXPORTER_OTLP_TIMEOUT", (text) => parseMillis("OTEL_EXPORTER_OTLP_TIMEOUT", text, 1))
  const { "service.name": nameAttribute, ...resourceAttributes } = read("OTEL_RESOURCE_ATTRIBUTES", parseResourceAttributes) ?? {}
  const tracesIntervalMillis = read("OTEL_BSP_SCHEDULE_DELAY", (text) => parseMillis("OTEL_BSP_SCHEDULE_DELAY", text, 0))
  const metricsIntervalMillis = read("OTEL_METRIC_EXPORT_INTERVAL", (text) => parseMillis("OTEL_METRIC_EXPORT_INTERVAL", text, 1))
  const logsIntervalMillis = read("OTEL_BLRP_SCHEDULE_DELAY", (text) => parseMillis("OTEL_BLRP_SCHEDULE_DELAY", text, 0))
  if (problems.length > 0 || endpoint === undefined) return Result.fail(new ConfigError({ source: SOURCE, problems }))
  return Result.succeed({
    endpoint,
    headers: headers ?? {},
    // The specification's precedence: the variable of its own over the attribute.
    serviceName: valueOf(env, "OTEL_SERVICE_NAME") ?? nameAttribute ?? options.defaultServiceName ?? DEFAULT_SERVICE_NAME,
    resourceAttributes,
    protocol: protocol ?? "http/json",
    exportTimeoutMillis: timeout ?? DEFAULT_TIMEOUT_MILLIS,
    tracesIntervalMillis,
    metricsIntervalMillis,
    logsIntervalMillis
  })
}

/** `readOtelEnvironment` over the variables the current `ConfigProvider` holds (the process's environment by default). */
export const otelEnvironment = (
  options: { readonly defaultServiceName?: string } = {}
): Effect.Effect<TelemetrySettings | undefined, ConfigError> =>
  Effect.flatMap(
    // Reading a variable that is a string cannot fail; an absent one is an undefined entry.
    Effect.orDie(Config.all(Object.fromEntries(OTEL_VARIABLES.map((variable) => [variable, Config.option(Config.String(variable))])))),
    (values) => {
      const env: Partial<Record<string, string>> = {}
      for (const [variable, value] of Object.entries(values)) if (Option.isSome(value)) env[variable] = value.value
      return Effect.fromResult(readOtelEnvironment(env, options))
    }
  )
