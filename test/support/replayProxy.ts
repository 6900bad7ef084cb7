/**
 * A ZeroMQ proxy in front of a real orchestrator that answers every request the same way each time: the first
 * request of each command and args goes to the orchestrator, and its reply, byte for byte, answers every later
 * request with the same command and args. Two runs of a CLI through it see the very same answer (uptimes, event
 * counts, even the echoed request id), so whatever differs in what they print is theirs.
 */
import { Effect } from "effect"
import * as Zmq from "zeromq"

const keyOf = (frame: Buffer): string => {
  const request: unknown = JSON.parse(frame.toString("utf8"))
  return typeof request === "object" && request !== null
    ? JSON.stringify(["command" in request ? request.command : null, "args" in request ? request.args : null])
    : frame.toString("utf8")
}

/** Asks the orchestrator at `upstream` once, on a fresh REQ socket. */
const ask = async (upstream: string, frames: ReadonlyArray<Buffer>): Promise<Buffer> => {
  const socket = new Zmq.Request({ linger: 0, receiveTimeout: 10_000 })
  try {
    socket.connect(upstream)
    await socket.send([...frames])
    const [reply] = await socket.receive()
    return reply ?? Buffer.alloc(0)
  } finally {
    socket.close()
  }
}

/** The proxy on a random loopback port, closed with the scope. One request is handled at a time, in order. */
export const replayProxy = (upstream: string) =>
  Effect.gen(function*() {
    const router = yield* Effect.acquireRelease(
      Effect.sync(() => new Zmq.Router({ linger: 0 })),
      (socket) => Effect.sync(() => socket.close())
    )
    yield* Effect.promise(() => router.bind("tcp://127.0.0.1:*"))
    const replies = new Map<string, Buffer>()
    const serve = async () => {
      for await (const [identity, delimiter, ...frames] of router) {
        const [body] = frames
        if (identity === undefined || delimiter === undefined || body === undefined) continue
        const key = keyOf(body)
        const reply = replies.get(key) ?? await ask(upstream, frames)
        replies.set(key, reply)
        await router.send([identity, delimiter, reply])
      }
    }
    // The loop ends when the socket closes with the scope.
    yield* Effect.forkScoped(Effect.promise(() => serve().catch(() => undefined)))
    return { address: router.lastEndpoint ?? "" }
  })
