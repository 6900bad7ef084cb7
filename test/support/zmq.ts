/**
 * Real ZeroMQ clients for integration tests, and the real server on a random loopback port.
 */
import { Clock, Context, Effect, Layer, Scope } from "effect"
import * as Zmq from "zeromq"
import { EventStore } from "../../src/events/EventStore.ts"
import { type AgentSeed, InMemoryOrchestrator } from "../../src/orchestrator/InMemoryOrchestrator.ts"
import type { OrchestratorControl } from "../../src/ports/OrchestratorControl.ts"
import { layerServer } from "../../src/server/CommandInterface.ts"
import { CommandInterfaceConfig, type CommandInterfaceOptions } from "../../src/server/CommandInterfaceConfig.ts"
import { CommandServer } from "../../src/server/CommandServer.ts"
import { RECEIVE_RECHECK_MILLIS, receiver } from "../../src/zmq/ZmqAdapter.ts"
import { demoAgents, quietLogs } from "./harness.ts"

export const ANY_PORT = "tcp://127.0.0.1:*"

/** What the command interface needs: the in-memory orchestrator, an event store and the config. */
export const dependencies = (config: CommandInterfaceOptions = {}, agents: ReadonlyArray<AgentSeed> = demoAgents) =>
  Layer.mergeAll(
    InMemoryOrchestrator.layer({ agents }),
    EventStore.layer(),
    Layer.orDie(CommandInterfaceConfig.layer({
      enableCommandInterface: true,
      commandAddress: ANY_PORT,
      allowedCommands: "all",
      ...config
    }))
  )

export const serverLayer = (options: {
  readonly config?: CommandInterfaceOptions
  readonly agents?: ReadonlyArray<AgentSeed>
  readonly control?: Layer.Layer<OrchestratorControl>
} = {}) =>
  layerServer.pipe(
    Layer.provide(options.control ?? Layer.empty),
    Layer.provideMerge(dependencies(options.config, options.agents)),
    quietLogs
  )

/** Starts the real server in `scope` and returns its context. */
export const startServer = (scope: Scope.Scope, options: Parameters<typeof serverLayer>[0] = {}) =>
  Effect.map(Layer.buildWithScope(serverLayer(options), scope), (context) => ({
    context,
    endpoint: Context.get(context, CommandServer).endpoint
  }))

const closing = <S extends Zmq.Socket>(make: () => S) =>
  Effect.acquireRelease(Effect.sync(make), (socket) => Effect.sync(() => socket.close()))

/**
 * A REQ client; linger 0 so an unanswered request never keeps the process alive, and a short receive timeout, so
 * that a receive looks again as every socket of the project does (src/zmq/ZmqAdapter.ts).
 */
export const reqClient = (endpoint: string) =>
  closing(() => {
    const socket = new Zmq.Request({ linger: 0, receiveTimeout: RECEIVE_RECHECK_MILLIS })
    socket.connect(endpoint)
    return socket
  })

export const dealerClient = (endpoint: string) =>
  closing(() => {
    const socket = new Zmq.Dealer({ linger: 0, receiveTimeout: RECEIVE_RECHECK_MILLIS })
    socket.connect(endpoint)
    return socket
  })

/** Receives one message within `timeoutMillis`, or fails with a `TimeoutError`. */
const receiveWithin = (socket: Zmq.Request | Zmq.Dealer, timeoutMillis: number) =>
  receiver(socket).pipe(Effect.orDie, Effect.timeout(timeoutMillis))

/** Sends one request on a REQ socket and parses the reply. */
export const ask = (socket: Zmq.Request, body: unknown, timeoutMillis = 5000) =>
  Effect.promise(() => socket.send(typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body))).pipe(
    Effect.andThen(receiveWithin(socket, timeoutMillis)),
    Effect.map(([reply]): unknown => JSON.parse(String(reply)))
  )

/** Receives one message on a DEALER socket as strings, one per frame. */
export const receiveFrames = (socket: Zmq.Dealer, timeoutMillis = 5000) =>
  Effect.map(receiveWithin(socket, timeoutMillis), (frames) => frames.map((frame) => frame.toString()))

export const send = (socket: Zmq.Dealer, frames: Array<string | Uint8Array>) => Effect.promise(() => socket.send(frames))

/** What a silent server received: each request's id (the last frame's JSON `id`) and when it came (ms). */
export interface Received {
  readonly id: unknown
  readonly at: number
}

/**
 * A Router on a random loopback port that reads requests and never answers them, as an orchestrator that hangs
 * would. `received` lists what came, in order.
 */
export const silentServer = Effect.gen(function*() {
  const received: Array<Received> = []
  const router = yield* closing(() => new Zmq.Router({ linger: 0, receiveTimeout: RECEIVE_RECHECK_MILLIS }))
  yield* Effect.promise(() => router.bind(ANY_PORT))
  yield* Effect.forkScoped(Effect.forever(Effect.flatMap(
    Effect.orDie(receiver(router)),
    (frames) =>
      Effect.map(Clock.currentTimeMillis, (at) => {
        const body: unknown = JSON.parse(String(frames.at(-1)))
        received.push({ id: typeof body === "object" && body !== null && "id" in body ? body.id : undefined, at })
      })
  )))
  return { address: router.lastEndpoint ?? "", received: Effect.sync((): ReadonlyArray<Received> => [...received]) }
})
