import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { DEFAULT_TIMEOUT_SECONDS } from "../../src/cli/root.ts"
import { cli } from "../support/cli.ts"
import { silentServer } from "../support/zmq.ts"

/**
 * Node's start and the exit after the deadline, on a small shared machine. The CLI itself gives up at the
 * deadline: the resend lives inside the budget, not after it.
 */
const MARGIN_MILLIS = 700

/** Runs the CLI against a server that never answers; returns its result, how long it ran, and what the server got. */
const againstSilentServer = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const server = yield* silentServer
    const started = yield* Clock.currentTimeMillis
    const result = yield* cli([...args, "--address", server.address])
    const ended = yield* Clock.currentTimeMillis
    const received = yield* server.received
    // From the first request's arrival to the exit: the budget itself, without Node's start.
    const budgetSpent = ended - (received[0]?.at ?? started)
    return { result, millis: ended - started, budgetSpent, address: server.address, received }
  })

describe("--timeout is the whole budget of a command", () => {
  it.live("ps --timeout 2 gives up after 2 s, resend included, and says it waited 2s", () =>
    Effect.gen(function*() {
      const { result, millis, budgetSpent, address, received } = yield* againstSilentServer(["ps", "--timeout", "2"])
      console.log(`ps --timeout 2 against a silent server: exit ${result.code} after ${millis} ms (${budgetSpent} ms after its first request)`)
      expect(result).toEqual({ code: 3, stdout: "", stderr: `error: no answer within 2s (${address})\n` })
      expect(millis).toBeGreaterThanOrEqual(2000)
      expect(millis).toBeLessThanOrEqual(2000 + MARGIN_MILLIS)
      expect(budgetSpent).toBeGreaterThanOrEqual(1900)
      expect(budgetSpent).toBeLessThanOrEqual(2300)
      // Sent once, and once more (same id) after 60% of the budget, on a fresh socket.
      const [first, resend, ...more] = received
      expect(more).toEqual([])
      expect(resend?.id).toBe(first?.id)
      const gap = (resend?.at ?? 0) - (first?.at ?? 0)
      expect(gap).toBeGreaterThanOrEqual(1100)
      expect(gap).toBeLessThan(2000)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live(`without --timeout, the default ${DEFAULT_TIMEOUT_SECONDS} s bounds it, and the message says so`, () =>
    Effect.gen(function*() {
      const { result, millis, budgetSpent, address, received } = yield* againstSilentServer(["ps"])
      console.log(`ps (default timeout) against a silent server: exit ${result.code} after ${millis} ms (${budgetSpent} ms after its first request)`)
      expect(result).toEqual({ code: 3, stdout: "", stderr: `error: no answer within ${DEFAULT_TIMEOUT_SECONDS}s (${address})\n` })
      expect(millis).toBeGreaterThanOrEqual(DEFAULT_TIMEOUT_SECONDS * 1000)
      expect(millis).toBeLessThanOrEqual(DEFAULT_TIMEOUT_SECONDS * 1000 + MARGIN_MILLIS)
      expect(budgetSpent).toBeGreaterThanOrEqual(DEFAULT_TIMEOUT_SECONDS * 1000 - 100)
      expect(budgetSpent).toBeLessThanOrEqual(DEFAULT_TIMEOUT_SECONDS * 1000 + 300)
      expect(received).toHaveLength(2)
    }).pipe(Effect.provide(NodeServices.layer)), 20_000)

  it.live("a command that is never resent (shutdown) waits the whole budget for its one request; fractions of a second are kept", () =>
    Effect.gen(function*() {
      const { result, millis, address, received } = yield* againstSilentServer(["shutdown", "--timeout", "0.5"])
      expect(result).toEqual({ code: 3, stdout: "", stderr: `error: no answer within 500ms (${address})\n` })
      expect(millis).toBeGreaterThanOrEqual(500)
      expect(millis).toBeLessThanOrEqual(500 + MARGIN_MILLIS)
      expect(received).toHaveLength(1)
    }).pipe(Effect.provide(NodeServices.layer)))
})
