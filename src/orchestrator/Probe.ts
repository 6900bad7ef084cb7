/**
 * Readiness and liveness probes, on the Kubernetes model: what a config file says about one (`ProbeConfig`), the
 * probe the orchestrator runs (`Probe`), and how a probe's tries become its health (`advance`), which is pure so
 * that thresholds can be checked without a clock or a process.
 *
 * A probe has exactly one check: `http` (a GET whose status is in a range), `tcp` (a connection is accepted),
 * `exec` (a command exits 0) or `line` (a line of the agent's output matches). Its health starts `starting` with
 * each run, becomes `healthy` after `successThreshold` passes in a row and `unhealthy` after `failureThreshold`
 * failures in a row; only those changes are events, so a probe that keeps failing does not flood the history.
 */
import { DateTime, type Duration, Schema } from "effect"
import { messageOf } from "../messageOf.ts"
import type { Health, ProbeKind, ProbeRole, ProbeStatus } from "../protocol/Model.ts"
import { durationBetween, intBetween, withDefault } from "../settings.ts"

export const RegexSource = Schema.String.check(
  Schema.makeFilter((source: string) => {
    try {
      new RegExp(source)
      return true
    } catch (error) {
      return `expected a regular expression: ${messageOf(error)}`
    }
  })
)

const StatusCode = intBetween(100, 599)

const HttpCheckConfig = Schema.Struct({
  /** `${NAME}` is replaced by the agent's environment variable NAME (its `env` over the orchestrator's). */
  url: Schema.String.check(Schema.isNonEmpty()),
  /** The statuses that pass, inclusive: 2xx and 3xx by default, as Kubernetes counts them. */
  status: withDefault(Schema.Tuple([StatusCode, StatusCode]), [200, 399])
}).check(
  Schema.makeFilter((check) =>
    check.status[0] <= check.status[1] ||
    { path: ["status"], issue: `expected [min, max] with min at most max, got [${check.status[0]}, ${check.status[1]}]` })
)

const TcpCheckConfig = Schema.Struct({
  host: withDefault(Schema.String.check(Schema.isNonEmpty()), "127.0.0.1"),
  port: intBetween(1, 65_535)
})

const ExecCheckConfig = Schema.Struct({
  command: Schema.String.check(Schema.isNonEmpty()),
  args: withDefault(Schema.Array(Schema.String), [])
})

const CHECKS = ["http", "tcp", "exec", "line"] as const

/**
 * Defaults: Kubernetes' timeout (1 s), thresholds (1 and 3) and initial delay (0), but a period of 5 s rather
 * than its 10 s: the probes of one machine's services cost a loopback round trip, and readiness is what holds
 * dependents back at start-up, so a shorter period starts a stack sooner. 5 s is also `heartbeatInterval`'s
 * default, so that an agent's liveness is looked at as often either way.
 *
 * Bounds: a period under 100 ms would make the probe the agent's main load (the lower bound `heartbeatInterval`
 * has, for the same reason); past an hour a probe says nothing about now. A timeout of 10 minutes covers the
 * slowest health script; initialDelay up to an hour covers the slowest warm-up (a cache load, a migration).
 * Thresholds up to 100: beyond that, at the shortest period, an agent would be judged on a quarter of an hour
 * of tries, and a larger count is a typo.
 */
export const ProbeConfig = Schema.Struct({
  http: Schema.optionalKey(HttpCheckConfig),
  tcp: Schema.optionalKey(TcpCheckConfig),
  exec: Schema.optionalKey(ExecCheckConfig),
  line: Schema.optionalKey(RegexSource),
  period: withDefault(durationBetween("100 millis", "1 hour"), 5000),
  timeout: withDefault(durationBetween("100 millis", "10 minutes"), 1000),
  initialDelay: withDefault(durationBetween(0, "1 hour"), 0),
  successThreshold: withDefault(intBetween(1, 100), 1),
  failureThreshold: withDefault(intBetween(1, 100), 3)
}).check(
  Schema.makeFilter((probe) => {
    const given = CHECKS.filter((key) => probe[key] !== undefined)
    return given.length === 1 ||
      `expected exactly one check of ${CHECKS.join(", ")}, got ${given.length === 0 ? "none" : given.join(" and ")}`
  })
)
export type ProbeConfig = typeof ProbeConfig.Type

export type ProbeCheck =
  | { readonly _tag: "http"; readonly url: string; readonly status: readonly [number, number] }
  | { readonly _tag: "tcp"; readonly host: string; readonly port: number }
  | { readonly _tag: "exec"; readonly command: string; readonly args: ReadonlyArray<string> }
  | { readonly _tag: "line"; readonly pattern: RegExp }

export interface Probe {
  readonly check: ProbeCheck
  readonly period: Duration.Duration
  readonly timeout: Duration.Duration
  readonly initialDelay: Duration.Duration
  readonly successThreshold: number
  readonly failureThreshold: number
}

/** The probe settings when only a check is given: the config's defaults. */
const defaults = Schema.decodeUnknownSync(ProbeConfig)({ line: "" })

const checkOf = (config: ProbeConfig): ProbeCheck => {
  if (config.http !== undefined) return { _tag: "http", ...config.http }
  if (config.tcp !== undefined) return { _tag: "tcp", ...config.tcp }
  if (config.exec !== undefined) return { _tag: "exec", ...config.exec }
  return { _tag: "line", pattern: new RegExp(config.line ?? "") }
}

export const probeFrom = (config: ProbeConfig): Probe => ({
  check: checkOf(config),
  period: config.period,
  timeout: config.timeout,
  initialDelay: config.initialDelay,
  successThreshold: config.successThreshold,
  failureThreshold: config.failureThreshold
})

/** `readyLine`, as the readiness probe it is shorthand for: ready at the first matching line, with the defaults. */
export const lineProbe = (pattern: RegExp): Probe => ({ ...probeFrom(defaults), check: { _tag: "line", pattern } })

/** What a probe looks at, for `status`: the URL, `host:port`, the command line, or the expression. */
const describeTarget = (check: ProbeCheck): string => {
  switch (check._tag) {
    case "http":
      return `GET ${check.url}`
    case "tcp":
      return `${check.host}:${check.port}`
    case "exec":
      return [check.command, ...check.args].join(" ")
    case "line":
      return `/${check.pattern.source}/`
  }
}

/** A probe's state before its first try of a run. */
export const initialStatus = (role: ProbeRole, probe: Probe): ProbeStatus => ({
  role,
  kind: probe.check._tag satisfies ProbeKind,
  target: describeTarget(probe.check),
  health: "starting",
  lastResult: null,
  lastCheckedAt: null,
  consecutiveSuccesses: 0,
  consecutiveFailures: 0,
  lastFailure: null,
  lastFailureAt: null
})

/** One try's result: passed, or failed with what it saw (truncated by the runner). */
export type TryResult = { readonly _tag: "Passed" } | { readonly _tag: "Failed"; readonly output: string }

/** A probe's state after one more try, and its new health when that changed. */
export const advance = (
  status: ProbeStatus,
  probe: Probe,
  result: TryResult,
  now: number
): { readonly status: ProbeStatus; readonly became: Health | undefined } => {
  const at = DateTime.makeUnsafe(now)
  if (result._tag === "Passed") {
    const successes = status.consecutiveSuccesses + 1
    const became = status.health !== "healthy" && successes >= probe.successThreshold ? "healthy" : undefined
    return {
      status: { ...status, lastResult: "success", lastCheckedAt: at, consecutiveSuccesses: successes, consecutiveFailures: 0, health: became ?? status.health },
      became
    }
  }
  const failures = status.consecutiveFailures + 1
  const became = status.health !== "unhealthy" && failures >= probe.failureThreshold ? "unhealthy" : undefined
  return {
    status: {
      ...status,
      lastResult: "failure",
      lastCheckedAt: at,
      consecutiveSuccesses: 0,
      consecutiveFailures: failures,
      lastFailure: result.output,
      lastFailureAt: at,
      health: became ?? status.health
    },
    became
  }
}

/**
 * An agent's health from its probes': null without probes, unhealthy if any is, starting while any has no
 * verdict yet, healthy otherwise.
 */
export const healthOf = (probes: ReadonlyArray<ProbeStatus>): Health | null => {
  if (probes.length === 0) return null
  if (probes.some((probe) => probe.health === "unhealthy")) return "unhealthy"
  if (probes.some((probe) => probe.health === "starting")) return "starting"
  return "healthy"
}
