/**
 * The command interface's server: it hands each request the socket reads to the pipeline, so that a slow command
 * never delays another. When its scope closes it shuts down gracefully: new requests are refused with
 * `ShuttingDown`, requests in flight get up to `shutdownTimeout` to finish and be answered, and any still running
 * after that are interrupted and answered with `ShuttingDown`. The socket closes only after that (it was acquired
 * first, so it is released last).
 *
 * A request runs in a fiber of its own, started at once in the socket's receive callback. Most commands complete
 * without suspending, so the fiber ends there and nothing else is paid for it: no scheduling, no permit, no entry
 * in a set. Only a fiber that suspended is kept, and counted against `maxInFlight`; at the limit the socket stops
 * reading until one ends. (Forking each request into a FiberSet under a semaphore cost about a third of the
 * server's CPU per `ps`: bench/README.md.)
 *
 * A request that suspended completes in whatever callback woke it, and needs no lower priority than new ones:
 * zeromq.js looks for incoming messages after every send, and Node runs the promise callbacks that hand them over
 * between two timer callbacks, so a request that arrives while many slow ones complete is read between two of them.
 * A scheduler that put such completions behind new requests measured no better on benchmark 3, and slightly worse.
 */
import { Context, Effect, Fiber, Latch, Layer } from "effect"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"
import { ShuttingDown } from "./pipeline/RequestError.ts"
import { RequestPipeline } from "./pipeline/RequestPipeline.ts"
import { type IncomingRequest, Socket } from "./Socket.ts"
import { describeAllowed } from "./Whitelist.ts"

const refusal = new ShuttingDown({ kind: "NotStarted" })

export class CommandServer extends Context.Service<CommandServer, {
  readonly endpoint: string
  /** Requests being executed now: those that suspended and have not ended (the others end as they are read). */
  readonly inFlight: Effect.Effect<number>
}>()("effect-orchestrate/CommandServer") {
  static readonly layer: Layer.Layer<CommandServer, never, Socket | RequestPipeline | CommandInterfaceConfig> = Layer
    .effect(
      CommandServer,
      Effect.gen(function*() {
        const socket = yield* Socket
        const pipeline = yield* RequestPipeline
        const config = yield* CommandInterfaceConfig

        const annotate = CommandInterfaceConfig.logsOf(config, "command-interface")
        // Requests run with this server's services, log annotations and level.
        const run = Effect.runForkWith(yield* annotate(Effect.context<never>()))

        /** Requests that suspended and have not ended yet. */
        const suspended = new Set<Fiber.Fiber<void>>()
        /** Open while fewer than `maxInFlight` requests are in flight: the socket reads only then. */
        const belowLimit = yield* Latch.make(true)
        /** Open while no request is in flight. */
        const idle = yield* Latch.make(true)
        let draining = false

        const ended = (fiber: Fiber.Fiber<void>) => () => {
          suspended.delete(fiber)
          belowLimit.openUnsafe()
          if (suspended.size === 0) idle.openUnsafe()
        }

        const onRequest = (request: IncomingRequest): void => {
          const fiber = run(draining ? pipeline.handle(request, refusal) : pipeline.handle(request))
          if (fiber.pollUnsafe() !== undefined) return
          suspended.add(fiber)
          idle.closeUnsafe()
          // While draining, reading goes on: the requests read are refused at once, and must not wait.
          if (suspended.size >= config.maxInFlight && !draining) belowLimit.closeUnsafe()
          fiber.addObserver(ended(fiber))
        }

        yield* Effect.forkScoped(annotate(Effect.forever(
          socket.serve(onRequest, belowLimit).pipe(
            Effect.catchTag("SocketError", (error) =>
              // A receive failure is not a reason to stop serving; pause briefly so a persistent one cannot spin.
              Effect.logWarning("receive failed", error.message).pipe(Effect.andThen(Effect.sleep("10 millis"))))
          )
        )))

        yield* Effect.addFinalizer(() =>
          annotate(Effect.gen(function*() {
            draining = true
            belowLimit.openUnsafe()
            if (suspended.size > 0) yield* Effect.logInfo(`waiting for ${suspended.size} request(s) in flight`)
            const finished = yield* idle.await.pipe(Effect.timeoutOption(config.shutdownTimeout))
            if (finished._tag === "None") {
              yield* Effect.logWarning(
                `${suspended.size} request(s) did not finish within the shutdown timeout; interrupting them`
              )
              // Each is answered and recorded as it ends: only the command itself is interruptible.
              yield* Fiber.interruptAll([...suspended])
            }
            yield* Effect.logInfo(`command interface on ${socket.endpoint} stopped`)
          }))
        )

        yield* annotate(Effect.logInfo(`command interface listening on ${socket.endpoint} (allowed: ${describeAllowed(config.allowedCommands)})`))
        return CommandServer.of({ endpoint: socket.endpoint, inFlight: Effect.sync(() => suspended.size) })
      })
    )
}
