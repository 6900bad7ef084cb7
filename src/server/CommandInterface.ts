/**
 * The command interface, assembled: a ZeroMQ socket, the whitelist, the command handlers and the server fiber,
 * all configured from `CommandInterfaceConfig`. An application adds it to its layer graph next to an
 * orchestrator (which provides `OrchestratorQuery` and `OrchestratorControl`) and an `EventStore`.
 */
import { Layer } from "effect"
import type { EventStore } from "../events/EventStore.ts"
import type { OrchestratorControl } from "../orchestrator/OrchestratorControl.ts"
import type { OrchestratorQuery } from "../orchestrator/OrchestratorQuery.ts"
import { CommandHandlers } from "./CommandHandlers.ts"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"
import { CommandServer } from "./CommandServer.ts"
import { RequestHandler } from "./RequestHandler.ts"
import type { BindError, Socket } from "./Socket.ts"
import { Whitelist } from "./Whitelist.ts"
import { layerZmq } from "./ZmqSocket.ts"

export type Requirements = CommandInterfaceConfig | EventStore | OrchestratorQuery | OrchestratorControl

const whitelist = Layer.effect(Whitelist, CommandInterfaceConfig.useSync((config) => Whitelist.make(config.allowedCommands)))

const socket: Layer.Layer<Socket, BindError, CommandInterfaceConfig> = Layer.unwrap(
  CommandInterfaceConfig.useSync((config) =>
    layerZmq({ address: config.commandAddress, maxFrameBytes: CommandInterfaceConfig.frameLimit(config) }))
)

/** The server over any Socket: tests give it the in-memory one. */
export const layerWithSocket: Layer.Layer<CommandServer, never, Requirements | Socket> = CommandServer.layer.pipe(
  Layer.provide(RequestHandler.layer.pipe(Layer.provide(CommandHandlers.layer))),
  Layer.provide(whitelist)
)

/** The server on the configured ZeroMQ address, whether or not the config enables it. */
export const layerServer: Layer.Layer<CommandServer, BindError, Requirements> = layerWithSocket.pipe(
  Layer.provide(socket)
)

/** The command interface as the config says: bound and serving when enabled, nothing at all otherwise. */
export const layer: Layer.Layer<never, BindError, Requirements> = Layer.unwrap(
  CommandInterfaceConfig.useSync((config) =>
    config.enableCommandInterface ? Layer.flatMap(layerServer, () => Layer.empty) : Layer.empty)
)
