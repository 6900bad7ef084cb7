/**
 * Loopback ports for tests that need one a program will listen on itself (an agent's HTTP server, say), where a
 * server of ours cannot simply bind port 0.
 */
import { Effect } from "effect"
import * as Net from "node:net"

/** A port the system has just handed out as free: listened on at port 0, then closed. */
export const freePort = Effect.callback<number>((resume) => {
  const probe = Net.createServer()
  probe.listen({ host: "127.0.0.1", port: 0 }, () => {
    const address = probe.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    probe.close(() => resume(Effect.succeed(port)))
  })
})
