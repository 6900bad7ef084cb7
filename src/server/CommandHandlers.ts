/**
 * What each command does, against the orchestrator's ports and the event store. Arguments arrive decoded and
 * results leave as domain values; the request pipeline (`pipeline/CommandRouter.ts`) does the wire work around them.
 */
import { Context, DateTime, Effect, Layer, Option, Result } from "effect"
import { ConfigReload, NotReloadable, ReloadFailed } from "../ports/ConfigReload.ts"
import { AgentNotFound } from "../ports/errors.ts"
import { EventStore } from "../events/EventStore.ts"
import { type AgentAction, OrchestratorControl } from "../ports/OrchestratorControl.ts"
import { type AgentStanding, OrchestratorQuery } from "../ports/OrchestratorQuery.ts"
import {
  type ArgsOf,
  type CommandName,
  Commands,
  HISTORY_LIMIT_DEFAULT,
  HISTORY_LIMIT_MAX,
  isSingleTarget,
  isTargetPattern,
  LOGS_LIMIT_DEFAULT,
  LOGS_LIMIT_MAX,
  type ResultOf,
  type TargetResult
} from "../protocol/Commands.ts"
import type { JsonText } from "../protocol/jsonText.ts"
import { makeAgentListEncoder } from "./AgentListEncoder.ts"
import { type CommandFailure, NotAllowed, OutsideAgentPatterns, TargetsFailed } from "./pipeline/RequestError.ts"
import { agentMatcher, type Caller } from "./Principals.ts"

/**
 * A command's result, or its JSON text when the handler encoded it itself (`ps` and `status`, from the encoded
 * agents they keep); and what to do once it has been sent (only `shutdown` needs that).
 */
export type Reply<A, E = unknown> = ({ readonly data: A } | { readonly encoded: JsonText<E> }) & {
  readonly afterReply?: Effect.Effect<void>
}

/** A command's implementation, given its decoded arguments and the caller (already allowed to run it). */
export type Handler<K extends CommandName> = (
  args: ArgsOf<K>,
  caller: Caller
) => Effect.Effect<Reply<ResultOf<K>, Commands[K]["result"]["Encoded"]>, CommandFailure>

export type Handlers = { readonly [K in CommandName]: Handler<K> }

const reply = <A>(data: A): { readonly data: A } => ({ data })

/** The sum of the figures the agents have, to `digits` decimals (as each is given); null when none has one. */
const sumKnown = (agents: ReadonlyArray<AgentStanding>, figure: (agent: AgentStanding["status"]) => number | null, digits: number) => {
  let sum: number | null = null
  for (const agent of agents) {
    const value = figure(agent.status)
    if (value !== null) sum = (sum ?? 0) + value
  }
  return sum === null ? null : Math.round(sum * 10 ** digits) / 10 ** digits
}

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
      // Only an orchestrator started from a config file (`orchestrate up`) has one to reload.
      const reloads = yield* Effect.serviceOption(ConfigReload)
      const agentList = makeAgentListEncoder()

      const knownToHistory = (agent: string) =>
        Effect.catchTag(Effect.asVoid(query.agent(agent)), "AgentNotFound", (notFound) =>
          Effect.flatMap(events.query({ agent, limit: 1 }), (page) => page.events.length > 0 ? Effect.void : Effect.fail(notFound)))

      /** One agent's outcome of `action`: a refusal by its state is an outcome, any other error a failure. */
      const runOne = (action: AgentAction, agent: string) =>
        Effect.map(Effect.result(control.control(action, agent)), (result): TargetResult => {
          if (Result.isSuccess(result)) {
            const { message, already } = result.success
            return { agent, outcome: already ? "already" : "done", message }
          }
          const error = result.failure
          return { agent, outcome: error._tag === "InvalidTransition" ? "refused" : "failed", message: error.message, reason: error._tag }
        })

      /**
       * The agents `targets` name, in start order (dependencies first): each name must exist and each pattern
       * (or `all`) match at least one agent, else `AgentNotFound`; each must be within the caller's agent patterns.
       */
      const expand = (command: AgentAction, targets: ReadonlyArray<string>, caller: Caller) =>
        Effect.gen(function*() {
          const order = (yield* query.dependencies).startOrder
          const chosen = new Set<string>()
          for (const target of targets) {
            const matches = target === "all"
              ? order
              : isTargetPattern(target)
              ? order.filter(agentMatcher([target]))
              : order.filter((name) => name === target)
            if (matches.length === 0) {
              return yield* new AgentNotFound(isTargetPattern(target) ? { agent: target, pattern: true } : { agent: target })
            }
            for (const name of matches) chosen.add(name)
          }
          const agents = order.filter((name) => chosen.has(name))
          const outside = agents.find((name) => !caller.mayTarget(name))
          if (outside !== undefined && caller.agents !== null) {
            return yield* new NotAllowed({
              command,
              principal: caller.principal,
              reason: new OutsideAgentPatterns({ agent: outside, patterns: caller.agents })
            })
          }
          return agents
        })

      /**
       * One agent named: the orchestrator's answer as it is. Several (or a pattern): each in dependency order
       * (`stop` and `pause` dependents first, `start` and `resume` dependencies first; `restart` stops them all in
       * reverse order, then restarts them in order, so each counts one restart), one outcome each; failing as a whole if any failed.
       */
      const agentAction = <A extends AgentAction>(action: A): Handler<A> => (targets, caller) => {
        // One name: the reply as it always was, `{message, agent}`.
        if (isSingleTarget(targets)) return Effect.map(control.control(action, targets[0]), ({ message, agent }) => reply({ message, agent }))
        return Effect.gen(function*() {
          const agents = yield* expand(action, targets, caller)
          const reversed = [...agents].reverse()
          let results: Array<TargetResult>
          if (action === "restart") {
            const stopped = new Map<string, TargetResult>()
            for (const agent of reversed) stopped.set(agent, yield* runOne("stop", agent))
            results = []
            for (const agent of agents) {
              const stop = stopped.get(agent)
              if (stop !== undefined && stop.outcome !== "done" && stop.outcome !== "already") {
                results.push(stop)
                continue
              }
              // A restart, not a start: it is counted and recorded as one, as for a single agent.
              results.push(yield* runOne("restart", agent))
            }
          } else {
            results = []
            for (const agent of action === "stop" || action === "pause" ? reversed : agents) {
              results.push(yield* runOne(action, agent))
            }
          }
          if (results.some((result) => result.outcome === "failed")) {
            return yield* new TargetsFailed({ command: action, results })
          }
          return reply({ results })
        })
      }

      return CommandHandlers.of({
        ps: () => Effect.map(query.view, (view) => ({ encoded: agentList.ps(view) })),

        status: ([agent]) =>
          agent === undefined
            ? Effect.map(query.view, (view) => ({ encoded: agentList.status(view) }))
            : Effect.map(query.agent(agent), reply),

        stats: () =>
          Effect.gen(function*() {
            const view = yield* query.view
            const store = yield* events.info
            const { total, ...byState } = agentList.counts(view.agents)
            return reply({
              totalAgents: total,
              ...byState,
              unhealthy: view.agents.filter((agent) => agent.status.health === "unhealthy").length,
              restarts: view.agents.reduce((sum, agent) => sum + agent.status.restarts, 0),
              maxWorkers: view.maxWorkers,
              uptimeSeconds: view.uptimeSeconds,
              eventsRecorded: store.recorded,
              eventsRetained: store.size,
              eventsCapacity: store.capacity,
              cpuPercent: sumKnown(view.agents, (agent) => agent.cpuPercent, 1),
              memoryBytes: sumKnown(view.agents, (agent) => agent.memoryBytes, 0),
              cpuSeconds: sumKnown(view.agents, (agent) => agent.cpuSeconds, 2)
            })
          }),

        history: ([filter = {}]) =>
          Effect.gen(function*() {
            const limit = Math.min(filter.limit ?? HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX)
            const page = yield* events.query({ ...filter, limit })
            // A name that is neither an agent nor in the history (a removed agent's events stay) is a mistake, as
            // it is for `logs`: an empty page would look like an agent with nothing to say.
            if (filter.agent !== undefined && page.events.length === 0) yield* knownToHistory(filter.agent)
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

        reload: ([request = {}]) =>
          Effect.gen(function*() {
            if (Option.isNone(reloads)) return yield* new ReloadFailed({ reason: new NotReloadable() })
            const plan = yield* reloads.value.reload({ config: request.config, dryRun: request.dryRun ?? false })
            // Applied, but some agents did not start: the command fails, saying which, as a control command does.
            if (plan.results.some((result) => result.outcome === "failed")) {
              return yield* new TargetsFailed({ command: "reload", results: plan.results })
            }
            return reply(plan)
          }),

        shutdown: () =>
          Effect.succeed({ data: { message: "Shutdown initiated" }, afterReply: control.requestShutdown })
      })
    })
  )
}
