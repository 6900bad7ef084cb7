/**
 * A real orchestrator over a real EventStore and Node's process spawner.
 */
import { NodeServices } from "@effect/platform-node"
import { Context, Duration, Effect, Layer, Schema } from "effect"
import { EventStore, type EventStoreOptions } from "../../src/events/EventStore.ts"
import { DEFAULT_KEEP_LINES, type LogStream, LogStore } from "../../src/logs/LogStore.ts"
import { type AgentDefinition, processAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator, type OrchestratorOptions } from "../../src/orchestrator/Orchestrator.ts"
import { ProcessAgentConfig } from "../../src/orchestrator/OrchestratorConfig.ts"
import type { AgentState, AgentStatus } from "../../src/protocol/Model.ts"

/** An orchestrator whose agents have been started (as `Orchestrator.run` would), so tests can watch them. */
export const orchestratorLayer = <R = never>(
  agents: ReadonlyArray<AgentDefinition<R>>,
  options: Partial<Omit<OrchestratorOptions<R>, "agents">> & { readonly events?: EventStoreOptions; readonly keepLines?: number } = {}
) =>
  Orchestrator.layer({
    maxWorkers: 4,
    runMode: "daemon",
    agentStopTimeout: Duration.seconds(5),
    heartbeatInterval: Duration.seconds(5),
    ...options,
    agents
  }).pipe(
    Layer.tap((services) => Context.get(services, Orchestrator).start),
    Layer.provideMerge(EventStore.layer(options.events)),
    Layer.provideMerge(LogStore.layer({ keepLines: options.keepLines ?? DEFAULT_KEEP_LINES })),
    Layer.provideMerge(NodeServices.layer)
  )

/** A process agent from config-file fields, relative to the working directory. */
export const processFrom = (config: unknown) =>
  processAgent(Schema.decodeUnknownSync(ProcessAgentConfig)(config), process.cwd())

/** Runs a small Node program as a process agent. */
export const nodeAgent = (name: string, script: string, config: Record<string, unknown> = {}) =>
  processFrom({ name, command: process.execPath, args: ["-e", script], ...config })

export const statusOf = (name: string) => Orchestrator.use((o) => Effect.orDie(o.query.agent(name)))

/** Polls `name`'s status until `until` holds (yielding, or sleeping `every` on a live clock), at most `times`. */
export const awaitStatus = (
  name: string,
  until: (status: AgentStatus) => boolean,
  options: { readonly every?: Duration.Input; readonly times?: number } = {}
) =>
  statusOf(name).pipe(
    Effect.tap(() => options.every === undefined ? Effect.yieldNow : Effect.sleep(options.every)),
    Effect.repeat({ until, times: options.times ?? 2000 }),
    Effect.flatMap((status) =>
      until(status) ? Effect.succeed(status) : Effect.die(new Error(`${name} never got there; it is ${status.state}`)))
  )

/** Repeats `check` every 10 ms until `until` holds (at most 10 s on a live clock); returns the last value. */
export const eventually = <A, R>(check: Effect.Effect<A, never, R>, until: (a: A) => boolean) =>
  check.pipe(Effect.tap(() => Effect.sleep("10 millis")), Effect.repeat({ until, times: 1000 }))

export const awaitState = (name: string, state: AgentState, options?: { readonly every?: Duration.Input }) =>
  awaitStatus(name, (status) => status.state === state, options)

/** The names of the events recorded for an agent, oldest first. */
export const eventNames = (agent: string, filter?: { readonly event?: string }) =>
  EventStore.use((store) => store.query({ agent, limit: 1000, ...filter })).pipe(
    Effect.map((page) => page.events.map((event) => event.eventName))
  )

/** The lines an agent wrote (or the orchestrator noted), oldest first, of one stream if asked. */
export const linesOf = (agent: string, stream?: LogStream) =>
  LogStore.use((store) => store.query({ agents: [agent], limit: 100_000 })).pipe(
    Effect.map((page) => page.lines.filter((line) => stream === undefined || line.stream === stream))
  )

export const eventsOf = (agent: string, event: string) =>
  EventStore.use((store) => store.query({ agent, event, limit: 1000 })).pipe(Effect.map((page) => page.events))
