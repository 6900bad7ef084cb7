/**
 * A TCP proxy between the browser and the HTTP listener that a test can cut, to drop the page's live stream the way
 * a flaky network does. `cut` destroys every connection through it and holds the new ones: accepted, nothing
 * forwarded, so that the browser's retry is seen to arrive and simply waits. `restore` lets the held connections
 * through, then every new one.
 */
import { Effect } from "effect"
import * as Net from "node:net"

export interface CuttableProxy {
  readonly port: number
  readonly cut: Effect.Effect<void>
  readonly restore: Effect.Effect<void>
  /** Connections accepted since the cut and not let through yet. */
  readonly held: () => number
}

/** The proxy on a random loopback port in front of `127.0.0.1:target`, closed with the scope. */
export const cuttableProxy = (target: number) =>
  Effect.gen(function*() {
    const sockets = new Set<Net.Socket>()
    const track = (socket: Net.Socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      // A reset from either side ends both halves; there is no one to report it to.
      socket.on("error", () => socket.destroy())
    }
    let isCut = false
    let held: Array<Net.Socket> = []
    const forward = (client: Net.Socket) => {
      const upstream = Net.connect({ host: "127.0.0.1", port: target })
      track(upstream)
      client.on("close", () => upstream.destroy())
      upstream.on("close", () => client.destroy())
      // pipe() resumes the client, paused since it connected; what it sent meanwhile is forwarded first.
      client.pipe(upstream)
      upstream.pipe(client)
    }
    const server = yield* Effect.acquireRelease(
      Effect.callback<Net.Server>((resume) => {
        const server = Net.createServer({ pauseOnConnect: true }, (client) => {
          track(client)
          if (isCut) held.push(client)
          else forward(client)
        })
        server.listen({ host: "127.0.0.1", port: 0 }, () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.callback<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    const address = server.address()
    if (address === null || typeof address === "string") return yield* Effect.die(new Error("the proxy has no TCP port"))
    return {
      port: address.port,
      cut: Effect.sync(() => {
        isCut = true
        for (const socket of sockets) socket.destroy()
      }),
      restore: Effect.sync(() => {
        isCut = false
        const waiting = held
        held = []
        for (const client of waiting) if (!client.destroyed) forward(client)
      }),
      held: () => held.filter((client) => !client.destroyed).length
    } satisfies CuttableProxy
  })
