/**
 * The orchestrator: runs agents with their dependencies, a worker pool and restart policies, records every
 * transition, and implements the ports the command interface talks to.
 *
 * Its layer provides `Orchestrator`, `OrchestratorQuery` and `OrchestratorControl`, and starts no agent:
 * `Orchestrator.run` starts them, so that everything else the application builds (a command interface binding its
 * socket, key files, an audit file) has had its chance to refuse start-up before any agent runs. Closing the layer
 * shuts the agents down; to keep a command interface answering while that happens, run `Orchestrator.run` inside
 * the layers, as `orchestrate up` does: it shuts down before any layer closes.
 */
import {
  Clock,
  Context,
  DateTime,
  Deferred,
  Duration,
  Effect,
  Fiber,
  FiberMap,
  HashMap,
  Layer,
  Option,
  Ref,
  Semaphore
} from "effect"
import { EventCategory, EventStore } from "../events/EventStore.ts"
import { DEFAULT_KEEP_LINES, LogStore } from "../logs/LogStore.ts"
import { isFinished, type OrchestratorState, type RunMode, waitingDescriptions } from "../protocol/Model.ts"
import type { AgentContext } from "./AgentContext.ts"
import type { AgentDefinition } from "./AgentDefinition.ts"
import { decide, pastTense, settledState } from "./AgentLifecycle.ts"
import { type AgentRecord, makeRecord, toStatus } from "./AgentRecord.ts"
import type { AgentRun } from "./AgentRun.ts"
import { makeAgentTable, type Records } from "./AgentTable.ts"
import { type Dependency, verdictOf } from "./dependencies.ts"
import {
  AgentNotFound,
  type AgentControlError,
  DependencyUnavailable,
  InvalidTransition,
  OrchestratorStopping,
  StartFailed
} from "../ports/errors.ts"
import { dependentsOf, describeGraph, startOrder } from "./graph.ts"
import { type AgentAction, type ControlResult, OrchestratorControl } from "../ports/OrchestratorControl.ts"
import { checkAgentGraph, ConfigError } from "./OrchestratorConfig.ts"
import * as Guardian from "./Guardian.ts"
import { OrchestratorQuery } from "../ports/OrchestratorQuery.ts"
import { makeProcessTable } from "./ProcessTable.ts"
import { graceOf, probeStatusesOf, supervise, type SupervisorEnv, unavailableDependency } from "./Supervisor.ts"

export interface OrchestratorOptions<R> {
  readonly maxWorkers: number
  readonly runMode: RunMode
  readonly agentStopTimeout: Duration.Duration
  readonly heartbeatInterval: Duration.Duration
  readonly agents: ReadonlyArray<AgentDefinition<R>>
}

/** Why a run ended, and which agents ended failed. */
export interface Completion {
  readonly reason: "finished" | "shutdown"
  readonly failed: ReadonlyArray<string>
}

export interface ShutdownReport {
  /** Agents that did not stop within their grace period and were killed. */
  readonly forcedKills: ReadonlyArray<string>
  readonly durationMs: number
}

export class Orchestrator extends Context.Service<Orchestrator, {
  readonly query: OrchestratorQuery["Service"]
  readonly control: OrchestratorControl["Service"]
  /** Starts the agents, in dependency order. Runs once; `run` calls it. */
  readonly start: Effect.Effect<void, Guardian.GuardianError>
  /** Completes when a shutdown is requested or, in `until-done` mode, when every agent has finished. */
  readonly awaitCompletion: Effect.Effect<Completion>
  /** Stops every agent, each after the agents that depend on it. Runs once; later calls wait for that run. */
  readonly shutdown: Effect.Effect<ShutdownReport>
}>()("effect-orchestrate/Orchestrator") {
  static readonly make = Effect.fnUntraced(function*<R = never>(options: OrchestratorOptions<R>) {
    const problems = checkAgentGraph(options.agents)
    if (problems.length > 0) return yield* new ConfigError({ source: "agents", problems })

    const events = yield* EventStore
    const provided = yield* Effect.serviceOption(LogStore)
    // The application's LogStore when it provides one (with files, say); otherwise one of the orchestrator's own.
    const logs = Option.isSome(provided) ? provided.value : yield* LogStore.make({ keepLines: DEFAULT_KEEP_LINES })
    const context = yield* Effect.context<Exclude<R, AgentContext>>()
    const nodes = options.agents.map((agent) => ({ name: agent.name, dependencies: agent.dependsOn }))
    const order = startOrder(nodes)
    const startNames = order._tag === "Success" ? order.success : []
    const byName = new Map(options.agents.map((agent) => [agent.name, agent]))
    const startedAt = yield* Clock.currentTimeMillis
    const startedAtInstant = DateTime.makeUnsafe(startedAt)
    const state = yield* Ref.make<OrchestratorState>("starting")
    const shutdownRequested = yield* Deferred.make<void>()
    const table = yield* makeAgentTable(
      options.agents.map((agent) =>
        makeRecord({
          name: agent.name,
          kind: agent._tag === "ProcessAgent" ? "process" : "effect",
          dependencies: agent.dependsOn,
          restartPolicy: agent.restart,
          probes: probeStatusesOf(agent)
        })
      ),
      events
    )
    const supervisors = yield* FiberMap.make<string>()
    // Launches and the start of a shutdown take turns, so that no agent is launched behind a shutdown's back.
    const lifecycle = yield* Semaphore.make(1)
    const env: SupervisorEnv = {
      table,
      events,
      slots: yield* Semaphore.make(options.maxWorkers),
      runs: yield* Ref.make(HashMap.empty<string, AgentRun>()),
      forced: yield* Ref.make<ReadonlyArray<string>>([]),
      heartbeatInterval: options.heartbeatInterval,
      agentStopTimeout: options.agentStopTimeout,
      guardian: options.agents.some((agent) => agent._tag === "ProcessAgent") ? yield* Guardian.make : Guardian.none,
      processes: makeProcessTable(),
      logs
    }

    const recordOrchestrator = (eventName: string, data: Record<string, unknown>) =>
      events.record({ eventName, category: EventCategory.orchestrator, data })

    /** Queues an agent and hands it to a new supervisor fiber. */
    /**
     * Queues an agent and hands it to a new supervisor fiber. Under the lifecycle lock, with the state checked: a
     * start or restart that was decided before a shutdown began must not launch after it has swept the agents.
     */
    const launch = (
      agent: AgentDefinition<R>,
      change: (record: AgentRecord) => Partial<AgentRecord>,
      extra: ReadonlyArray<{ readonly eventName: string; readonly data?: Record<string, unknown> }> = []
    ) =>
      lifecycle.withPermit(Effect.gen(function*() {
        const current = yield* Ref.get(state)
        if (current === "stopping" || current === "stopped") {
          yield* Effect.orDie(table.modify(agent.name, (record) => record.restarting ? { patch: { restarting: false } } : undefined))
          return yield* new OrchestratorStopping({ action: `start agent '${agent.name}'` })
        }
        yield* Effect.orDie(table.modify(agent.name, (record) => ({
          patch: { ...change(record), state: "queued", waitingFor: null, pid: null, restarting: false },
          events: [...extra, { eventName: "AGENT_QUEUED" }]
        })))
        yield* FiberMap.run(supervisors, agent.name, Effect.provideContext(supervise(agent, env), context))
      }))

    const now = Clock.currentTimeMillis
    const statusOf = (record: AgentRecord) => Effect.map(now, (millis) => toStatus(record, millis))

    const result = (message: string, record: AgentRecord, already = false): Effect.Effect<ControlResult> =>
      Effect.map(statusOf(record), (agent) => ({ message, agent, already }))

    /** After a (re)start: wait until the supervisor has started the agent, or has had to make it wait. */
    const settled = (name: string) =>
      table.waitFor((records) => {
        const record = Option.getOrUndefined(HashMap.get(records, name))
        return record !== undefined && (record.state !== "queued" || record.waitingFor !== null) ? record : undefined
      })

    const describeStart = (name: string, verb: string, record: AgentRecord) =>
      record.state === "failed"
        ? Effect.fail(new StartFailed({ agent: name, lastError: record.lastError }))
        : result(
          record.state === "queued" && record.waitingFor !== null
            ? `Agent '${name}' queued: ${waitingDescriptions[record.waitingFor]}`
            : `Agent '${name}' ${verb}`,
          record
        )

    const stopSupervisor = (name: string) =>
      Effect.flatMap(FiberMap.get(supervisors, name), (fiber) =>
        Option.isSome(fiber) ? Effect.as(Fiber.interrupt(fiber.value), true) : Effect.succeed(false))

    const ensureRunning = (action: string) =>
      Effect.flatMap(Ref.get(state), (current) =>
        current === "stopping" || current === "stopped" ? Effect.fail(new OrchestratorStopping({ action })) : Effect.void)

    /** Refuses before anything is stopped: a start that cannot succeed must leave the agent as it was. */
    const ensureStartable = (agent: AgentDefinition<R>, action: "start" | "restart") =>
      Effect.flatMap(table.snapshot, (records) => {
        const unavailable = unavailableDependency(agent.name, agent.dependencies, records)
        return unavailable === undefined
          ? Effect.void
          : Effect.fail(new DependencyUnavailable({ agent: agent.name, action, dependency: unavailable.name, state: unavailable.state }))
      })

    const describeStop = (agent: AgentDefinition<R>, record: AgentRecord) =>
      record.stopForced
        ? `Agent '${agent.name}' stopped: killed after its grace period of ${Duration.format(graceOf(agent, env))}`
        : `Agent '${agent.name}' stopped`

    /** Pauses or resumes the program of a running (or paused) agent. */
    const signalRun = (record: AgentRecord, action: "pause" | "resume") =>
      Effect.gen(function*() {
        const run = Option.getOrUndefined(HashMap.get(yield* Ref.get(env.runs), record.name))
        // Decided on a state that has changed since: its program ended.
        if (run === undefined) return yield* new InvalidTransition({ agent: record.name, action, state: record.state })
        yield* action === "pause" ? run.pause : run.resume
        const after = yield* table.modify(record.name, (current) =>
          current.state === record.state
            ? { patch: { state: settledState(action) }, events: [{ eventName: action === "pause" ? "AGENT_PAUSED" : "AGENT_RESUMED" }] }
            : undefined)
        return yield* result(`Agent '${record.name}' ${pastTense[action]}`, after)
      })

    /** Stops an agent and queues it again, after checking that it can start; `data` says why (AGENT_RESTARTED). */
    const restartAgent = (agent: AgentDefinition<R>, data: Record<string, unknown>, note: string) =>
      Effect.gen(function*() {
        yield* ensureRunning(`restart agent '${agent.name}'`)
        yield* ensureStartable(agent, "restart")
        yield* Effect.orDie(table.modify(agent.name, () => ({ patch: { restarting: true } })))
        yield* stopSupervisor(agent.name)
        yield* logs.append(agent.name, "orchestrator", note)
        yield* launch(agent, (record) => ({ restarts: record.restarts + 1 }), [{ eventName: "AGENT_RESTARTED", data }])
      })

    /**
     * Compose's `depends_on.restart`: whenever `edge.agent` is restarted (on request, by its policy or for its
     * liveness), `agent` is restarted once the dependency meets the edge's condition again, if it is still up
     * (starting, running or paused). Restarting it counts as a restart of its own, so a chain of such edges
     * restarts each agent in order, after the one it depends on.
     */
    const followRestarts = (agent: AgentDefinition<R>, edge: Dependency) =>
      Effect.gen(function*() {
        const restartsOf = (records: Records) => Option.getOrUndefined(HashMap.get(records, edge.agent))?.restarts ?? 0
        let seen = restartsOf(yield* table.snapshot)
        for (;;) {
          // A restart of the dependency, then its verdict once it has been settled: met again, or never.
          const restarts = yield* table.waitFor((records) => restartsOf(records) > seen ? restartsOf(records) : undefined)
          const verdict = yield* table.waitFor((records) => {
            const dependency = Option.getOrUndefined(HashMap.get(records, edge.agent))
            if (dependency === undefined) return undefined
            // Restarted once more meanwhile: wait for that run instead.
            if (dependency.restarts > restarts) return { _tag: "Again" } as const
            const current = verdictOf(agent.name, edge, dependency)
            return current._tag === "Waiting" ? undefined : current
          })
          if (verdict._tag === "Again") continue
          seen = restartsOf(yield* table.snapshot)
          if (verdict._tag !== "Met") continue
          const dependent = yield* Effect.orDie(table.get(agent.name))
          if (dependent.state !== "starting" && dependent.state !== "running" && dependent.state !== "paused") continue
          yield* restartAgent(agent, { reason: "dependency", dependency: edge.agent }, `restarted (dependency '${edge.agent}' was restarted)`).pipe(
            Effect.catch((error) => logs.append(agent.name, "orchestrator", `not restarted after '${edge.agent}': ${error.message}`))
          )
        }
      })

    const control = OrchestratorControl.of({
      control: Effect.fn("Orchestrator.control")(function*(action: AgentAction, name: string): Effect.fn.Return<ControlResult, AgentControlError> {
        const agent = byName.get(name)
        if (agent === undefined) return yield* new AgentNotFound({ agent: name })
        const record = yield* table.get(name)
        switch (decide(action, record.state)) {
          case "already":
            return yield* result(`Agent '${name}' is already ${record.state}`, record, true)
          case "refuse":
            return yield* new InvalidTransition({ agent: name, action, state: record.state })
          case "act":
            break
        }
        switch (action) {
          case "start": {
            yield* ensureRunning(`start agent '${name}'`)
            yield* ensureStartable(agent, "start")
            yield* launch(agent, () => ({}))
            return yield* describeStart(name, "started", yield* settled(name))
          }
          case "stop": {
            const stopped = yield* stopSupervisor(name)
            const after = yield* table.get(name)
            return yield* result(stopped ? describeStop(agent, after) : `Agent '${name}' is already ${after.state}`, after, !stopped)
          }
          case "restart": {
            yield* restartAgent(agent, { reason: "requested" }, "restarted (requested)")
            return yield* describeStart(name, "restarted", yield* settled(name))
          }
          case "pause":
          case "resume":
            return yield* signalRun(record, action)
        }
      }),
      // Recorded before the request is signalled, so the history shows the request ahead of the shutdown it starts.
      requestShutdown: Effect.uninterruptible(Effect.gen(function*() {
        if (yield* Deferred.isDone(shutdownRequested)) return
        yield* recordOrchestrator("ORCHESTRATOR_SHUTDOWN_REQUESTED", {})
        yield* Deferred.succeed(shutdownRequested, undefined)
      }))
    })

    const query = OrchestratorQuery.of({
      snapshot: Effect.gen(function*() {
        const millis = yield* now
        const records = yield* table.records
        return {
          state: yield* Ref.get(state),
          runMode: options.runMode,
          startedAt: startedAtInstant,
          uptimeSeconds: (millis - startedAt) / 1000,
          maxWorkers: options.maxWorkers,
          agents: records.map((record) => toStatus(record, millis))
        }
      }),
      agent: (name) => Effect.flatMap(table.get(name), statusOf),
      logs: (query) =>
        Effect.flatMap(
          Effect.forEach(query.agents ?? [], (name) => table.get(name), { discard: true }),
          () => logs.query(query)
        ),
      dependencies: Effect.map(table.records, (records) =>
        describeGraph(
          records.map((record) => ({
            name: record.name,
            state: record.state,
            dependencies: record.dependencies,
            edges: byName.get(record.name)?.dependencies ?? []
          })),
          startNames
        ))
    })

    const failedAgents = Effect.map(table.records, (records) =>
      records.filter((record) => record.state === "failed").map((record) => record.name))

    const allFinished = table.waitFor((records) =>
      HashMap.every(records, (record) => isFinished(record.state)) ? true : undefined)

    const awaitCompletion: Effect.Effect<Completion> = Effect.raceFirst(
      Effect.as(Deferred.await(shutdownRequested), "shutdown" as const),
      options.runMode === "until-done" ? Effect.as(allFinished, "finished" as const) : Effect.never
    ).pipe(Effect.flatMap((reason) => Effect.map(failedAgents, (failed) => ({ reason, failed }))))

    const dependents = dependentsOf(nodes)
    const shutdown = yield* Effect.cached(Effect.gen(function*() {
      const began = yield* now
      yield* lifecycle.withPermit(Ref.set(state, "stopping"))
      yield* recordOrchestrator("ORCHESTRATOR_STOPPING", {})
      yield* Ref.set(env.forced, [])
      const stopped = new Map(options.agents.map((agent) => [agent.name, Deferred.makeUnsafe<void>()]))
      const done = (name: string) => stopped.get(name) ?? Deferred.makeUnsafe<void>()
      yield* Effect.forEach(options.agents, (agent) =>
        Effect.gen(function*() {
          for (const dependent of dependents.get(agent.name) ?? []) yield* Deferred.await(done(dependent))
          yield* stopSupervisor(agent.name)
          yield* Deferred.succeed(done(agent.name), undefined)
        }), { concurrency: "unbounded", discard: true })
      const report: ShutdownReport = { forcedKills: yield* Ref.get(env.forced), durationMs: (yield* now) - began }
      yield* recordOrchestrator("ORCHESTRATOR_SHUTDOWN", {
        forced_kills: report.forcedKills,
        duration_ms: report.durationMs
      })
      yield* Ref.set(state, "stopped")
      return report
    }).pipe(Effect.withSpan("Orchestrator.shutdown")))
    // Closing the layer without a shutdown still stops everything in order (registered after the FiberMap, so it
    // runs before the FiberMap interrupts whatever is left).
    yield* Effect.addFinalizer(() => shutdown)
    // After the shutdown's finalizer, so that they are interrupted before it runs.
    for (const agent of options.agents) {
      for (const edge of agent.dependencies) {
        if (edge.restart) yield* Effect.forkScoped(followRestarts(agent, edge))
      }
    }

    const start = yield* Effect.cached(Effect.uninterruptible(Effect.gen(function*() {
      if ((yield* Ref.get(state)) !== "starting") return
      yield* env.guardian.ensure
      yield* recordOrchestrator("ORCHESTRATOR_STARTED", {
        agents: options.agents.length,
        max_workers: options.maxWorkers,
        run_mode: options.runMode
      })
      for (const agent of options.agents) {
        yield* events.record({ eventName: "AGENT_REGISTERED", category: EventCategory.agent, agentName: agent.name })
      }
      if (order._tag === "Success") {
        for (const name of order.success) {
          const agent = byName.get(name)
          // An operator's `start` may have come first, through an interface that was listening already.
          // A shutdown that began meanwhile has the last word: what is not launched yet stays so.
          if (agent !== undefined && !(yield* FiberMap.has(supervisors, name))) {
            yield* launch(agent, () => ({})).pipe(Effect.catchTag("OrchestratorStopping", () => Effect.void))
          }
        }
      }
      yield* Ref.set(state, "running")
    }).pipe(Effect.withSpan("Orchestrator.start"))))

    return Orchestrator.of({ query, control, start, awaitCompletion, shutdown })
  })

  static readonly layer = <R = never>(
    options: OrchestratorOptions<R>
  ): Layer.Layer<
    Orchestrator | OrchestratorQuery | OrchestratorControl,
    ConfigError,
    // The orchestrator provides AgentContext itself; an agent's other requirements come from the layer's.
    EventStore | Exclude<R, AgentContext>
  > =>
    Layer.effectContext(Effect.map(Orchestrator.make(options), (orchestrator) =>
      Context.make(Orchestrator, orchestrator).pipe(
        Context.add(OrchestratorQuery, orchestrator.query),
        Context.add(OrchestratorControl, orchestrator.control)
      )))

  /**
   * Starts the agents and runs until completion, then shuts down; an interruption (Ctrl-C) shuts down too. Inside
   * the application's layers, so the command interface keeps answering while agents stop.
   */
  static readonly run: Effect.Effect<Completion & ShutdownReport, Guardian.GuardianError, Orchestrator> = Effect.gen(function*() {
    const orchestrator = yield* Orchestrator
    yield* orchestrator.start
    const completion = yield* orchestrator.awaitCompletion.pipe(Effect.onInterrupt(() => orchestrator.shutdown))
    return { ...completion, ...(yield* orchestrator.shutdown) }
  })
}
