/**
 * `reload` on the wire, over a swapped reload port: arguments decoded, the plan encoded, failures mapped; the real
 * reload (a real `up` re-reading its file) is test/e2e/reload.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, Ref } from "effect"
import { ConfigReload, InvalidConfig, ReloadFailed, type ReloadRequest } from "../../src/ports/ConfigReload.ts"
import type { ReloadPlan } from "../../src/protocol/Commands.ts"
import { curveFixture, signedFrames } from "../support/curve.ts"
import { harness, request, sendFrames } from "../support/harness.ts"

const plan: ReloadPlan = {
  config: "/srv/app/config.json",
  dryRun: true,
  agents: { added: ["cache"], removed: ["migrate"], changed: ["api"], unchanged: ["db", "worker"] },
  settings: [{ key: "maxWorkers", from: "16", to: "4" }],
  needsRestart: [{ key: "commandInterface.address", from: "\"tcp://127.0.0.1:5570\"", to: "\"tcp://127.0.0.1:5571\"" }],
  results: []
}

/** A reload port that records its requests and answers with `answer`. */
const recording = (requests: Ref.Ref<ReadonlyArray<ReloadRequest>>, answer: (request: ReloadRequest) => Effect.Effect<ReloadPlan, ReloadFailed>) =>
  Layer.succeed(ConfigReload, {
    reload: (reloadRequest) => Effect.andThen(Ref.update(requests, (all) => [...all, reloadRequest]), answer(reloadRequest))
  })

describe("reload", () => {
  it.effect("without a config file to reload (an embedded orchestrator), fails with ReloadFailed", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "reload" })).toEqual({
        status: "error",
        code: 500,
        reason: "ReloadFailed",
        error: "Failed to execute command: reload: nothing was changed: this orchestrator was not started from a config file ('orchestrate up'): " +
          "there is nothing to reload"
      })
    }).pipe(Effect.provide(harness())))

  it.effect("passes config and dry_run on, and answers with the plan in snake_case", () =>
    Effect.gen(function*() {
      const requests = yield* Ref.make<ReadonlyArray<ReloadRequest>>([])
      yield* Effect.gen(function*() {
        expect(yield* request({ command: "reload", args: [{ config: "/srv/app/next.json", dry_run: true }] })).toEqual({
          status: "success",
          data: {
            config: "/srv/app/config.json",
            dry_run: true,
            agents: { added: ["cache"], removed: ["migrate"], changed: ["api"], unchanged: ["db", "worker"] },
            settings: [{ key: "maxWorkers", from: "16", to: "4" }],
            needs_restart: [{ key: "commandInterface.address", from: "\"tcp://127.0.0.1:5570\"", to: "\"tcp://127.0.0.1:5571\"" }],
            results: []
          }
        })
        expect(yield* request({ command: "reload", args: [] })).toMatchObject({ status: "success" })
        expect(yield* request({ command: "reload", args: [{ dry_run: "yes" }] })).toMatchObject({
          status: "error",
          code: 400,
          reason: "InvalidArguments"
        })
        expect(yield* Ref.get(requests)).toEqual([{ config: "/srv/app/next.json", dryRun: true }, { config: undefined, dryRun: false }])
      }).pipe(Effect.provide(harness({ reload: recording(requests, () => Effect.succeed(plan)) })))
    }))

  it.effect("an invalid config is a 500 listing every problem; an agent that did not start fails the command, saying which", () =>
    Effect.gen(function*() {
      const requests = yield* Ref.make<ReadonlyArray<ReloadRequest>>([])
      const answer = (reloadRequest: ReloadRequest) =>
        reloadRequest.config === "/bad.json"
          ? Effect.fail(new ReloadFailed({
            reason: new InvalidConfig({ source: "/bad.json", problems: ["agents[0].restart: bad", "maxWorkers: too big"] })
          }))
          : Effect.succeed({
            ...plan,
            dryRun: false,
            results: [
              { agent: "cache", outcome: "failed", message: "agent 'cache' failed to start: spawn nope ENOENT", reason: "StartFailed" },
              { agent: "api", outcome: "done", message: "Agent 'api' restarted with its new definition" }
            ]
          } satisfies ReloadPlan)
      yield* Effect.gen(function*() {
        expect(yield* request({ command: "reload", args: [{ config: "/bad.json" }] })).toEqual({
          status: "error",
          code: 500,
          reason: "ReloadFailed",
          error: "Failed to execute command: reload: nothing was changed: invalid config /bad.json:\n  agents[0].restart: bad\n  maxWorkers: too big"
        })
        expect(yield* request({ command: "reload" })).toEqual({
          status: "error",
          code: 500,
          reason: "ExecutionFailed",
          error: "Failed to execute command: reload: 1 of 2 agents failed (cache)\n" +
            "cache: failed: agent 'cache' failed to start: spawn nope ENOENT\napi: done: Agent 'api' restarted with its new definition"
        })
      }).pipe(Effect.provide(harness({ reload: recording(requests, answer) })))
    }))

  it.effect("is refused to a principal limited to some agents: it acts on every agent", () =>
    Effect.gen(function*() {
      const keys = yield* curveFixture(["web-ops"])
      const requests = yield* Ref.make<ReadonlyArray<ReloadRequest>>([])
      const curve = {
        keyFile: keys.serverKeyFile,
        principals: [{ name: "web-ops", publicKey: keys.clients["web-ops"]?.publicKey ?? "", role: "all" as const, agents: ["web-*"] }]
      }
      const now = yield* Clock.currentTimeMillis
      const reply = yield* sendFrames(signedFrames(keys.credentials("web-ops"), { command: "reload" }, now)).pipe(
        Effect.provide(harness({ config: { curve }, reload: recording(requests, () => Effect.succeed(plan)) }))
      )
      expect(reply).toMatchObject({ status: "error", code: 403, reason: "NotAllowed" })
      expect(yield* Ref.get(requests)).toEqual([])
    }))
})
