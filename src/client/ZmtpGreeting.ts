/**
 * Which security mechanism a ZeroMQ server speaks (`NULL`, `PLAIN`, `CURVE`), read from its ZMTP 3 greeting.
 *
 * When a handshake fails because the server hung up (EPIPE, ECONNRESET), libzmq cannot say why. A CURVE server
 * that sees a plain client's greeting closes the connection, often before its own greeting has reached the
 * client, which then reports a broken pipe instead of a mechanism mismatch (3 connections in 4 across two
 * processes here). Its greeting says it plainly, though: a connection that sends only the start of a greeting (the
 * signature and major version) gets the server's whole greeting back, mechanism included, and nothing it could
 * object to.
 */
import { Effect, Option } from "effect"
import * as Net from "node:net"
import { parseAddress } from "../protocol/Address.ts"

/** The signature (0xFF, 8 bytes of padding, 0x7F) and major version 3. */
const GREETING_START = Uint8Array.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3])
/** Signature, version (2 bytes), mechanism (20 bytes, NUL-padded), as-server flag, filler. */
const GREETING_BYTES = 64
const MECHANISM = { start: 12, end: 32 } as const

/** A local server answers within milliseconds; one that does not is no help in explaining a failure. */
const PROBE_TIMEOUT = "1 second"

const connectOptions = (address: string): Net.NetConnectOpts | undefined => {
  const endpoint = parseAddress(address)
  if (endpoint?.transport === "tcp") return endpoint.port === "*" ? undefined : { host: endpoint.host, port: endpoint.port }
  return endpoint?.transport === "ipc" ? { path: endpoint.path } : undefined
}

const mechanismOf = (greeting: Buffer): Option.Option<string> => {
  const version = greeting[10]
  if (greeting[0] !== 0xff || ((greeting[9] ?? 0) & 1) !== 1 || version === undefined || version < 3) return Option.none()
  return Option.some(greeting.subarray(MECHANISM.start, MECHANISM.end).toString("latin1").replace(/\0+$/, ""))
}

/** The mechanism the server at `address` offers, or none if it could not be read (not ZeroMQ, gone, too slow). */
export const serverMechanism = (address: string): Effect.Effect<Option.Option<string>> => {
  const options = connectOptions(address)
  if (options === undefined) return Effect.succeedNone
  return Effect.callback<Option.Option<string>>((resume) => {
    const socket = Net.connect(options)
    let received = Buffer.alloc(0)
    let settled = false
    const done = (mechanism: Option.Option<string>) => {
      if (settled) return
      settled = true
      socket.destroy()
      resume(Effect.succeed(mechanism))
    }
    socket.once("connect", () => socket.write(GREETING_START))
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length >= GREETING_BYTES) done(mechanismOf(received))
    })
    socket.once("error", () => done(Option.none()))
    socket.once("close", () => done(Option.none()))
    return Effect.sync(() => socket.destroy())
  }).pipe(Effect.timeoutOption(PROBE_TIMEOUT), Effect.map(Option.flatten))
}
