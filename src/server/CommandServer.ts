/**
 * The command interface's server fiber. It reads requests and runs each in its own fiber, so a slow command
 * never delays another. When its scope closes it shuts down gracefully: new requests are refused with
 * `ShuttingDown`, requests in flight get up to `shutdownTimeout` to finish and be answered, and any still
 * running after that are interrupted and answered with `ShuttingDown`. The socket closes only after that (it
 * was acquired first, so it is released last).
 */
import { Context, Effect, FiberSet, Layer, Ref, References, Semaphore } from "effect"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"
import { ShuttingDown } from "./pipeline/RequestError.ts"
import { RequestPipeline } from "./pipeline/RequestPipeline.ts"
import { Socket } from "./Socket.ts"
import { describeAllowed } from "./Whitelist.ts"

const refusal = new ShuttingDown({ kind: "NotStarted" })

export class CommandServer extends Context.Service<CommandServer, {
  readonly endpoint: string
  /** Requests being executed now. */
  readonly inFlight: Effect.Effect<number>
}>()("effect-orchestrate/CommandServer") {
  static readonly layer: Layer.Layer<CommandServer, never, Socket | RequestPipeline | CommandInterfaceConfig> = Layer
    .effect(
      CommandServer,
      Effect.gen(function*() {
        const socket = yield* Socket
        const pipeline = yield* RequestPipeline
        const config = yield* CommandInterfaceConfig
        const inFlight = yield* FiberSet.make<void>()
        const draining = yield* Ref.make(false)
        const permits = yield* Semaphore.make(config.maxInFlight)

        const serveNext = Effect.gen(function*() {
          const request = yield* socket.take
          if (yield* Ref.get(draining)) return yield* pipeline.handle(request, refusal)
          // At the in-flight limit the loop waits here and stops reading, so ZeroMQ's queues push back on clients
          // instead of memory growing. A request held here when the server stops is still answered.
          yield* permits.take(1).pipe(Effect.onInterrupt(() => pipeline.handle(request, refusal)))
          yield* FiberSet.run(inFlight, pipeline.handle(request).pipe(Effect.ensuring(permits.release(1))))
        }).pipe(
          Effect.catchTag("SocketError", (error) =>
            // A receive failure is not a reason to stop serving; pause briefly so a persistent one cannot spin.
            Effect.logWarning("receive failed", error.message).pipe(Effect.andThen(Effect.sleep("10 millis"))))
        )

        const annotate = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
          effect.pipe(
            Effect.annotateLogs({ component: "command-interface" }),
            config.logLevel === undefined ? (e) => e : Effect.provideService(References.MinimumLogLevel, config.logLevel)
          )

        yield* Effect.forkScoped(annotate(Effect.forever(serveNext)))

        yield* Effect.addFinalizer(() =>
          annotate(Effect.gen(function*() {
            yield* Ref.set(draining, true)
            const pending = yield* FiberSet.size(inFlight)
            if (pending > 0) yield* Effect.logInfo(`waiting for ${pending} request(s) in flight`)
            const finished = yield* FiberSet.awaitEmpty(inFlight).pipe(Effect.timeoutOption(config.shutdownTimeout))
            if (finished._tag === "None") {
              yield* Effect.logWarning(
                `${yield* FiberSet.size(inFlight)} request(s) did not finish within the shutdown timeout; interrupting them`
              )
            }
            yield* Effect.logInfo(`command interface on ${socket.endpoint} stopped`)
          }))
        )

        yield* annotate(Effect.logInfo(`command interface listening on ${socket.endpoint} (allowed: ${describeAllowed(config.allowedCommands)})`))
        return CommandServer.of({ endpoint: socket.endpoint, inFlight: FiberSet.size(inFlight) })
      })
    )
}
