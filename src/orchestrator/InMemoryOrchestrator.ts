/**
 * An orchestrator that only keeps agent records in memory: it implements the query and control ports with the
 * same state rules as the real one (AgentLifecycle.ts), but runs nothing, so it knows of no CPU or memory (null for
 * every agent). Tests (and applications testing their own use of the command interface) put it behind the command
 * interface in place of a real orchestrator.
 */
import { Clock, Context, DateTime, Deferred, Effect, Layer, Ref, Result } from "effect"
import type { AgentKind, AgentState, RestartPolicy, RunMode } from "../protocol/Model.ts"
import { decide, pastTense, settledState } from "./AgentLifecycle.ts"
import { type AgentRecord, isActive, makeRecord, makeStandings, toStatus } from "./AgentRecord.ts"
import { NO_USAGE, type UsageOf } from "./ResourceUsage.ts"
import { describeGraph, describeGraphProblem, startOrder } from "./graph.ts"
import { DEFAULT_KEEP_LINES, LogStore } from "../logs/LogStore.ts"
import { AgentNotFound, InvalidTransition } from "../ports/errors.ts"
import { type ControlResult, OrchestratorControl } from "../ports/OrchestratorControl.ts"
import { OrchestratorQuery, type SnapshotView, snapshotOf } from "../ports/OrchestratorQuery.ts"

export interface AgentSeed {
  readonly name: string
  readonly state?: AgentState
  readonly kind?: AgentKind
  readonly pid?: number | null
  readonly dependencies?: ReadonlyArray<string>
  readonly restartPolicy?: RestartPolicy
}

/** It runs nothing: no agent has resource figures. */
const noUsage: UsageOf = () => NO_USAGE

export interface InMemoryOptions {
  readonly agents: ReadonlyArray<AgentSeed>
  readonly maxWorkers?: number
  readonly runMode?: RunMode
}


export class InMemoryOrchestrator extends Context.Service<InMemoryOrchestrator, {
  /** Completes when a shutdown has been requested through the control port. */
  readonly shutdownRequested: Effect.Effect<void>
  readonly isShutdownRequested: Effect.Effect<boolean>
  /** Records lines of an agent's output, as if it had written them. */
  readonly output: (agent: string, stream: "stdout" | "stderr", lines: ReadonlyArray<string>) => Effect.Effect<void, AgentNotFound>
  /** Records a heartbeat for an agent now. */
  readonly heartbeat: (agent: string) => Effect.Effect<void, AgentNotFound>
}>()("effect-orchestrate/InMemoryOrchestrator") {
  static readonly layer = (
    options: InMemoryOptions
  ): Layer.Layer<InMemoryOrchestrator | OrchestratorQuery | OrchestratorControl> =>
    Layer.effectContext(Effect.gen(function*() {
      const startedAt = yield* Clock.currentTimeMillis
      const graph = startOrder(options.agents.map((seed) => ({ name: seed.name, dependencies: seed.dependencies ?? [] })))
      if (Result.isFailure(graph)) return yield* Effect.die(new Error(`agent seeds: ${describeGraphProblem(graph.failure)}`))
      const order = graph.success
      // Tests write an agent's lines here (InMemoryOrchestrator.output) and read them through the query port.
      const logs = yield* LogStore.make({ keepLines: DEFAULT_KEEP_LINES })
      let pid = 1000
      const agents = yield* Ref.make(
        new Map(options.agents.map((seed): [string, AgentRecord] => {
          const state = seed.state ?? "running"
          const kind = seed.kind ?? "process"
          return [seed.name, makeRecord({
            name: seed.name,
            kind,
            state,
            pid: seed.pid !== undefined ? seed.pid : kind === "process" && isActive(state) ? pid++ : null,
            dependencies: seed.dependencies ?? [],
            restartPolicy: seed.restartPolicy ?? "never",
            startedAt: isActive(state) ? DateTime.makeUnsafe(startedAt) : null
          })]
        }))
      )
      const shutdown = yield* Deferred.make<void>()

      const find = (name: string) =>
        Effect.flatMap(Ref.get(agents), (map) => {
          const record = map.get(name)
          return record === undefined ? Effect.fail(new AgentNotFound({ agent: name })) : Effect.succeed(record)
        })

      const standings = makeStandings()
      // Every change makes a new map: its records, listed once, keep their standings until one changes.
      let listed: { readonly of: ReadonlyMap<string, AgentRecord>; readonly records: ReadonlyArray<AgentRecord> } | undefined
      const view: Effect.Effect<SnapshotView> = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const map = yield* Ref.get(agents)
        if (listed?.of !== map) listed = { of: map, records: Array.from(map.values()) }
        return {
          state: (yield* Deferred.isDone(shutdown)) ? "stopping" : "running",
          runMode: options.runMode ?? "daemon",
          startedAt: DateTime.makeUnsafe(startedAt),
          uptimeSeconds: (now - startedAt) / 1000,
          maxWorkers: options.maxWorkers ?? 4,
          now,
          agents: standings(listed.records, noUsage)
        }
      })

      const query = OrchestratorQuery.of({
        snapshot: Effect.map(view, snapshotOf),
        view,
        agent: (name) => Effect.flatMap(find(name), (record) => Effect.map(Clock.currentTimeMillis, (now) => toStatus(record, now))),
        dependencies: Effect.map(Ref.get(agents), (map) => describeGraph([...map.values()], order)),
        logs: (query) => Effect.flatMap(Effect.forEach(query.agents ?? [], find, { discard: true }), () => logs.query(query))
      })

      const control = OrchestratorControl.of({
        control: Effect.fnUntraced(function*(action, name): Effect.fn.Return<ControlResult, AgentNotFound | InvalidTransition> {
          const record = yield* find(name)
          const decision = decide(action, record.state)
          if (decision === "refuse") return yield* new InvalidTransition({ agent: name, action, state: record.state })
          const now = yield* Clock.currentTimeMillis
          if (decision === "already") {
            return { message: `Agent '${name}' is already ${record.state}`, agent: toStatus(record, now), already: true }
          }
          const next = settledState(action)
          const starts = next === "running" && action !== "resume"
          const updated: AgentRecord = {
            ...record,
            state: next,
            pid: next === "stopped" ? null : starts && record.kind === "process" ? pid++ : record.pid,
            startedAt: next === "stopped" ? null : starts ? DateTime.makeUnsafe(now) : record.startedAt,
            restarts: action === "restart" ? record.restarts + 1 : record.restarts
          }
          yield* Ref.update(agents, (map) => new Map(map).set(name, updated))
          return { message: `Agent '${name}' ${pastTense[action]}`, agent: toStatus(updated, now), already: false }
        }),
        requestShutdown: Effect.asVoid(Deferred.succeed(shutdown, undefined))
      })

      const self = InMemoryOrchestrator.of({
        shutdownRequested: Deferred.await(shutdown),
        isShutdownRequested: Deferred.isDone(shutdown),
        output: (name, stream, lines) => Effect.andThen(find(name), logs.appendAll(name, stream, lines)),
        heartbeat: (name) =>
          Effect.gen(function*() {
            const record = yield* find(name)
            const now = yield* Clock.currentTimeMillis
            yield* Ref.update(agents, (map) => new Map(map).set(name, { ...record, lastHeartbeat: DateTime.makeUnsafe(now) }))
          })
      })

      return Context.make(InMemoryOrchestrator, self).pipe(
        Context.add(OrchestratorQuery, query),
        Context.add(OrchestratorControl, control)
      )
    }))
}
