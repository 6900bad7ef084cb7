import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Ref } from "effect"
import { TestClock } from "effect/testing"
import { EventStore } from "../../src/events/EventStore.ts"
import { AgentContext } from "../../src/orchestrator/AgentContext.ts"
import { effectAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { awaitState, awaitStatus, eventNames, eventsOf, linesOf, orchestratorLayer, statusOf } from "../support/orchestrator.ts"

const control = (action: "start" | "stop" | "restart" | "pause" | "resume", agent: string) =>
  Orchestrator.use((o) => o.control.control(action, agent))

/** An agent that runs until `gate` opens. */
const gated = (name: string, gate: Deferred.Deferred<void>, options: { readonly dependsOn?: ReadonlyArray<string> } = {}) =>
  effectAgent({ name, run: Deferred.await(gate), ...options })

/** An agent that signals readiness once `gate` opens, then runs until stopped. */
const readyAfter = (name: string, gate: Deferred.Deferred<void>) =>
  effectAgent({
    name,
    signalsReady: true,
    run: Effect.gen(function*() {
      yield* Deferred.await(gate)
      yield* (yield* AgentContext).ready
      yield* Effect.never
    })
  })

describe("orchestrator with Effect agents", () => {
  it.effect("an agent whose program ends is completed, with every transition recorded", () =>
    Effect.gen(function*() {
      const result = yield* Orchestrator.run
      expect(result).toMatchObject({ reason: "finished", failed: [], forcedKills: [] })
      expect((yield* statusOf("job")).state).toBe("completed")
      expect(yield* eventNames("job")).toEqual([
        "AGENT_REGISTERED",
        "AGENT_QUEUED",
        "AGENT_STARTED",
        "AGENT_READY",
        "AGENT_COMPLETED"
      ])
      const orchestratorEvents = yield* EventStore.use((s) => s.query({ category: "orchestrator", limit: 10 }))
      expect(orchestratorEvents.events.map((e) => e.eventName)).toEqual([
        "ORCHESTRATOR_STARTED",
        "ORCHESTRATOR_STOPPING",
        "ORCHESTRATOR_SHUTDOWN"
      ])
    }).pipe(Effect.provide(orchestratorLayer([effectAgent({ name: "job", run: Effect.void })], { runMode: "until-done" }))))

  it.effect("an agent whose program fails is failed, with the error", () =>
    Effect.gen(function*() {
      expect(yield* Orchestrator.run).toMatchObject({ reason: "finished", failed: ["job"] })
      const status = yield* statusOf("job")
      expect(status).toMatchObject({ state: "failed", lastError: "Error: disk full" })
      const [failed] = yield* eventsOf("job", "AGENT_FAILED")
      expect(failed?.data).toMatchObject({ reason: "Error: disk full" })
      expect(failed?.severity).toBe("error")
    }).pipe(Effect.provide(orchestratorLayer([
      effectAgent({ name: "job", run: Effect.fail(new Error("disk full")) })
    ], { runMode: "until-done" }))))

  it.effect("an agent that signals readiness is starting until it does", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        yield* awaitState("server", "starting")
        yield* Deferred.succeed(gate, undefined)
        yield* awaitState("server", "running")
      }).pipe(Effect.provide(orchestratorLayer([readyAfter("server", gate)])))
    }))

  it.effect("runs at most maxWorkers agents; the rest wait queued for a slot, in order", () =>
    Effect.gen(function*() {
      const [g0, g1, g2, g3] = yield* Effect.all([Deferred.make<void>(), Deferred.make<void>(), Deferred.make<void>(), Deferred.make<void>()])
      yield* Effect.gen(function*() {
        yield* awaitState("a1", "running")
        yield* awaitState("a2", "running")
        expect(yield* statusOf("a3")).toMatchObject({ state: "queued", waitingFor: "worker" })
        expect(yield* statusOf("a4")).toMatchObject({ state: "queued", waitingFor: "worker" })
        yield* Deferred.succeed(g0, undefined)
        yield* awaitState("a3", "running")
        expect(yield* statusOf("a4")).toMatchObject({ state: "queued", waitingFor: "worker" })
        const stats = yield* Orchestrator.use((o) => o.query.snapshot)
        expect(stats.agents.filter((a) => a.state === "running").length).toBe(2)
      }).pipe(Effect.provide(orchestratorLayer(
        [gated("a1", g0), gated("a2", g1), gated("a3", g2), gated("a4", g3)],
        { maxWorkers: 2 }
      )))
    }))

  it.effect("starts an agent only once its dependencies are ready", () =>
    Effect.gen(function*() {
      const dbReady = yield* Deferred.make<void>()
      const forever = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        yield* awaitState("db", "starting")
        expect(yield* statusOf("api")).toMatchObject({ state: "queued", waitingFor: "dependencies" })
        yield* Deferred.succeed(dbReady, undefined)
        yield* awaitState("api", "running")
        const started = yield* EventStore.use((s) => s.query({ event: "AGENT_READY", limit: 10 }))
        expect(started.events.map((e) => e.agentName)).toEqual(["db", "api"])
      }).pipe(Effect.provide(orchestratorLayer([
        gated("api", forever, { dependsOn: ["db"] }),
        readyAfter("db", dbReady)
      ])))
    }))

  it.effect("fails the agents that depend on an agent that failed before it was ready", () =>
    Effect.gen(function*() {
      const result = yield* Orchestrator.run
      expect(result.failed).toEqual(["db", "api", "web"])
      expect(yield* statusOf("api")).toMatchObject({ state: "failed", lastError: "dependency 'db' failed" })
      expect(yield* statusOf("web")).toMatchObject({ state: "failed", lastError: "dependency 'api' failed" })
    }).pipe(Effect.provide(orchestratorLayer([
      effectAgent({ name: "db", signalsReady: true, run: Effect.fail("no disk") }),
      effectAgent({ name: "api", run: Effect.never, dependsOn: ["db"] }),
      effectAgent({ name: "web", run: Effect.never, dependsOn: ["api"] })
    ], { runMode: "until-done" }))))

  it.effect("restarts a failing agent with capped exponential backoff, then gives up", () =>
    Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      yield* Effect.gen(function*() {
        const restarting = (restarts: number) => (s: { readonly state: string; readonly restarts: number }) =>
          s.state === "queued" && s.restarts === restarts
        yield* awaitStatus("flaky", restarting(1))
        expect(yield* statusOf("flaky")).toMatchObject({ waitingFor: "backoff", lastError: "crash 1" })
        yield* TestClock.adjust("999 millis")
        expect(yield* Ref.get(runs)).toBe(1)
        yield* TestClock.adjust("1 millis")
        yield* awaitStatus("flaky", restarting(2))
        yield* TestClock.adjust("2 seconds")
        yield* awaitStatus("flaky", restarting(3))
        yield* TestClock.adjust("3 seconds")
        const final = yield* awaitState("flaky", "failed")
        expect(final).toMatchObject({ restarts: 3, lastError: "crash 4 (gave up after 3 restarts in a row)" })
        const restarts = yield* eventsOf("flaky", "AGENT_RESTARTED")
        expect(restarts.map((e) => e.data["delay_ms"])).toEqual([1000, 2000, 3000])
        expect(yield* Ref.get(runs)).toBe(4)
      }).pipe(Effect.provide(orchestratorLayer([effectAgent({
        name: "flaky",
        restart: "on-failure",
        maxRestarts: 3,
        backoff: { initial: "1 second", factor: 2, max: "3 seconds" },
        run: Effect.flatMap(Ref.updateAndGet(runs, (n) => n + 1), (n) => Effect.fail(`crash ${n}`))
      })])))
    }))

  it.effect("restarts an `always` agent after it completes, and not an `on-failure` one", () =>
    Effect.gen(function*() {
      yield* awaitStatus("always", (s) => s.restarts === 2, { times: 10_000 })
      yield* awaitState("once", "completed")
      expect((yield* statusOf("once")).restarts).toBe(0)
    }).pipe(
      Effect.provide(orchestratorLayer([
        effectAgent({ name: "always", restart: "always", backoff: { initial: 0 }, run: Effect.void }),
        effectAgent({ name: "once", restart: "on-failure", run: Effect.void })
      ])),
      // Backoff sleeps use the TestClock; keep time moving while the agent cycles.
      Effect.race(Effect.forever(TestClock.adjust("1 millis")))
    ))

  it.effect("forgives a failure after a run that lasted `resetAfter`", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        for (let i = 1; i <= 3; i++) {
          yield* TestClock.adjust("10 seconds")
          yield* awaitStatus("steady", (s) => s.restarts === i)
          yield* TestClock.adjust("1 second")
        }
        expect((yield* statusOf("steady")).state).not.toBe("failed")
      }).pipe(Effect.provide(orchestratorLayer([effectAgent({
        name: "steady",
        restart: "on-failure",
        maxRestarts: 1,
        backoff: { initial: "1 second", resetAfter: "10 seconds" },
        run: Effect.andThen(Effect.sleep("10 seconds"), Effect.fail("wore out"))
      })])))
    }))

  it.effect("pauses an agent at its next checkpoint and resumes it", () =>
    Effect.gen(function*() {
      const ticks = yield* Ref.make(0)
      yield* Effect.gen(function*() {
        yield* awaitState("worker", "running")
        yield* TestClock.adjust("3 seconds")
        const paused = yield* control("pause", "worker")
        expect(paused).toMatchObject({ message: "Agent 'worker' paused", agent: { state: "paused" } })
        const atPause = yield* Ref.get(ticks)
        yield* TestClock.adjust("10 seconds")
        expect(yield* Ref.get(ticks)).toBeLessThanOrEqual(atPause + 1)
        expect(yield* control("pause", "worker")).toMatchObject({ message: "Agent 'worker' is already paused" })
        yield* control("resume", "worker")
        yield* TestClock.adjust("5 seconds")
        expect(yield* Ref.get(ticks)).toBeGreaterThanOrEqual(atPause + 4)
        expect(yield* eventNames("worker")).toEqual(expect.arrayContaining(["AGENT_PAUSED", "AGENT_RESUMED"]))
      }).pipe(Effect.provide(orchestratorLayer([effectAgent({
        name: "worker",
        run: Effect.gen(function*() {
          const context = yield* AgentContext
          for (;;) {
            yield* context.checkpoint
            yield* Ref.update(ticks, (n) => n + 1)
            yield* context.heartbeat
            yield* Effect.sleep("1 second")
          }
        })
      })])))
    }))

  it.effect("stops, starts and restarts agents on request", () =>
    Effect.gen(function*() {
      yield* awaitState("svc", "running")
      expect(yield* control("stop", "svc")).toMatchObject({ message: "Agent 'svc' stopped", agent: { state: "stopped", uptimeSeconds: null } })
      expect(yield* control("stop", "svc")).toMatchObject({ message: "Agent 'svc' is already stopped" })
      expect(yield* control("start", "svc")).toMatchObject({ message: "Agent 'svc' started", agent: { state: "running", restarts: 0 } })
      expect(yield* control("start", "svc")).toMatchObject({ message: "Agent 'svc' is already running" })
      expect(yield* control("restart", "svc")).toMatchObject({ message: "Agent 'svc' restarted", agent: { state: "running", restarts: 1 } })
      const [restarted] = yield* eventsOf("svc", "AGENT_RESTARTED")
      expect(restarted?.data).toEqual({ reason: "requested" })
      expect(yield* eventNames("svc", { event: "AGENT_STOPPED" })).toHaveLength(2)
    }).pipe(Effect.provide(orchestratorLayer([effectAgent({ name: "svc", run: Effect.never })]))))

  it.effect("an Effect agent's own logs are its output lines: warnings and errors on stderr", () =>
    Effect.gen(function*() {
      yield* awaitState("talker", "completed")
      expect((yield* linesOf("talker")).map(({ stream, line }) => ({ stream, line }))).toEqual([
        { stream: "stdout", line: "hello 42" },
        { stream: "stderr", line: "careful {\"retries\":3}" },
        { stream: "stderr", line: "broken" }
      ])
    }).pipe(Effect.provide(orchestratorLayer([effectAgent({
      name: "talker",
      run: Effect.gen(function*() {
        yield* Effect.logInfo("hello", 42)
        yield* Effect.logWarning("careful", { retries: 3 })
        yield* Effect.logError("broken")
      })
    })]))))

  it.effect("a restart is noted in the agent's lines, between one run's output and the next", () =>
    Effect.gen(function*() {
      yield* awaitStatus("flaky", (status) => status.restarts === 2)
      const lines = (yield* linesOf("flaky")).map(({ stream, line }) => `${stream} ${line}`)
      expect(lines.slice(0, 4)).toEqual([
        "stdout run",
        "orchestrator restarted (attempt 1, after 0 ms)",
        "stdout run",
        "orchestrator restarted (attempt 2, after 0 ms)"
      ])
    }).pipe(Effect.provide(orchestratorLayer([effectAgent({
      name: "flaky",
      restart: "always",
      backoff: { initial: 0 },
      run: Effect.logInfo("run")
    })]))))

  it.live("restarting a dependency does not fail the dependents waiting for it", () =>
    Effect.gen(function*() {
      yield* awaitState("db", "starting", { every: "5 millis" })
      yield* awaitStatus("api", (status) => status.waitingFor === "dependencies", { every: "5 millis" })
      expect(yield* control("restart", "db")).toMatchObject({ message: "Agent 'db' restarted" })
      expect(yield* statusOf("api")).toMatchObject({ state: "queued", waitingFor: "dependencies", lastError: null })
    }).pipe(Effect.provide(orchestratorLayer([
      // Never ready: stuck starting, which is when an operator restarts it.
      effectAgent({ name: "db", signalsReady: true, run: Effect.never }),
      effectAgent({ name: "api", dependsOn: ["db"], run: Effect.never })
    ]))))

  it.live("a restart overtaken by a shutdown does not start the agent again after it", () =>
    Effect.gen(function*() {
      yield* awaitState("db", "running", { every: "5 millis" })
      const orchestrator = yield* Orchestrator
      // The restart's stop takes 300 ms; the shutdown begins meanwhile.
      const restart = yield* Effect.forkChild(Effect.flip(control("restart", "db")))
      yield* awaitState("db", "stopping", { every: "5 millis" })
      yield* orchestrator.shutdown
      expect((yield* Fiber.join(restart)).message).toBe("cannot start agent 'db': the orchestrator is shutting down")
      yield* Effect.sleep("100 millis")
      expect((yield* statusOf("db")).state).toBe("stopped")
    }).pipe(Effect.provide(orchestratorLayer([
      effectAgent({ name: "db", run: Effect.never.pipe(Effect.onInterrupt(() => Effect.sleep("300 millis"))) })
    ]))))

  it.effect("refuses to restart or start an agent whose dependency is stopped, before stopping anything", () =>
    Effect.gen(function*() {
      for (const name of ["db", "api", "worker"]) yield* awaitState(name, "running")
      yield* control("stop", "db")
      const apiBefore = yield* statusOf("api")
      const refused = yield* Effect.flip(control("restart", "api"))
      expect(refused).toMatchObject({ _tag: "DependencyUnavailable", agent: "api", dependency: "db", state: "stopped" })
      expect(refused.message).toBe("cannot restart agent 'api': its dependency 'db' is stopped")
      // Nothing was stopped: api runs as it did, with the restart count it had, and so does worker, which needs it.
      expect(yield* statusOf("api")).toMatchObject({ state: "running", restarts: apiBefore.restarts, startedAt: apiBefore.startedAt })
      expect((yield* statusOf("worker")).state).toBe("running")
      expect(yield* eventNames("api", { event: "AGENT_STOPPED" })).toEqual([])

      yield* control("stop", "worker")
      yield* control("stop", "api")
      expect((yield* Effect.flip(control("start", "api"))).message).toBe("cannot start agent 'api': its dependency 'db' is stopped")
      expect((yield* statusOf("api")).state).toBe("stopped")
      yield* control("start", "db")
      expect(yield* control("start", "api")).toMatchObject({ message: "Agent 'api' started", agent: { state: "running" } })
    }).pipe(Effect.provide(orchestratorLayer([
      effectAgent({ name: "db", run: Effect.never }),
      effectAgent({ name: "api", run: Effect.never, dependsOn: ["db"] }),
      effectAgent({ name: "worker", run: Effect.never, dependsOn: ["api"] })
    ]))))

  it.effect("refuses what an agent's state or the orchestrator's does not allow", () =>
    Effect.gen(function*() {
      yield* awaitState("done", "completed")
      const error = (action: "pause" | "resume" | "start", name: string) => Effect.flip(control(action, name))
      expect((yield* error("pause", "done")).message).toBe("cannot pause agent 'done': it is completed")
      expect((yield* error("resume", "done")).message).toBe("cannot resume agent 'done': it is completed")
      expect((yield* error("pause", "ghost")).message).toBe("agent not found: 'ghost'")
      yield* Orchestrator.use((o) => o.shutdown)
      expect((yield* error("start", "done")).message).toBe("cannot start agent 'done': the orchestrator is shutting down")
    }).pipe(Effect.provide(orchestratorLayer([effectAgent({ name: "done", run: Effect.void })]))))

  // A fiber stuck in an uninterruptible region cannot be killed: after the grace period it is abandoned, and
  // the stop reports that it was forced. These run on the real clock, with a short grace period.
  it.live("forces a stop that does not finish within the grace period", () =>
    Effect.gen(function*() {
      yield* awaitState("stuck", "running", { every: "5 millis" })
      expect(yield* control("stop", "stuck")).toMatchObject({ agent: { state: "stopped" } })
      const [stopped] = yield* eventsOf("stuck", "AGENT_STOPPED")
      expect(stopped?.data).toEqual({ forced: true, grace_ms: 200 })
    }).pipe(Effect.provide(orchestratorLayer([
      effectAgent({ name: "stuck", stopTimeout: "200 millis", run: Effect.uninterruptible(Effect.never) })
    ]))))

  it.live("shuts down dependents before their dependencies, and reports forced kills", () =>
    Effect.gen(function*() {
      const order = yield* Ref.make<ReadonlyArray<string>>([])
      const service = (name: string, dependsOn: ReadonlyArray<string> = []) =>
        effectAgent({
          name,
          dependsOn,
          run: Effect.never.pipe(Effect.onInterrupt(() => Ref.update(order, (names) => [...names, name])))
        })
      const report = yield* Effect.gen(function*() {
        yield* awaitState("web", "running", { every: "5 millis" })
        yield* awaitState("stubborn", "running", { every: "5 millis" })
        return yield* Orchestrator.use((o) => o.shutdown)
      }).pipe(Effect.provide(orchestratorLayer([
        service("db"),
        service("cache"),
        service("api", ["db", "cache"]),
        service("web", ["api"]),
        effectAgent({ name: "stubborn", run: Effect.uninterruptible(Effect.never) })
      ], { agentStopTimeout: Duration.millis(200), maxWorkers: 5 })))
      expect(report.forcedKills).toEqual(["stubborn"])
      const stopped = yield* Ref.get(order)
      expect(stopped.indexOf("web")).toBeLessThan(stopped.indexOf("api"))
      expect(stopped.indexOf("api")).toBeLessThan(stopped.indexOf("db"))
      expect(stopped.indexOf("api")).toBeLessThan(stopped.indexOf("cache"))
    }))

  it.effect("in daemon mode keeps running after every agent has finished, until a shutdown is requested", () =>
    Effect.gen(function*() {
      const orchestrator = yield* Orchestrator
      yield* awaitState("job", "completed")
      const completion = yield* Effect.forkChild(orchestrator.awaitCompletion)
      yield* TestClock.adjust(Duration.hours(1))
      expect(completion.pollUnsafe()).toBeUndefined()
      yield* orchestrator.control.requestShutdown
      expect(yield* Fiber.join(completion)).toEqual({ reason: "shutdown", failed: [] })
    }).pipe(Effect.provide(orchestratorLayer([effectAgent({ name: "job", run: Effect.void })]))))

  it.effect("rejects a dependency cycle at startup, naming it", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(orchestratorLayer([
        effectAgent({ name: "a", run: Effect.void, dependsOn: ["c"] }),
        effectAgent({ name: "b", run: Effect.void, dependsOn: ["a"] }),
        effectAgent({ name: "c", run: Effect.void, dependsOn: ["b"] })
      ])))
      expect(exit).toEqual(Exit.fail(expect.objectContaining({
        _tag: "ConfigError",
        problems: ["agents: dependency cycle: a -> c -> b -> a"]
      })))
    }))
})
