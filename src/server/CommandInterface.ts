/**
 * The command interface, assembled: a ZeroMQ socket, the whitelist, authentication, the audit trail, the
 * command handlers, the request pipeline and the server fiber, all configured from `CommandInterfaceConfig`. An
 * application adds it to its layer graph next to an orchestrator (which provides `OrchestratorQuery` and
 * `OrchestratorControl`) and an `EventStore`.
 */
import { Effect, Layer } from "effect"
import type { EventStore } from "../events/EventStore.ts"
import type { OrchestratorControl } from "../ports/OrchestratorControl.ts"
import type { OrchestratorQuery } from "../ports/OrchestratorQuery.ts"
import { fingerprint, type KeyFileError, z85Encode } from "../security/keys.ts"
import { type AuditFileError, AuditTrail } from "./AuditTrail.ts"
import { Authenticator, type CurveServer } from "./Authenticator.ts"
import { CommandHandlers } from "./CommandHandlers.ts"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"
import { CommandServer } from "./CommandServer.ts"
import { checkExposure, resolveGroup } from "./exposure.ts"
import { RequestPipeline } from "./pipeline/RequestPipeline.ts"
import { RejectionLog } from "./RejectionLog.ts"
import type { BindError, Socket } from "./Socket.ts"
import { Whitelist } from "./Whitelist.ts"
import type { ZapDecision, ZapRequest } from "./ZapHandler.ts"
import { layerZmq } from "./ZmqSocket.ts"

export type Requirements = CommandInterfaceConfig | EventStore | OrchestratorQuery | OrchestratorControl

/** Why the interface could not start: its address, its key file or its audit file. */
export type StartupError = BindError | KeyFileError | AuditFileError

const whitelist = Layer.effect(Whitelist, CommandInterfaceConfig.useSync((config) => Whitelist.make(config.allowedCommands)))

/** Admits a connecting client whose key belongs to a principal; refuses any other, and has it recorded. */
const admitter = (curve: CurveServer, rejections: RejectionLog["Service"]) =>
(request: ZapRequest, address: string): Effect.Effect<ZapDecision> => {
  const key = request.publicKey?.length === 32 ? z85Encode(request.publicKey) : undefined
  const principal = key === undefined ? undefined : curve.principalOf(key)
  if (principal !== undefined) return Effect.succeed({ admit: true, userId: principal.name })
  return rejections.refused({
    keyFingerprint: key === undefined ? null : fingerprint(key),
    peerAddress: request.address === "" ? null : request.address,
    mechanism: request.mechanism,
    address
  }).pipe(Effect.as({ admit: false, reason: "unknown key" }))
}

const socket: Layer.Layer<Socket, BindError, CommandInterfaceConfig | Authenticator | AuditTrail> = Layer.unwrap(
  Effect.gen(function*() {
    const config = yield* CommandInterfaceConfig
    const address = config.commandAddress
    yield* checkExposure(config)
    const { curve } = yield* Authenticator
    const ipcGroupId = config.ipcGroup === undefined || !address.startsWith("ipc://")
      ? undefined
      : yield* resolveGroup(config.ipcGroup, address)
    if (curve === undefined) {
      return layerZmq({ address, maxFrameBytes: CommandInterfaceConfig.frameLimit(config), ...(ipcGroupId === undefined ? {} : { ipcGroupId }) })
    }
    // Made in this layer's scope, which outlives the socket's: the pending counts are flushed after the socket
    // has closed, when no handshake can add to them.
    const rejections = yield* RejectionLog.make()
    const admit = admitter(curve, rejections)
    yield* Effect.logInfo(
      `CURVE on: server key ${fingerprint(curve.keyPair.publicKey)} (${curve.keyPair.publicKey}); principals: ` +
        config.curve?.principals.map((principal) => principal.name).join(", ")
    ).pipe(Effect.annotateLogs({ component: "command-interface" }))
    return layerZmq({
      address,
      maxFrameBytes: CommandInterfaceConfig.frameLimit(config),
      curve: {
        secretKey: curve.keyPair.secretKey,
        admit: (request, endpoint) => admit(request, endpoint).pipe(Effect.annotateLogs({ component: "command-interface" }))
      },
      ...(ipcGroupId === undefined ? {} : { ipcGroupId })
    })
  })
)

/** The whitelist and the audit trail: one of each, whichever transports share them. */
export const whitelistAndAuditTrail = AuditTrail.layer.pipe(Layer.provideMerge(whitelist))

/** The server with its pipeline and handlers, over a Socket and an Authenticator given from outside. */
const serving = CommandServer.layer.pipe(Layer.provide(RequestPipeline.layer.pipe(Layer.provide(CommandHandlers.layer))))

/** The server over any Socket: tests give it the in-memory one. */
export const layerWithSocket: Layer.Layer<CommandServer, KeyFileError | AuditFileError, Requirements | Socket> = serving.pipe(
  Layer.provide(Authenticator.layer),
  Layer.provide(whitelistAndAuditTrail)
)

/**
 * The server on the configured ZeroMQ address over a whitelist and an audit trail given from outside, so that
 * another transport (the HTTP interface, `Transports.ts`) shares them: one ceiling, one audit chain.
 */
export const layerServerSharing: Layer.Layer<CommandServer, StartupError, Requirements | Whitelist | AuditTrail> = serving.pipe(
  Layer.provide(socket),
  Layer.provide(Authenticator.layer)
)

/** The server on the configured ZeroMQ address, whether or not the config enables it. */
export const layerServer: Layer.Layer<CommandServer, StartupError, Requirements> = layerServerSharing.pipe(
  Layer.provide(whitelistAndAuditTrail)
)

/** The command interface as the config says: bound and serving when enabled, nothing at all otherwise. */
export const layer: Layer.Layer<never, StartupError, Requirements> = Layer.unwrap(
  CommandInterfaceConfig.useSync((config) =>
    config.enableCommandInterface ? Layer.flatMap(layerServer, () => Layer.empty) : Layer.empty)
)
