/**
 * How tries become health (Probe.advance) and an agent's health from its probes': thresholds in a row, a change
 * reported once, the failing output kept.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration } from "effect"
import { advance, healthOf, initialStatus, type Probe, type TryResult } from "../../src/orchestrator/Probe.ts"
import type { ProbeStatus } from "../../src/protocol/Model.ts"

const probe: Probe = {
  check: { _tag: "tcp", host: "127.0.0.1", port: 1 },
  period: Duration.seconds(1),
  timeout: Duration.seconds(1),
  initialDelay: Duration.zero,
  successThreshold: 2,
  failureThreshold: 3
}

const pass: TryResult = { _tag: "Passed" }
const fail = (output: string): TryResult => ({ _tag: "Failed", output })

/** The health after each try, and the changes reported. */
const run = (results: ReadonlyArray<TryResult>) => {
  let status: ProbeStatus = initialStatus("liveness", probe)
  const changes: Array<string | undefined> = []
  results.forEach((result, index) => {
    const next = advance(status, probe, result, index * 1000)
    status = next.status
    changes.push(next.became)
  })
  return { status, changes }
}

describe("probe state", () => {
  it("becomes healthy after successThreshold passes in a row, reported once", () => {
    const { status, changes } = run([pass, fail("x"), pass, pass, pass])
    expect(changes).toEqual([undefined, undefined, undefined, "healthy", undefined])
    expect(status).toMatchObject({ health: "healthy", consecutiveSuccesses: 3, consecutiveFailures: 0, lastResult: "success", lastFailure: "x" })
  })

  it("becomes unhealthy after failureThreshold failures in a row; a pass in between starts the count again", () => {
    const { status, changes } = run([pass, pass, fail("a"), fail("b"), pass, fail("c"), fail("d"), fail("e"), fail("f")])
    expect(changes).toEqual([undefined, "healthy", undefined, undefined, undefined, undefined, undefined, "unhealthy", undefined])
    expect(status).toMatchObject({ health: "unhealthy", consecutiveFailures: 4, lastFailure: "f", lastResult: "failure" })
    expect(status.lastFailureAt === null ? null : DateTime.toEpochMillis(status.lastFailureAt)).toBe(8000)
  })

  it("an agent is unhealthy if any probe is, starting while any has no verdict, null without probes", () => {
    const healthy = run([pass, pass]).status
    const unhealthy = run([fail("a"), fail("b"), fail("c")]).status
    const starting = initialStatus("readiness", probe)
    expect(healthOf([])).toBeNull()
    expect(healthOf([healthy, starting])).toBe("starting")
    expect(healthOf([starting, unhealthy])).toBe("unhealthy")
    expect(healthOf([healthy, healthy])).toBe("healthy")
  })
})
