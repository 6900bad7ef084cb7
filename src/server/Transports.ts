/**
 * The command interface on each transport the config enables: the ZeroMQ socket (`commandInterface.enabled`) and
 * HTTP (`http.enabled`, `http/HttpInterface.ts`). Both run the same pipeline stages over one whitelist and one audit
 * trail, so that an audit file has one hash chain whichever way requests come. The ZeroMQ socket is bound first,
 * as it always was; a transport that cannot start stops the other and the orchestrator with it.
 */
import { Effect, Layer } from "effect"
import { layerServerSharing, type Requirements, type StartupError, whitelistAndAuditTrail } from "./CommandInterface.ts"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"
import { HttpInterface } from "./http/HttpInterface.ts"
import { HttpConfig } from "./http/HttpSettings.ts"
import type { HttpStartupError } from "./http/HttpStartupError.ts"

export const layer: Layer.Layer<never, StartupError | HttpStartupError, Requirements | HttpConfig> = Layer.unwrap(
  Effect.gen(function*() {
    const zmq = (yield* CommandInterfaceConfig).enableCommandInterface
    const http = (yield* HttpConfig).enabled
    if (!zmq && !http) return Layer.empty
    const zmqServer = zmq ? Layer.flatMap(layerServerSharing, () => Layer.empty) : Layer.empty
    const httpServer = http ? Layer.flatMap(HttpInterface.layer, () => Layer.empty) : Layer.empty
    return Layer.flatMap(zmqServer, () => httpServer).pipe(Layer.provide(whitelistAndAuditTrail))
  })
)
