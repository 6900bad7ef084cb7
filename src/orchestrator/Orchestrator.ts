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
  Schema,
  Semaphore
} from "effect"
import { EventCategory, EventStore } from "../events/EventStore.ts"
import { currentLogging } from "../logContext.ts"
import { DEFAULT_KEEP_LINES, LogStore } from "../logs/LogStore.ts"
import { isFinished, type OrchestratorState, type RunMode, waitingDescriptions } from "../protocol/Model.ts"
import type { AgentContext } from "./AgentContext.ts"
import type { AgentDefinition } from "./AgentDefinition.ts"
import { decide, pastTense, settledState } from "./AgentLifecycle.ts"
import { type AgentRecord, makeRecord, makeStandings, toStatus } from "./AgentRecord.ts"
import type { AgentRun } from "./AgentRun.ts"
import { makeAgentTable, type Records } from "./AgentTable.ts"
import { type Dependency, dependenciesVerdict, verdictOf } from "./dependencies.ts"
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
import type { TargetResult } from "../protocol/Commands.ts"
import { checkAgentGraph, ConfigError } from "./OrchestratorConfig.ts"
import * as Guardian from "./Guardian.ts"
import { OrchestratorQuery, type SnapshotView, snapshotOf } from "../ports/OrchestratorQuery.ts"
import { makeProcessTable } from "./ProcessTable.ts"
import { ProcessStats } from "./ProcessStats.ts"
import { type AgentProcesses, ResourceUsage, type UsageOf } from "./ResourceUsage.ts"
import { graceOf, probeStatusesOf, supervise, type SupervisorEnv } from "./Supervisor.ts"

export interface OrchestratorOptions<R> {
  readonly maxWorkers: number
  readonly runMode: RunMode
  readonly agentStopTimeout: Duration.Duration
  readonly heartbeatInterval: Duration.Duration
  readonly agents: ReadonlyArray<AgentDefinition<R>>
  /**
   * Start the guardian even without process agents, so that a reload may add some (`orchestrate up` does); by
   * default only an orchestrator with process agents has one.
   */
  readonly guardian?: boolean
}

/** Why a run ended, and which agents ended failed. */
export interface Completion {
  readonly reason: "finished" | "shutdown"
  readonly failed: ReadonlyArray<string>
}

/**
 * A reload's new set of agents and settings, as the orchestrator applies it: agents no longer there are stopped
 * (dependents first) and removed; `changed` ones are stopped and started again with their new definition, unless
 * they were stopped on request (they keep it for their next start); new ones are registered and started, in
 * dependency order.
 */
export interface Reconfiguration<R> {
  /** Every agent from now on, in definition order. */
  readonly agents: ReadonlyArray<AgentDefinition<R>>
  /** Kept agents whose definition changed. */
  readonly changed: ReadonlyArray<string>
  readonly maxWorkers: number
  readonly agentStopTimeout: Duration.Duration
  readonly heartbeatInterval: Duration.Duration
}

/** An orchestrator without a guardian (it had no process agents) cannot be given process agents by a reload. */
export class NeedsGuardian extends Schema.TaggedError<NeedsGuardian>()("NeedsGuardian", { agents: Schema.Array(Schema.String) }) {
  override get message(): string {
    return `process agents (${this.agents.join(", ")}) need an orchestrator started with process supervision ` +
      `(its guardian); restart it with them in its config`
  }
}

export interface ShutdownReport {
  /** Agents that did not stop within their grace period and were killed. */
  readonly forcedKills: ReadonlyArray<string>
  readonly durationMs: number
}

/** The agents by name, in start order, and who depends on whom: what a reload replaces at once. */
const graphOf = <R>(agents: ReadonlyArray<AgentDefinition<R>>) => {
  const nodes = agents.map((agent) => ({ name: agent.name, dependencies: agent.dependsOn }))
  const order = startOrder(nodes)
  return {
    agents,
    byName: new Map(agents.map((agent) => [agent.name, agent])),
    // The graph has been checked: there is an order.
    startNames: order._tag === "Success" ? order.success : [],
    dependents: dependentsOf(nodes)
  }
}

/** What an agent's record takes from its definition. */
const definitionFields = (agent: AgentDefinition<unknown>) => ({
  name: agent.name,
  kind: agent._tag === "ProcessAgent" ? "process" as const : "effect" as const,
  dependencies: agent.dependsOn,
  restartPolicy: agent.restart,
  probes: probeStatusesOf(agent)
})

export class Orchestrator extends Context.Service<Orchestrator, {
  readonly query: OrchestratorQuery["Service"]
  readonly control: OrchestratorControl["Service"]
  /** Starts the agents, in dependency order. Runs once; `run` calls it. */
  readonly start: Effect.Effect<void, Guardian.GuardianError>
  /** Completes when a shutdown is requested or, in `until-done` mode, when every agent has finished. */
  readonly awaitCompletion: Effect.Effect<Completion>
  /** Stops every agent, each after the agents that depend on it. Runs once; later calls wait for that run. */
  readonly shutdown: Effect.Effect<ShutdownReport>
  /** Applies a reload (one at a time), returning each affected agent's outcome in the order applied. */
  readonly reconfigure: (
    change: Reconfiguration<never>
  ) => Effect.Effect<ReadonlyArray<TargetResult>, ConfigError | NeedsGuardian | OrchestratorStopping>
}>()("effect-orchestrate/Orchestrator") {
  static readonly make = Effect.fnUntraced(function*<R = never>(options: OrchestratorOptions<R>) {
    const problems = checkAgentGraph(options.agents)
    if (problems.length > 0) return yield* new ConfigError({ source: "agents", problems })

    const events = yield* EventStore
    const provided = yield* Effect.serviceOption(LogStore)
    // The application's LogStore when it provides one (with files, say); otherwise one of the orchestrator's own.
    const logs = Option.isSome(provided) ? provided.value : yield* LogStore.make({ keepLines: DEFAULT_KEEP_LINES })
    // Supervisors and followers run in this context, with the orchestrator's own logging, whatever fiber launches them.
    const context = Context.merge(yield* Effect.context<Exclude<R, AgentContext>>(), yield* currentLogging)
    // The agents and their graph, replaced as a whole by a reload.
    let graph = graphOf(options.agents)
    let maxWorkers = options.maxWorkers
    const startedAt = yield* Clock.currentTimeMillis
    const startedAtInstant = DateTime.makeUnsafe(startedAt)
    const state = yield* Ref.make<OrchestratorState>("starting")
    /** ORCHESTRATOR_STARTED has been recorded: a shutdown then records that it stopped. */
    let announced = false
    const shutdownRequested = yield* Deferred.make<void>()
    const table = yield* makeAgentTable(
      options.agents.map((agent) => makeRecord(definitionFields(agent))),
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
      guardian: options.guardian === true || options.agents.some((agent) => agent._tag === "ProcessAgent")
        ? yield* Guardian.make
        : Guardian.none,
      processes: makeProcessTable(),
      logs
    }
    // Read from /proc through the table the runs use, unless the application provides ProcessStats (a test's).
    const providedStats = yield* Effect.serviceOption(ProcessStats)
    const usage = yield* ResourceUsage.make.pipe(
      Effect.provideService(ProcessStats, Option.getOrElse(providedStats, () => ProcessStats.make(env.processes)))
    )
    /** The process agents' runs in progress, listed again only when a run starts or ends. */
    let listed: { readonly of: HashMap.HashMap<string, AgentRun>; readonly processes: ReadonlyArray<AgentProcesses> } | undefined
    const processesNow = (): ReadonlyArray<AgentProcesses> => {
      const runs = Ref.getUnsafe(env.runs)
      if (listed?.of !== runs) {
        const processes: Array<AgentProcesses> = []
        for (const [agent, run] of runs) if (run.processes !== undefined) processes.push({ agent, run: run.processes })
        listed = { of: runs, processes }
      }
      return listed.processes
    }
    /** What each process agent's run in progress uses, sampled at most once a second, only when asked. */
    const usageNow = Effect.suspend(() => usage.sample(processesNow()))

    const recordOrchestrator = (eventName: string, data: Record<string, unknown>) =>
      events.record({ eventName, category: EventCategory.orchestrator, data })

    const ensureRunning = (action: string) =>
      Effect.flatMap(Ref.get(state), (current) =>
        current === "stopping" || current === "stopped" ? Effect.fail(new OrchestratorStopping({ action })) : Effect.void)

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
        yield* ensureRunning(`start agent '${agent.name}'`).pipe(Effect.tapError(() =>
          Effect.orDie(table.modify(agent.name, (record) => record.restarting ? { patch: { restarting: false } } : undefined))))
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

    /** What a settled (re)start says of a record that has not failed: what it waits for, if queued, else `verb`. */
    const startMessage = (name: string, record: AgentRecord, verb: string, queued = "queued") =>
      record.state === "queued" && record.waitingFor !== null
        ? `Agent '${name}' ${queued}: ${waitingDescriptions[record.waitingFor]}`
        : `Agent '${name}' ${verb}`

    /** `after`: what the message says after the start, queued or not (a restart's forced stop). */
    const describeStart = (name: string, verb: string, record: AgentRecord, after?: string) =>
      record.state === "failed"
        ? Effect.fail(new StartFailed({ agent: name, lastError: record.lastError }))
        : result(`${startMessage(name, record, verb)}${after === undefined ? "" : `; ${after}`}`, record)

    /** Stops an agent's supervisor, if it has one, and says whether it had: in the span of whoever asked for the stop. */
    const stopSupervisor = (name: string) =>
      Effect.flatMap(FiberMap.get(supervisors, name), (fiber) =>
        Option.isSome(fiber)
          ? Effect.as(Fiber.interrupt(fiber.value), true).pipe(Effect.withSpan("Agent.stop", { attributes: { agent: name } }))
          : Effect.succeed(false))

    /** Refuses before anything is stopped: a start that cannot succeed must leave the agent as it was. */
    const ensureStartable = (agent: AgentDefinition<R>, action: "start" | "restart") =>
      Effect.flatMap(table.snapshot, (records) => {
        const verdict = dependenciesVerdict(agent.name, agent.dependencies, records)
        return verdict._tag === "Never"
          ? Effect.fail(new DependencyUnavailable({ agent: agent.name, action, dependency: verdict.dependency, state: verdict.state }))
          : Effect.void
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

    /**
     * Stops an agent and queues it again, after checking that it can start; `data` says why (AGENT_RESTARTED).
     * Says whether the run it stopped had to be killed after its grace period.
     */
    const restartAgent = (agent: AgentDefinition<R>, data: Record<string, unknown>, note: string) =>
      Effect.gen(function*() {
        yield* ensureRunning(`restart agent '${agent.name}'`)
        yield* ensureStartable(agent, "restart")
        yield* Effect.orDie(table.modify(agent.name, () => ({ patch: { restarting: true } })))
        const stopped = yield* stopSupervisor(agent.name)
        const forced = stopped && (yield* Effect.orDie(table.get(agent.name))).stopForced
        yield* logs.append(agent.name, "orchestrator", note)
        yield* launch(agent, (record) => ({ restarts: record.restarts + 1 }), [{ eventName: "AGENT_RESTARTED", data }])
        return forced
      }).pipe(Effect.withSpan("Agent.restart", { attributes: { agent: agent.name, ...data } }))

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
          // Restarted itself after its dependency was (a multi-target `restart` does that): it runs on the new one.
          const ownRestarts = (yield* Effect.orDie(table.get(agent.name))).restarts
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
          if (dependent.restarts > ownRestarts) continue
          yield* restartAgent(agent, { reason: "dependency", dependency: edge.agent }, `restarted (dependency '${edge.agent}' was restarted)`).pipe(
            Effect.catch((error) => logs.append(agent.name, "orchestrator", `not restarted after '${edge.agent}': ${error.message}`))
          )
        }
      })

    const control = OrchestratorControl.of({
      control: Effect.fn("Orchestrator.control")(function*(action: AgentAction, name: string): Effect.fn.Return<ControlResult, AgentControlError> {
        const agent = graph.byName.get(name)
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
            const forced = yield* restartAgent(agent, { reason: "requested" }, "restarted (requested)")
            const killed = forced ? `its last run was killed after its grace period of ${Duration.format(graceOf(agent, env))}` : undefined
            return yield* describeStart(name, "restarted", yield* settled(name), killed)
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

    const clock = yield* Clock.Clock
    const standings = makeStandings()
    const viewWith = (usageOf: UsageOf): SnapshotView => {
      const millis = clock.currentTimeMillisUnsafe()
      return {
        state: Ref.getUnsafe(state),
        runMode: options.runMode,
        startedAt: startedAtInstant,
        uptimeSeconds: (millis - startedAt) / 1000,
        maxWorkers,
        now: millis,
        agents: standings(table.recordsNow(), usageOf)
      }
    }
    // Read synchronously while the last resource sample is fresh: `ps` asks for it on every request.
    const view = Effect.suspend(() => {
      const usageOf = usage.recent(processesNow())
      return usageOf === undefined ? Effect.map(usageNow, viewWith) : Effect.succeed(viewWith(usageOf))
    })

    const query = OrchestratorQuery.of({
      snapshot: Effect.map(view, snapshotOf),
      view,
      agent: (name) =>
        Effect.flatMap(table.get(name), (record) =>
          Effect.zipWith(now, usageNow, (millis, usageOf) => toStatus(record, millis, usageOf(name)))),
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
            edges: graph.byName.get(record.name)?.dependencies ?? []
          })),
          graph.startNames
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

    const shutdown = yield* Effect.cached(Effect.gen(function*() {
      const began = yield* now
      // Under the lock a reload switches the graph under, too: the agents stopped are the ones there are.
      const { agents, dependents } = yield* lifecycle.withPermit(Effect.map(Ref.set(state, "stopping"), () => graph))
      // One that never started (its command interface could not bind, say) has nothing to say it stopped.
      if (announced) yield* recordOrchestrator("ORCHESTRATOR_STOPPING", {})
      yield* Ref.set(env.forced, [])
      const stopped = new Map(agents.map((agent) => [agent.name, Deferred.makeUnsafe<void>()]))
      const done = (name: string) => stopped.get(name) ?? Deferred.makeUnsafe<void>()
      yield* Effect.forEach(agents, (agent) =>
        Effect.gen(function*() {
          for (const dependent of dependents.get(agent.name) ?? []) yield* Deferred.await(done(dependent))
          yield* stopSupervisor(agent.name)
          yield* Deferred.succeed(done(agent.name), undefined)
        }), { concurrency: "unbounded", discard: true })
      const report: ShutdownReport = { forcedKills: yield* Ref.get(env.forced), durationMs: (yield* now) - began }
      if (announced) {
        yield* recordOrchestrator("ORCHESTRATOR_SHUTDOWN", {
          forced_kills: report.forcedKills,
          duration_ms: report.durationMs
        })
      }
      yield* Ref.set(state, "stopped")
      return report
    }).pipe(Effect.withSpan("Orchestrator.shutdown")))
    // Closing the layer without a shutdown still stops everything in order (registered after the FiberMap, so it
    // runs before the FiberMap interrupts whatever is left).
    yield* Effect.addFinalizer(() => shutdown)
    // After the shutdown's finalizer, so that they are interrupted before it runs.
    const followers = yield* FiberMap.make<string>()
    /** Runs the agent's `restart: true` edges' followers, replacing any it had. */
    const follow = (agent: AgentDefinition<R>) => {
      const edges = agent.dependencies.filter((edge) => edge.restart)
      return edges.length === 0
        ? FiberMap.remove(followers, agent.name)
        : FiberMap.run(
          followers,
          agent.name,
          Effect.provideContext(Effect.forEach(edges, (edge) => followRestarts(agent, edge), { concurrency: "unbounded", discard: true }), context)
        )
    }
    for (const agent of options.agents) yield* follow(agent)

    const reloading = yield* Semaphore.make(1)
    /** Launches an agent a reload added or changed, and says what became of it once it has settled. */
    const relaunch = (agent: AgentDefinition<R>, added: boolean) =>
      Effect.gen(function*() {
        if (added) yield* launch(agent, () => ({}))
        else yield* launch(agent, (record) => ({ restarts: record.restarts + 1 }), [{ eventName: "AGENT_RESTARTED", data: { reason: "reload" } }])
        const record = yield* settled(agent.name)
        const result: TargetResult = record.state === "failed"
          ? { agent: agent.name, outcome: "failed", message: new StartFailed({ agent: agent.name, lastError: record.lastError }).message, reason: "StartFailed" }
          : {
            agent: agent.name,
            outcome: "done",
            message: added
              ? startMessage(agent.name, record, "added and started", "added, queued")
              : startMessage(agent.name, record, "restarted with its new definition", "changed, queued")
          }
        return result
      }).pipe(Effect.catchTag("OrchestratorStopping", (error) =>
        Effect.succeed({ agent: agent.name, outcome: "failed", message: error.message, reason: error._tag } satisfies TargetResult)))

    const reconfigure = Effect.fn("Orchestrator.reconfigure")(function*(change: Reconfiguration<never>) {
      return yield* reloading.withPermit(Effect.gen(function*() {
        yield* ensureRunning("reload")
        const problems = checkAgentGraph(change.agents)
        if (problems.length > 0) return yield* new ConfigError({ source: "reload", problems })
        const old = graph
        const next = graphOf<R>(change.agents)
        const unsupervised = env.guardian === Guardian.none
          ? change.agents.filter((agent) => agent._tag === "ProcessAgent" && !old.byName.has(agent.name)).map((agent) => agent.name)
          : []
        if (unsupervised.length > 0) return yield* new NeedsGuardian({ agents: unsupervised })
        const removed = new Set(old.agents.filter((agent) => !next.byName.has(agent.name)).map((agent) => agent.name))
        const changed = new Set(change.changed.filter((name) => old.byName.has(name) && next.byName.has(name)))
        const results: Array<TargetResult> = []

        // Stopped on request before the reload: it stays so, and takes its new definition at its next start.
        const before = yield* table.snapshot
        const keepStopped = new Set([...changed].filter((name) => Option.getOrUndefined(HashMap.get(before, name))?.state === "stopped"))
        const restarted = new Set([...changed].filter((name) => !keepStopped.has(name)))
        for (const name of [...old.startNames].reverse()) {
          if (!removed.has(name) && !restarted.has(name)) continue
          yield* FiberMap.remove(followers, name)
          if (restarted.has(name)) yield* Effect.orDie(table.modify(name, () => ({ patch: { restarting: true } })))
          yield* stopSupervisor(name)
          if (removed.has(name)) results.push({ agent: name, outcome: "done", message: `Agent '${name}' stopped and removed` })
        }

        // The switch, under the lifecycle lock: a shutdown sees the old agents or the new ones, never half of each.
        yield* lifecycle.withPermit(Effect.gen(function*() {
          yield* ensureRunning("reload")
          graph = next
          maxWorkers = change.maxWorkers
          env.agentStopTimeout = change.agentStopTimeout
          env.heartbeatInterval = change.heartbeatInterval
          yield* env.slots.resize(change.maxWorkers)
          yield* table.reshape({
            order: change.agents.map((agent) => agent.name),
            removed: [...removed].map((name) => ({ name, events: [{ eventName: "AGENT_REMOVED", data: { reason: "reload" } }] })),
            added: change.agents.filter((agent) => !old.byName.has(agent.name)).map((agent) => ({
              record: makeRecord(definitionFields(agent)),
              events: [{ eventName: "AGENT_REGISTERED", data: { reason: "reload" } }]
            }))
          })
          for (const name of changed) {
            const agent = next.byName.get(name)
            if (agent !== undefined) {
              const { kind, dependencies, restartPolicy, probes } = definitionFields(agent)
              yield* Effect.orDie(table.modify(name, () => ({ patch: { kind, dependencies, restartPolicy, probes } })))
            }
          }
        }))

        for (const name of next.startNames) {
          const agent = next.byName.get(name)
          if (agent === undefined) continue
          const added = !old.byName.has(name)
          if (!added && !changed.has(name)) continue
          yield* follow(agent)
          if (keepStopped.has(name)) {
            results.push({ agent: name, outcome: "done", message: `Agent '${name}' changed; it stays stopped and starts with its new definition` })
          } else {
            results.push(yield* relaunch(agent, added))
          }
        }
        return results
      }))
    })

    const start = yield* Effect.cached(Effect.uninterruptible(Effect.gen(function*() {
      if ((yield* Ref.get(state)) !== "starting") return
      yield* env.guardian.ensure
      yield* recordOrchestrator("ORCHESTRATOR_STARTED", {
        agents: graph.agents.length,
        max_workers: maxWorkers,
        run_mode: options.runMode
      })
      announced = true
      for (const agent of graph.agents) {
        yield* events.record({ eventName: "AGENT_REGISTERED", category: EventCategory.agent, agentName: agent.name })
      }
      for (const name of graph.startNames) {
        const agent = graph.byName.get(name)
        // An operator's `start` may have come first, through an interface that was listening already.
        // A shutdown that began meanwhile has the last word: what is not launched yet stays so.
        if (agent !== undefined && !(yield* FiberMap.has(supervisors, name))) {
          yield* launch(agent, () => ({})).pipe(Effect.catchTag("OrchestratorStopping", () => Effect.void))
        }
      }
      // Unless a shutdown began meanwhile (a library's, racing the start): it must stay stopping.
      yield* Ref.update(state, (current) => current === "starting" ? "running" : current)
    }).pipe(Effect.withSpan("Orchestrator.start"))))

    return Orchestrator.of({ query, control, start, awaitCompletion, shutdown, reconfigure })
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
