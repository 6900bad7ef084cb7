import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { cli } from "../support/cli.ts"
import { curveFixture } from "../support/curve.ts"
import { startServer } from "../support/zmq.ts"

/**
 * Across two processes, a CURVE server usually hangs up on a plain client before its greeting arrives, so the
 * client sees a broken pipe before (or instead of) the mechanism mismatch: the flaky path these runs exercise.
 */
const RUNS = 10

/** The server lives in this process and the CLI in its own, as in real use. */
const curveServer = Effect.gen(function*() {
  const keys = yield* curveFixture(["ops", "impostor"])
  const { endpoint } = yield* startServer(yield* Effect.scope, {
    config: { curve: { keyFile: keys.serverKeyFile, principals: [{ name: "ops", publicKey: keys.credentials("ops").publicKey, role: "all" }] } }
  })
  return { keys, endpoint }
})

/** Runs the CLI `RUNS` times; each run's result and how long it took. */
const repeatedly = (args: ReadonlyArray<string>) =>
  Effect.forEach(Array.from({ length: RUNS }, (_, n) => n), () =>
    Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const result = yield* cli(args)
      return { ...result, millis: (yield* Clock.currentTimeMillis) - started }
    }))

describe("a failed handshake is reported for what it is, every time", () => {
  it.live(`a client without CURVE at a CURVE server is told it requires CURVE, at once, ${RUNS} runs out of ${RUNS}`, () =>
    Effect.gen(function*() {
      const { endpoint } = yield* curveServer
      const runs = yield* repeatedly(["ps", "--address", endpoint])
      const expected = "error: the orchestrator requires CURVE: give --server-key and --client-key " +
        `(or ORCHESTRATE_SERVER_KEY and ORCHESTRATE_CLIENT_KEY) (${endpoint})\n`
      expect(runs.map(({ code, stdout, stderr }) => ({ code, stdout, stderr }))).toEqual(
        Array.from({ length: RUNS }, () => ({ code: 3, stdout: "", stderr: expected }))
      )
      // Not after the 5 s timeout: the handshake's failure ends the command.
      for (const run of runs) expect(run.millis).toBeLessThan(2500)
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("a CURVE client with the wrong server key is told to check --server-key, every time", () =>
    Effect.gen(function*() {
      const { keys, endpoint } = yield* curveServer
      const runs = yield* repeatedly([
        "ps",
        "--address",
        endpoint,
        "--server-key",
        keys.credentials("impostor").publicKey,
        "--client-key",
        keys.keyFile("ops")
      ])
      for (const run of runs) {
        expect(run).toMatchObject({ code: 3, stdout: "" })
        expect(run.stderr).toMatch(
          /^error: the CURVE handshake failed \((EPIPE|ECONNRESET)\): is --server-key the orchestrator's public key\? \(tcp:\/\/127\.0\.0\.1:\d+\)\n$/
        )
        expect(run.millis).toBeLessThan(2500)
      }
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("a CURVE client at a server without CURVE is told to leave the keys out", () =>
    Effect.gen(function*() {
      const keys = yield* curveFixture(["ops"])
      const { endpoint } = yield* startServer(yield* Effect.scope)
      const runs = yield* repeatedly(["ps", "--address", endpoint, "--server-key", keys.server.publicKey, "--client-key", keys.keyFile("ops")])
      expect(runs.map(({ code, stderr }) => ({ code, stderr }))).toEqual(Array.from({ length: RUNS }, () => ({
        code: 3,
        stderr: `error: the orchestrator does not use CURVE: leave out --server-key and --client-key (${endpoint})\n`
      })))
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)
})
