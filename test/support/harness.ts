/**
 * The command interface over swapped layers: the in-memory socket and orchestrator, a real EventStore.
 */
import { Effect, Layer, Logger } from "effect"
import { EventStore, type EventStoreConfig } from "../../src/events/EventStore.ts"
import { type AgentSeed, InMemoryOrchestrator } from "../../src/orchestrator/InMemoryOrchestrator.ts"
import type { ConfigReload } from "../../src/ports/ConfigReload.ts"
import type { OrchestratorControl } from "../../src/ports/OrchestratorControl.ts"
import type { OrchestratorQuery } from "../../src/ports/OrchestratorQuery.ts"
import { layerWithSocket } from "../../src/server/CommandInterface.ts"
import { CommandInterfaceConfig, type CommandInterfaceOptions } from "../../src/server/CommandInterfaceConfig.ts"
import { layerMemory, MemoryClient } from "../../src/server/MemorySocket.ts"
import { Socket } from "../../src/server/Socket.ts"

export const demoAgents: ReadonlyArray<AgentSeed> = [
  { name: "db", state: "running" },
  { name: "api", state: "running", dependencies: ["db"], restartPolicy: "on-failure" },
  { name: "worker", state: "paused", kind: "effect", dependencies: ["db"] },
  { name: "migrate", state: "completed", dependencies: ["db"] }
]

export interface HarnessOptions {
  readonly config?: CommandInterfaceOptions
  readonly agents?: ReadonlyArray<AgentSeed>
  readonly events?: EventStoreConfig
  /** Replaces the in-memory orchestrator's query port. */
  readonly query?: Layer.Layer<OrchestratorQuery>
  /** Replaces the in-memory orchestrator's control port. */
  readonly control?: Layer.Layer<OrchestratorControl>
  /** A reload port: without one, `reload` is answered as for an orchestrator embedded in a program. */
  readonly reload?: Layer.Layer<ConfigReload>
  /** Wraps the in-memory socket, e.g. to observe replies. */
  readonly wrapSocket?: (socket: Socket["Service"]) => Socket["Service"]
}

/**
 * Leaves out the default logger's output, which would print a block per log line of every server a test starts.
 * A test that installed loggers of its own (to assert on what is logged) keeps them.
 */
export const quietLogs = <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
  Layer.unwrap(Effect.map(Effect.service(Logger.CurrentLoggers), (loggers) =>
    loggers.has(Logger.defaultLogger) ? layer.pipe(Layer.provide(Logger.layer([]))) : layer))

export const harness = (options: HarnessOptions = {}) => {
  const orchestrator = InMemoryOrchestrator.layer({ agents: options.agents ?? demoAgents, maxWorkers: 4 })
  const wrap = options.wrapSocket
  // Both halves come from the same in-memory instance: a layer is built once per build, however often it is used.
  const socket = wrap === undefined ? layerMemory : Layer.merge(
    Layer.effect(Socket, Socket.useSync(wrap)).pipe(Layer.provide(layerMemory)),
    Layer.effect(MemoryClient, MemoryClient.useSync((client) => client)).pipe(Layer.provide(layerMemory))
  )
  return layerWithSocket.pipe(
    Layer.provide([options.query ?? Layer.empty, options.control ?? Layer.empty, options.reload ?? Layer.empty]),
    Layer.provideMerge(socket),
    Layer.provideMerge(orchestrator),
    Layer.provideMerge(EventStore.layer(options.events)),
    Layer.provideMerge(Layer.orDie(CommandInterfaceConfig.layer({ allowedCommands: "all", ...options.config }))),
    quietLogs
  )
}

/** Sends a request as JSON through the in-memory socket and returns the parsed reply. */
export const request = (body: unknown) => MemoryClient.use((client) => client.request(body))

/** Sends raw frames and returns the parsed reply. */
export const sendFrames = (frames: ReadonlyArray<string | Uint8Array>) =>
  MemoryClient.use((client) => Effect.map(client.send(frames), (reply): unknown => JSON.parse(reply)))
