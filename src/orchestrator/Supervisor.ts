/**
 * One agent's life, as a fiber: wait for its dependencies, take a worker slot, run it, then restart it or not as
 * its policy says. Interrupting the fiber stops the agent: a run in progress is asked to stop and forced after the
 * grace period, and the agent ends `stopped`.
 */
import { Clock, DateTime, Deferred, Duration, Effect, Fiber, HashMap, Ref, type Scope, type Semaphore, type Tracer } from "effect"
import type { EventStore } from "../events/EventStore.ts"
import { isFinished } from "../protocol/Model.ts"
import type { AgentContext } from "./AgentContext.ts"
import type { AgentDefinition } from "./AgentDefinition.ts"
import { advance, initialStatus, type Probe, type TryResult } from "./Probe.ts"
import { countProbeFailure } from "./ProbeMetrics.ts"
import { makeProbeRunner, type ProbeContext, type ProbeRunner } from "./ProbeRunner.ts"
import type { ProbeRole, ProbeStatus } from "../protocol/Model.ts"
import { type AgentRecord, isActive } from "./AgentRecord.ts"
import { type AgentRun, describeOutcome, isSuccess, type RunHooks, type RunOutcome } from "./AgentRun.ts"
import type { AgentEvent, AgentTable, Change, Records } from "./AgentTable.ts"
import { launchEffect } from "./EffectRun.ts"
import type { LogStore } from "../logs/LogStore.ts"
import type { Guardian } from "./Guardian.ts"
import type { ProcessTable } from "./ProcessTable.ts"
import { launchProcess } from "./ProcessRun.ts"
import { dependenciesVerdict } from "./dependencies.ts"
import { backoffDelay, wantsRestart } from "./restart.ts"

export interface SupervisorEnv {
  readonly table: AgentTable
  readonly events: EventStore["Service"]
  readonly slots: Semaphore.Semaphore
  /** The run in progress of each agent that has one, for pause and resume. */
  readonly runs: Ref.Ref<HashMap.HashMap<string, AgentRun>>
  /** Agents whose stop had to be forced, in order. */
  readonly forced: Ref.Ref<ReadonlyArray<string>>
  // Not readonly: a reload changes them, for the runs that start afterwards.
  heartbeatInterval: Duration.Duration
  agentStopTimeout: Duration.Duration
  readonly guardian: Guardian
  readonly processes: ProcessTable
  readonly logs: LogStore["Service"]
}

export const graceOf = (agent: AgentDefinition<unknown>, env: SupervisorEnv) => agent.stopTimeout ?? env.agentStopTimeout

/** Updates a record the supervisor knows exists. */
const update = (env: SupervisorEnv, name: string, change: (record: AgentRecord, now: number) => Change | undefined) =>
  Effect.orDie(Effect.asVoid(env.table.modify(name, change)))

const hooksFor = (env: SupervisorEnv, agent: AgentDefinition<unknown>, probes: ProbeRunner): RunHooks => ({
  started: (pid) =>
    update(env, agent.name, (_, now) => ({
      // Every run's probes start afresh: a verdict on the last run says nothing about this one.
      patch: { state: "starting", pid, startedAt: DateTime.makeUnsafe(now), waitingFor: null, exitCode: null, probes: probeStatusesOf(agent) },
      events: [{ eventName: "AGENT_STARTED", data: { pid } }]
    })),
  ready: update(env, agent.name, becomeReady),
  heartbeat: update(env, agent.name, (_, now) => ({
    patch: { lastHeartbeat: DateTime.makeUnsafe(now) },
    events: [{ eventName: "AGENT_HEARTBEAT", severity: "debug" }]
  })),
  // Kept apart from the event history, so that no other agent's events or a client's requests can evict them.
  output: (stream, lines) => {
    probes.observe(lines)
    return env.logs.appendLinesUnsafe(agent.name, stream, lines)
  }
})

/** A starting agent becomes running and ready: its dependents may start. */
const becomeReady = (record: AgentRecord): Change | undefined =>
  record.state === "starting" ? { patch: { state: "running" }, events: [{ eventName: "AGENT_READY" }] } : undefined

/** The agent's probes before their first try, readiness first. */
export const probeStatusesOf = (agent: AgentDefinition<unknown>): ReadonlyArray<ProbeStatus> => [
  ...(agent.readiness === undefined ? [] : [initialStatus("readiness", agent.readiness)]),
  ...(agent.liveness === undefined ? [] : [initialStatus("liveness", agent.liveness)])
]

const probeOf = (agent: AgentDefinition<unknown>, role: ProbeRole): Probe | undefined =>
  role === "readiness" ? agent.readiness : agent.liveness

/** Where a process agent's probes run: its directory and environment; an Effect agent's, the orchestrator's. */
const probeContextOf = (agent: AgentDefinition<unknown>, env: SupervisorEnv): ProbeContext =>
  agent._tag === "ProcessAgent"
    ? { cwd: agent.cwd, env: { ...process.env, ...agent.env }, watch: env.guardian.watch, release: env.guardian.release }
    : { cwd: process.cwd(), env: process.env }

const describeProbe = (status: ProbeStatus) => `${status.role} probe (${status.kind} ${status.target})`

/**
 * Records one try of a probe: only changes of health are events. Readiness that passes makes a starting agent
 * running (ready) and an unready one ready again; readiness that fails makes a ready one unready, still running.
 * Returns why the agent must be killed, when its liveness probe has just failed for good.
 */
const recordTry = (env: SupervisorEnv, agent: AgentDefinition<unknown>, role: ProbeRole, result: TryResult) =>
  Effect.gen(function*() {
    if (result._tag === "Failed") yield* countProbeFailure(agent.name, role)
    let killFor: string | undefined
    yield* update(env, agent.name, (record, now) => {
      const probe = probeOf(agent, role)
      const index = record.probes.findIndex((status) => status.role === role)
      const current = record.probes[index]
      if (probe === undefined || current === undefined) return undefined
      const { status, became } = advance(current, probe, result, now)
      const probes = record.probes.map((entry, at) => at === index ? status : entry)
      if (became === undefined) return { patch: { probes } }
      const about = { probe: role, kind: status.kind, target: status.target }
      if (became === "healthy") {
        const events: Array<AgentEvent> = [{ eventName: "AGENT_HEALTHY", data: about }]
        let state = record.state
        if (role === "readiness" && record.state === "starting") {
          state = "running"
          events.push({ eventName: "AGENT_READY" })
        } else if (role === "readiness" && current.health === "unhealthy" && isActive(record.state)) {
          events.push({ eventName: "AGENT_READY", data: { recovered: true } })
        }
        return { patch: { probes, state }, events }
      }
      const failure = {
        ...about,
        failures: status.consecutiveFailures,
        output: status.lastFailure
      }
      const events: Array<AgentEvent> = [{ eventName: "AGENT_UNHEALTHY", severity: "warning", data: failure }]
      if (role === "readiness" && current.health === "healthy" && isActive(record.state)) {
        events.push({ eventName: "AGENT_UNREADY", severity: "warning", data: about })
      }
      if (role === "liveness") {
        killFor = `${describeProbe(status)} failed ${status.consecutiveFailures} times in a row: ${status.lastFailure ?? ""}`
      }
      return { patch: { probes }, events }
    })
    return killFor
  })

/** `restartSpan`: the span of the restart this launch is, if its policy restarted it (its `Agent.start` is a child of it). */
const launch = <R>(
  agent: AgentDefinition<R>,
  hooks: RunHooks,
  env: SupervisorEnv,
  restartSpan: Tracer.AnySpan | undefined
): Effect.Effect<
  AgentRun,
  { readonly message: string },
  Exclude<R, AgentContext> | Scope.Scope
> =>
  (agent._tag === "ProcessAgent"
    ? launchProcess(agent, hooks, { heartbeatInterval: env.heartbeatInterval, grace: graceOf(agent, env), guardian: env.guardian, processes: env.processes })
    : launchEffect(agent, hooks, { grace: graceOf(agent, env) })).pipe(Effect.withSpan("Agent.start", { attributes: { agent: agent.name }, parent: restartSpan }))

/** Why an agent can never start: a dependency that can no longer meet its condition. Undefined while it may still start. */
const blockedBy = (agent: AgentDefinition<unknown>, records: Records): { readonly blocked?: string } | undefined => {
  const verdict = dependenciesVerdict(agent.name, agent.dependencies, records)
  return verdict._tag === "Never" ? { blocked: verdict.reason } : verdict._tag === "Met" ? {} : undefined
}

const awaitDependencies = (agent: AgentDefinition<unknown>, env: SupervisorEnv) =>
  Effect.gen(function*() {
    if (agent.dependencies.length === 0) return {}
    const check = (records: Records) => blockedBy(agent, records)
    const now = yield* env.table.waitFor((records) => ({ verdict: check(records) }))
    if (now.verdict !== undefined) return now.verdict
    yield* update(env, agent.name, () => ({ patch: { waitingFor: "dependencies" } }))
    return yield* env.table.waitFor(check)
  })

/** Holds a worker slot until the scope closes, saying so while it has to wait for one. */
const takeSlot = (agent: AgentDefinition<unknown>, env: SupervisorEnv) =>
  Effect.gen(function*() {
    const free = yield* Effect.uninterruptible(
      Effect.tap(env.slots.takeIfAvailable(1), (taken) => taken ? Effect.addFinalizer(() => env.slots.release(1)) : Effect.void)
    )
    if (free) return
    yield* update(env, agent.name, () => ({ patch: { waitingFor: "worker" } }))
    yield* env.slots.takeScoped(1)
  })

/** Asks a run to stop, the agent `stopping` meanwhile, forcing it after `grace`; says whether it had to. */
const endRun = (agent: AgentDefinition<unknown>, run: AgentRun, env: SupervisorEnv, grace: Duration.Duration) =>
  Effect.gen(function*() {
    yield* update(env, agent.name, () => ({ patch: { state: "stopping" } }))
    const { forced } = yield* run.stop(grace)
    if (forced) yield* Ref.update(env.forced, (names) => [...names, agent.name])
    return forced
  })

/** Asks a run to stop, forcing it after the grace period, and records the stop. */
const stopRun = (agent: AgentDefinition<unknown>, run: AgentRun, env: SupervisorEnv) =>
  Effect.gen(function*() {
    const grace = graceOf(agent, env)
    const forced = yield* endRun(agent, run, env, grace)
    yield* update(env, agent.name, () => ({
      patch: { state: "stopped", pid: null, waitingFor: null, stopForced: forced },
      events: [{
        eventName: "AGENT_STOPPED",
        severity: forced ? "warning" : "info",
        data: { forced, grace_ms: Duration.toMillis(grace) }
      }]
    }))
  }).pipe(Effect.withSpan("Supervisor.stop", { attributes: { agent: agent.name } }))


interface RunResult {
  readonly outcome: RunOutcome
  /** How long the program ran, in milliseconds. */
  readonly ranFor: number
  /** Killed because its liveness probe failed (the outcome's error says which and how). */
  readonly liveness: boolean
}

const hasProbes = (agent: AgentDefinition<unknown>) => agent.readiness !== undefined || agent.liveness !== undefined

const runOnce = <R>(agent: AgentDefinition<R>, env: SupervisorEnv, restartSpan: Tracer.AnySpan | undefined) =>
  Effect.gen(function*() {
    yield* takeSlot(agent, env)
    const startedAt = yield* Clock.currentTimeMillis
    // Before the launch, so that a `line` probe sees the run's first lines.
    const probes = yield* makeProbeRunner({ readiness: agent.readiness, liveness: agent.liveness }, probeContextOf(agent, env))
    const launched = yield* Effect.result(launch(agent, hooksFor(env, agent, probes), env, restartSpan))
    if (launched._tag === "Failure") {
      return { outcome: { _tag: "Crashed", error: launched.failure.message }, ranFor: 0, liveness: false } satisfies RunResult
    }
    const run = launched.success
    yield* Effect.acquireRelease(
      Ref.update(env.runs, HashMap.set(agent.name, run)),
      () => Ref.update(env.runs, HashMap.remove(agent.name))
    )
    const livenessFailed = yield* Deferred.make<string>()
    const probing = hasProbes(agent)
      ? yield* Effect.forkScoped(probes.run({
        // A paused agent cannot answer and must not be killed for it; a stopping one is going anyway.
        skip: Effect.map(Effect.orDie(env.table.get(agent.name)), (record) => record.state === "paused" || record.state === "stopping"),
        tried: (role, result) =>
          Effect.flatMap(recordTry(env, agent, role, result), (killFor) =>
            killFor === undefined ? Effect.void : Effect.asVoid(Deferred.succeed(livenessFailed, killFor)))
      }))
      : undefined
    const ended = yield* Effect.raceFirst(
      Effect.map(run.outcome, (outcome) => ({ _tag: "Ended", outcome }) as const),
      Effect.map(Deferred.await(livenessFailed), (reason) => ({ _tag: "Dead", reason }) as const)
    ).pipe(Effect.onInterrupt(() => stopRun(agent, run, env)))
    const ranFor = () => Effect.map(Clock.currentTimeMillis, (now) => now - startedAt)
    if (ended._tag === "Ended") return { outcome: ended.outcome, ranFor: yield* ranFor(), liveness: false } satisfies RunResult
    // Alive but not answering: killed like a stop (SIGTERM, SIGKILL after the grace period), without passing
    // through `stopped`, which its dependents would take for good.
    if (probing !== undefined) yield* Fiber.interrupt(probing)
    yield* endRun(agent, run, env, graceOf(agent, env))
    return { outcome: { _tag: "Crashed", error: ended.reason }, ranFor: yield* ranFor(), liveness: true } satisfies RunResult
  }).pipe(Effect.scoped)

const exitCodeOf = (outcome: RunOutcome): number | null => outcome._tag === "Exited" ? outcome.code : null

/** Supervises a queued agent until it ends for good. */
export const supervise = <R>(agent: AgentDefinition<R>, env: SupervisorEnv) =>
  Effect.gen(function*() {
    const name = agent.name
    // Restarts in a row without a run that lasted `backoff.resetAfter`: the crash loop that maxRestarts bounds.
    let consecutive = 0
    let restartSpan: Tracer.AnySpan | undefined
    for (;;) {
      const dependencies = yield* awaitDependencies(agent, env)
      if (dependencies.blocked !== undefined) {
        const reason = dependencies.blocked
        yield* update(env, name, () => ({
          patch: { state: "failed", waitingFor: null, lastError: reason },
          events: [{ eventName: "AGENT_FAILED", severity: "error", data: { reason } }]
        }))
        return
      }
      const { outcome, ranFor, liveness } = yield* runOnce(agent, env, restartSpan)
      const succeeded = isSuccess(outcome)
      if (ranFor >= Duration.toMillis(agent.backoff.resetAfter)) consecutive = 0
      const policyWantsRestart = wantsRestart(agent.restart, succeeded)
      const ended = succeeded
        ? { eventName: "AGENT_COMPLETED", data: { exit_code: 0, ran_ms: ranFor } }
        : {
          eventName: "AGENT_FAILED",
          severity: "error" as const,
          data: { reason: describeOutcome(outcome), exit_code: exitCodeOf(outcome), ran_ms: ranFor }
        }
      const result = {
        pid: null,
        exitCode: exitCodeOf(outcome),
        lastError: succeeded ? null : describeOutcome(outcome)
      }
      if (!policyWantsRestart || consecutive >= agent.maxRestarts) {
        const gaveUp = policyWantsRestart ? ` (gave up after ${consecutive} restarts in a row)` : ""
        yield* update(env, name, () => ({
          patch: { ...result, state: succeeded ? "completed" : "failed", waitingFor: null, lastError: result.lastError === null ? null : result.lastError + gaveUp },
          events: [ended]
        }))
        return
      }
      consecutive++
      const delay = backoffDelay(agent.backoff, consecutive)
      // Ended and queued again in one change, so nothing ever sees the agent finished while a restart is due.
      yield* update(env, name, (record) => ({
        patch: { ...result, state: "queued", waitingFor: "backoff", restarts: record.restarts + 1 },
        events: [ended, {
          eventName: "AGENT_RESTARTED",
          data: { attempt: consecutive, delay_ms: Duration.toMillis(delay), reason: liveness ? "liveness" : "policy" }
        }]
      }))
      // Where one run's output ends and the next one's begins, for whoever follows the agent's lines.
      yield* env.logs.append(name, "orchestrator", `restarted (attempt ${consecutive}, after ${Duration.toMillis(delay)} ms)`)
      // A trace of its own, which the next run's start joins: the fiber's own span is whatever started it first.
      restartSpan = yield* Effect.useSpan("Agent.restart", {
        root: true,
        attributes: { agent: name, reason: liveness ? "liveness" : "policy", attempt: consecutive, delay_ms: Duration.toMillis(delay) }
      }, (span) => Effect.as(Effect.sleep(delay), span))
      yield* update(env, name, () => ({ patch: { waitingFor: null }, events: [{ eventName: "AGENT_QUEUED" }] }))
    }
  }).pipe(
    // Interrupted between runs (queued, backing off, waiting for a slot): nothing runs, so it is simply stopped.
    // An agent that has already ended for good keeps its final state.
    Effect.onInterrupt(() =>
      update(env, agent.name, (record) =>
        isFinished(record.state) ? undefined : {
          patch: { state: "stopped", pid: null, waitingFor: null, stopForced: false },
          events: [{ eventName: "AGENT_STOPPED", data: { forced: false } }]
        })
    )
  )
