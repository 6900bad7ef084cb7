/**
 * The OpenTelemetry variables as the specification writes them: what settings they make, where each signal goes,
 * and the exact problem a malformed one is (never with a header's value in it).
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Result } from "effect"
import { displayUrl, otelEnvironment, readOtelEnvironment, signalUrl } from "../../src/app/OtelEnvironment.ts"

const problemsOf = (env: Parameters<typeof readOtelEnvironment>[0]) => {
  const read = readOtelEnvironment(env)
  return Result.isFailure(read) ? read.failure.problems : []
}

describe("readOtelEnvironment", () => {
  it("makes no settings without an endpoint, with an empty one, or with OTEL_SDK_DISABLED=true", () => {
    expect(readOtelEnvironment({ OTEL_SERVICE_NAME: "api", OTEL_EXPORTER_OTLP_HEADERS: "broken" })).toEqual(Result.succeed(undefined))
    expect(readOtelEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: "  " })).toEqual(Result.succeed(undefined))
    expect(readOtelEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "TRUE" })).toEqual(Result.succeed(undefined))
  })

  it("reads the endpoint alone with the defaults: service effect-orchestrate, JSON, a 10 s timeout", () => {
    expect(readOtelEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toEqual(Result.succeed({
      endpoint: "http://collector:4318/",
      headers: {},
      serviceName: "effect-orchestrate",
      resourceAttributes: {},
      protocol: "http/json",
      exportTimeoutMillis: 10_000,
      tracesIntervalMillis: undefined,
      metricsIntervalMillis: undefined,
      logsIntervalMillis: undefined
    }))
    expect(readOtelEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, { defaultServiceName: "jobs" }))
      .toMatchObject(Result.succeed({ serviceName: "jobs" }))
  })

  it("decodes headers and attributes: values percent-decoded, '=' kept past the first, empty entries skipped", () => {
    const read = readOtelEnvironment({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://otlp.example.com/v1/",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_HEADERS: " Authorization = Basic%20dXNlcjpwYXNz== , x-empty=,",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
      OTEL_RESOURCE_ATTRIBUTES: "service.version=1.4.2,deployment%2Eenvironment=prod,note=a%2Cb%3Dc,service.name=ignored",
      OTEL_SERVICE_NAME: "api",
      OTEL_BSP_SCHEDULE_DELAY: "0",
      OTEL_METRIC_EXPORT_INTERVAL: "60000",
      OTEL_BLRP_SCHEDULE_DELAY: "250"
    })
    expect(read).toEqual(Result.succeed({
      endpoint: "https://otlp.example.com/v1/",
      headers: { authorization: "Basic dXNlcjpwYXNz==", "x-empty": "" },
      serviceName: "api",
      resourceAttributes: { "service.version": "1.4.2", "deployment.environment": "prod", note: "a,b=c" },
      protocol: "http/protobuf",
      exportTimeoutMillis: 2500,
      tracesIntervalMillis: 0,
      metricsIntervalMillis: 60_000,
      logsIntervalMillis: 250
    }))
  })

  it("takes the service name from OTEL_SERVICE_NAME, then from the attributes, then the default", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }
    const nameOf = (env: Record<string, string>) => {
      const read = readOtelEnvironment({ ...endpoint, ...env })
      return Result.isSuccess(read) ? read.success?.serviceName : undefined
    }
    expect(nameOf({ OTEL_SERVICE_NAME: "a", OTEL_RESOURCE_ATTRIBUTES: "service.name=b" })).toBe("a")
    expect(nameOf({ OTEL_RESOURCE_ATTRIBUTES: "service.name=b" })).toBe("b")
    expect(nameOf({ OTEL_SERVICE_NAME: "" })).toBe("effect-orchestrate")
  })

  it("says every malformed variable, each with its entry, and never a header's value", () => {
    expect(problemsOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_HEADERS: "a=1,api key=hunter2",
      OTEL_EXPORTER_OTLP_TIMEOUT: "10s",
      OTEL_RESOURCE_ATTRIBUTES: "a=1,=2",
      OTEL_BSP_SCHEDULE_DELAY: "-1",
      OTEL_METRIC_EXPORT_INTERVAL: "0",
      OTEL_BLRP_SCHEDULE_DELAY: "1.5"
    })).toEqual([
      `OTEL_EXPORTER_OTLP_ENDPOINT: expected the collector's OTLP/HTTP URL, such as http://localhost:4318, got "localhost:4318"`,
      `OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported: expected http/json or http/protobuf (OTLP over HTTP; for gRPC's port 4317, use the collector's HTTP port 4318)`,
      `OTEL_EXPORTER_OTLP_HEADERS: entry 2: "api key" is not a header name (letters, digits and !#$%&'*+-.^_\`|~)`,
      `OTEL_EXPORTER_OTLP_TIMEOUT: expected milliseconds, a whole number from 1 to 86400000, got "10s"`,
      "OTEL_RESOURCE_ATTRIBUTES: entry 2: the key is empty",
      `OTEL_BSP_SCHEDULE_DELAY: expected milliseconds, a whole number from 0 to 86400000, got "-1"`,
      `OTEL_METRIC_EXPORT_INTERVAL: expected milliseconds, a whole number from 1 to 86400000, got "0"`,
      `OTEL_BLRP_SCHEDULE_DELAY: expected milliseconds, a whole number from 0 to 86400000, got "1.5"`
    ])
    const headerProblems = [
      problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_HEADERS: "token=hunter%2" }),
      problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_HEADERS: "token=hunter%0D%0Ax-evil=1" }),
      problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_HEADERS: "x=1,,hunter2" })
    ]
    expect(headerProblems).toEqual([
      ["OTEL_EXPORTER_OTLP_HEADERS: entry 1 (token): its value is not percent-encoded correctly (a '%' starts %XX)"],
      ["OTEL_EXPORTER_OTLP_HEADERS: entry 1 (token): its value holds a line break, NUL or a character past U+00FF, which no header may"],
      ["OTEL_EXPORTER_OTLP_HEADERS: entry 3 has no '=': expected key=value pairs separated by commas, such as a=1,b=2"]
    ])
    expect(JSON.stringify(headerProblems)).not.toContain("hunter")
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://c" })).toEqual([
      `OTEL_EXPORTER_OTLP_ENDPOINT: expected the collector's OTLP/HTTP URL, such as http://localhost:4318, got "ftp://c"`
    ])
    const withPassword = problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://user:hunter2@otlp.example.com" })
    expect(withPassword).toEqual([
      "OTEL_EXPORTER_OTLP_ENDPOINT: the URL holds a user name or password, which fetch refuses to send; give them as " +
      "a header instead: OTEL_EXPORTER_OTLP_HEADERS=authorization=Basic%20<base64 of user:password>"
    ])
  })

  it("is read through the ConfigProvider, and a malformed variable fails it with the config error", () =>
    Effect.gen(function*() {
      const settings = yield* otelEnvironment().pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/otlp" }))
      )
      expect(settings?.endpoint).toBe("http://c:4318/otlp")
      const error = yield* Effect.flip(otelEnvironment().pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
          OTEL_RESOURCE_ATTRIBUTES: "team"
        }))
      ))
      expect(error.message).toBe(
        "invalid config from the environment:\n  OTEL_RESOURCE_ATTRIBUTES: entry 1 has no '=': expected key=value pairs separated by commas, such as a=1,b=2"
      )
    }).pipe(Effect.runPromise))
})

describe("displayUrl", () => {
  it("shows an endpoint without its query", () => {
    expect(displayUrl("https://otlp.example.com/v1/traces?api_key=hunter2")).toBe("https://otlp.example.com/v1/traces")
  })
})

describe("signalUrl", () => {
  it("puts v1/<signal> under the endpoint's path, as the specification says, keeping a query", () => {
    expect(signalUrl("http://collector:4318", "traces")).toBe("http://collector:4318/v1/traces")
    expect(signalUrl("http://collector:4318/", "metrics")).toBe("http://collector:4318/v1/metrics")
    expect(signalUrl("https://gateway.example/otlp", "logs")).toBe("https://gateway.example/otlp/v1/logs")
    expect(signalUrl("https://gateway.example/otlp/?tenant=a", "traces")).toBe("https://gateway.example/otlp/v1/traces?tenant=a")
  })
})
