/**
 * The command interface, assembled: a ZeroMQ socket, the whitelist, authentication, the audit trail, the
 * command handlers and the server fiber, all configured from `CommandInterfaceConfig`. An application adds it
 * to its layer graph next to an orchestrator (which provides `OrchestratorQuery` and `OrchestratorControl`) and
 * an `EventStore`.
 */
import { Effect, Layer } from "effect"
import type { EventStore } from "../events/EventStore.ts"
import type { OrchestratorControl } from "../orchestrator/OrchestratorControl.ts"
import type { OrchestratorQuery } from "../orchestrator/OrchestratorQuery.ts"
import { fingerprint, type KeyFileError, z85Encode } from "../security/keys.ts"
import { type AuditFileError, AuditTrail } from "./AuditTrail.ts"
import { Authenticator, type CurveServer } from "./Authenticator.ts"
import { CommandHandlers } from "./CommandHandlers.ts"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"
import { CommandServer } from "./CommandServer.ts"
import { checkExposure, resolveGroup } from "./exposure.ts"
import { RequestHandler } from "./RequestHandler.ts"
import type { BindError, Socket } from "./Socket.ts"
import { Whitelist } from "./Whitelist.ts"
import type { ZapDecision, ZapRequest } from "./ZapHandler.ts"
import { layerZmq } from "./ZmqSocket.ts"

export type Requirements = CommandInterfaceConfig | EventStore | OrchestratorQuery | OrchestratorControl

/** Why the interface could not start: its address, its key file or its audit file. */
export type StartupError = BindError | KeyFileError | AuditFileError

const whitelist = Layer.effect(Whitelist, CommandInterfaceConfig.useSync((config) => Whitelist.make(config.allowedCommands)))

/** Admits a connecting client whose key belongs to a principal; refuses and records any other. */
const admitter = (curve: CurveServer) =>
  Effect.fnUntraced(function*(request: ZapRequest, address: string) {
    const audit = yield* AuditTrail
    const key = request.publicKey?.length === 32 ? z85Encode(request.publicKey) : undefined
    const principal = key === undefined ? undefined : curve.principalOf(key)
    if (principal !== undefined) return { admit: true, userId: principal.name } satisfies ZapDecision
    const keyFingerprint = key === undefined ? null : fingerprint(key)
    yield* audit.record({
      eventName: "AUTH_REJECTED",
      severity: "warning",
      data: { key_fingerprint: keyFingerprint, peer_address: request.address === "" ? null : request.address, mechanism: request.mechanism, address }
    })
    yield* Effect.logWarning(
      `refused a ${request.mechanism} connection from ${request.address || "an unknown peer"}: key ${keyFingerprint ?? "(none)"} is not a configured principal's`
    )
    return { admit: false, reason: "unknown key" } satisfies ZapDecision
  })

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
    // The ZAP handler runs checks outside any fiber of ours: give them this layer's services and log annotations.
    const context = yield* Effect.context<AuditTrail>()
    const admit = admitter(curve)
    yield* Effect.logInfo(
      `CURVE on: server key ${fingerprint(curve.keyPair.publicKey)} (${curve.keyPair.publicKey}); principals: ` +
        config.curve?.principals.map((principal) => principal.name).join(", ")
    ).pipe(Effect.annotateLogs({ component: "command-interface" }))
    return layerZmq({
      address,
      maxFrameBytes: CommandInterfaceConfig.frameLimit(config),
      curve: {
        secretKey: curve.keyPair.secretKey,
        admit: (request, endpoint) =>
          Effect.runPromiseWith(context)(admit(request, endpoint).pipe(Effect.annotateLogs({ component: "command-interface" })))
      },
      ...(ipcGroupId === undefined ? {} : { ipcGroupId })
    })
  })
)

/** Authentication and the audit trail: what both the socket and the request handler need. */
const security = Layer.mergeAll(Authenticator.layer, AuditTrail.layer).pipe(Layer.provideMerge(whitelist))

/** The server over any Socket: tests give it the in-memory one. */
export const layerWithSocket: Layer.Layer<CommandServer, KeyFileError | AuditFileError, Requirements | Socket> =
  CommandServer.layer.pipe(
    Layer.provide(RequestHandler.layer.pipe(Layer.provide(CommandHandlers.layer))),
    Layer.provide(security)
  )

/** The server on the configured ZeroMQ address, whether or not the config enables it. */
export const layerServer: Layer.Layer<CommandServer, StartupError, Requirements> = CommandServer.layer.pipe(
  Layer.provide(RequestHandler.layer.pipe(Layer.provide(CommandHandlers.layer))),
  Layer.provide(socket),
  Layer.provide(security)
)

/** The command interface as the config says: bound and serving when enabled, nothing at all otherwise. */
export const layer: Layer.Layer<never, StartupError, Requirements> = Layer.unwrap(
  CommandInterfaceConfig.useSync((config) =>
    config.enableCommandInterface ? Layer.flatMap(layerServer, () => Layer.empty) : Layer.empty)
)
