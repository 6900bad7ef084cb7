/**
 * An in-memory Socket for tests: requests are handed over through a queue, and `MemoryClient.send` waits for
 * the reply the server gives.
 */
import { Context, Deferred, Effect, type Latch, Layer, Queue } from "effect"
import { type IncomingRequest, Socket } from "./Socket.ts"

const encoder = new TextEncoder()

export class MemoryClient extends Context.Service<MemoryClient, {
  /** Sends a message of raw frames and waits for its reply. */
  readonly send: (frames: ReadonlyArray<string | Uint8Array>) => Effect.Effect<string>
  /** Sends `request` as JSON and parses the reply. */
  readonly request: (request: unknown) => Effect.Effect<unknown>
}>()("effect-orchestrate/MemoryClient") {}

export const layerMemory: Layer.Layer<Socket | MemoryClient> = Layer.effectContext(Effect.gen(function*() {
  const inbox = yield* Queue.unbounded<IncomingRequest>()
  const send = (frames: ReadonlyArray<string | Uint8Array>) =>
    Effect.gen(function*() {
      const answer = yield* Deferred.make<string>()
      yield* Queue.offer(inbox, {
        frames: frames.map((frame) => typeof frame === "string" ? encoder.encode(frame) : frame),
        reply: (body) => Effect.asVoid(Deferred.succeed(answer, body))
      })
      return yield* Deferred.await(answer)
    })
  const client = MemoryClient.of({
    send,
    request: (request) => Effect.map(send([JSON.stringify(request)]), (body): unknown => JSON.parse(body))
  })
  const serve = (onRequest: (request: IncomingRequest) => void, open: Latch.Latch) =>
    Effect.forever(open.whenOpen(Effect.map(Queue.take(inbox), onRequest)))
  return Context.make(Socket, Socket.of({ endpoint: "memory://", serve })).pipe(
    Context.add(MemoryClient, client)
  )
}))
