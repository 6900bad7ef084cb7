/**
 * What each command does, against the orchestrator's ports and the event store. Arguments arrive decoded and
 * results leave as domain values; the request pipeline (`pipeline/CommandRouter.ts`) does the wire work around them.
 */
import { Context, DateTime, Effect, Layer } from "effect"
import { EventStore } from "../events/EventStore.ts"
import { type AgentAction, OrchestratorControl } from "../ports/OrchestratorControl.ts"
import { OrchestratorQuery } from "../ports/OrchestratorQuery.ts"
import {
  type ArgsOf,
  type CommandName,
  Commands,
  HISTORY_LIMIT_DEFAULT,
  HISTORY_LIMIT_MAX,
  LOGS_LIMIT_DEFAULT,
  LOGS_LIMIT_MAX,
  type ResultOf
} from "../protocol/Commands.ts"
import type { AgentCounts, AgentState, AgentStatus, AgentSummary } from "../protocol/Model.ts"
import type { CommandFailure } from "./pipeline/RequestError.ts"
import type { Caller } from "./Principals.ts"

/** A command's result, and what to do once it has been sent (only `shutdown` needs that). */
export interface Reply<A> {
  readonly data: A
  readonly afterReply?: Effect.Effect<void>
}

/** A command's implementation, given its decoded arguments and the caller (already allowed to run it). */
export type Handler<K extends CommandName> = (
  args: ArgsOf<K>,
  caller: Caller
) => Effect.Effect<Reply<ResultOf<K>>, CommandFailure>

export type Handlers = { readonly [K in CommandName]: Handler<K> }

const reply = <A>(data: A): Reply<A> => ({ data })

export const countAgents = (agents: ReadonlyArray<AgentStatus>): AgentCounts => {
  const counts: Record<AgentState, number> = {
    registered: 0,
    queued: 0,
    starting: 0,
    running: 0,
    paused: 0,
    stopping: 0,
    completed: 0,
    failed: 0,
    stopped: 0
  }
  for (const agent of agents) counts[agent.state]++
  return { total: agents.length, ...counts }
}

const toSummary = (agent: AgentStatus): AgentSummary => ({
  name: agent.agentName,
  state: agent.state,
  pid: agent.pid,
  uptimeSeconds: agent.uptimeSeconds,
  restarts: agent.restarts,
  health: agent.health
})

export class CommandHandlers extends Context.Service<CommandHandlers, Handlers>()(
  "effect-orchestrate/CommandHandlers"
) {
  static readonly layer: Layer.Layer<
    CommandHandlers,
    never,
    OrchestratorQuery | OrchestratorControl | EventStore
  > = Layer.effect(
    CommandHandlers,
    Effect.gen(function*() {
      const query = yield* OrchestratorQuery
      const control = yield* OrchestratorControl
      const events = yield* EventStore

      const agentAction = <A extends AgentAction>(action: A): Handler<A> => ([agent]) =>
        Effect.map(control.control(action, agent), reply)

      return CommandHandlers.of({
        ps: () => Effect.map(query.snapshot, (snapshot) => reply({ agents: snapshot.agents.map(toSummary) })),

        status: ([agent]) =>
          agent === undefined
            ? Effect.map(query.snapshot, (snapshot) => reply({ ...snapshot, counts: countAgents(snapshot.agents) }))
            : Effect.map(query.agent(agent), reply),

        stats: () =>
          Effect.gen(function*() {
            const snapshot = yield* query.snapshot
            const store = yield* events.info
            const { total, ...byState } = countAgents(snapshot.agents)
            return reply({
              totalAgents: total,
              ...byState,
              unhealthy: snapshot.agents.filter((agent) => agent.health === "unhealthy").length,
              restarts: snapshot.agents.reduce((sum, agent) => sum + agent.restarts, 0),
              maxWorkers: snapshot.maxWorkers,
              uptimeSeconds: snapshot.uptimeSeconds,
              eventsRecorded: store.recorded,
              eventsRetained: store.size,
              eventsCapacity: store.capacity
            })
          }),

        history: ([filter = {}]) =>
          Effect.gen(function*() {
            const limit = Math.min(filter.limit ?? HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX)
            const page = yield* events.query({ ...filter, limit })
            const store = yield* events.info
            return reply({
              events: page.events,
              count: page.events.length,
              limit,
              hasMore: page.hasMore,
              capacity: store.capacity,
              firstSeq: store.firstSeq,
              lastSeq: store.lastSeq
            })
          }),

        logs: ([filter = {}]) =>
          Effect.map(
            query.logs({
              limit: Math.min(filter.limit ?? LOGS_LIMIT_DEFAULT, LOGS_LIMIT_MAX),
              agents: filter.agents,
              since: filter.since === undefined ? undefined : DateTime.toEpochMillis(filter.since),
              afterSeq: filter.afterSeq,
              stream: filter.stream
            }),
            (page) => reply({
              lines: page.lines.map((line) => ({ ...line, timestamp: DateTime.makeUnsafe(line.timestamp) })),
              hasMore: page.hasMore,
              lastSeq: page.lastSeq,
              dropped: page.dropped
            })
          ),

        dependencies: () => Effect.map(query.dependencies, reply),

        commands: (_, caller) =>
          Effect.succeed(reply({
            allowed: caller.allowed,
            known: Object.values(Commands).map((command) => ({
              name: command.name,
              usage: command.usage,
              summary: command.summary,
              mutating: command.mutating,
              allowed: caller.mayRun(command.name)
            }))
          })),

        whoami: (_, caller) =>
          Effect.succeed(reply({
            principal: caller.principal,
            keyFingerprint: caller.keyFingerprint,
            allowed: caller.allowed,
            agents: caller.agents
          })),

        start: agentAction("start"),
        stop: agentAction("stop"),
        restart: agentAction("restart"),
        pause: agentAction("pause"),
        resume: agentAction("resume"),

        shutdown: () =>
          Effect.succeed({ data: { message: "Shutdown initiated" }, afterReply: control.requestShutdown })
      })
    })
  )
}
