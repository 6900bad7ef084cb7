/**
 * What the peer at an address answers the start of a ZMTP 3 greeting with: a ZeroMQ server's own greeting, and
 * the security mechanism it offers (`NULL`, `PLAIN`, `CURVE`), or something that is not ZeroMQ at all.
 *
 * When a handshake fails because the server hung up (EPIPE, ECONNRESET), libzmq cannot say why. A CURVE server
 * that sees a plain client's greeting closes the connection, often before its own greeting has reached the
 * client, which then reports a broken pipe instead of a mechanism mismatch (3 connections in 4 across two
 * processes here). Its greeting says it plainly, though: a connection that sends only the start of a greeting (the
 * signature and major version) gets the server's whole greeting back, mechanism included, and nothing it could
 * object to. A peer that is not ZeroMQ hangs up too, and what it sent first says so: libzmq sends its signature
 * (first byte 0xFF) as soon as it connects, whereas an HTTP server answers these bytes with a status line
 * (`HTTP/1.1 400 Bad Request`), and anything else with whatever it speaks.
 */
import { Effect, Option } from "effect"
import * as Net from "node:net"
import { parseAddress } from "../protocol/Address.ts"

/** The signature (0xFF, 8 bytes of padding, 0x7F) and major version 3. */
const GREETING_START = Uint8Array.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3])
/** Signature, version (2 bytes), mechanism (20 bytes, NUL-padded), as-server flag, filler. */
const GREETING_BYTES = 64
const MECHANISM = { start: 12, end: 32 } as const
/** How an HTTP response starts: its status line's protocol. */
const HTTP_START = Buffer.from("HTTP/", "latin1")

/** A local server answers within milliseconds; one that does not is no help in explaining a failure. */
const PROBE_TIMEOUT = "1 second"

/** What the peer answered: a ZeroMQ greeting and its mechanism, an HTTP response, or other bytes. */
export type PeerGreeting =
  | { readonly _tag: "Zmtp"; readonly mechanism: string }
  | { readonly _tag: "Http" }
  | { readonly _tag: "NotZmtp" }

const connectOptions = (address: string): Net.NetConnectOpts | undefined => {
  const endpoint = parseAddress(address)
  if (endpoint?.transport === "tcp") return endpoint.port === "*" ? undefined : { host: endpoint.host, port: endpoint.port }
  return endpoint?.transport === "ipc" ? { path: endpoint.path } : undefined
}

/** A whole greeting's mechanism; none for a signature of ZMTP before 3, which has no mechanism. */
const zmtpGreeting = (greeting: Buffer): Option.Option<PeerGreeting> => {
  const version = greeting[10]
  if (((greeting[9] ?? 0) & 1) !== 1 || version === undefined || version < 3) return Option.none()
  return Option.some({
    _tag: "Zmtp",
    mechanism: greeting.subarray(MECHANISM.start, MECHANISM.end).toString("latin1").replace(/\0+$/, "")
  })
}

/**
 * What the bytes received so far say, or undefined while they cannot tell yet. `ended`: no more will come, and
 * what came is all there is to tell from. Nothing at all says nothing: some servers hang up without a word.
 */
const classify = (received: Buffer, ended: boolean): Option.Option<PeerGreeting> | undefined => {
  const first = received[0]
  if (first === undefined) return ended ? Option.none() : undefined
  if (first === 0xff) {
    if (received.length >= GREETING_BYTES) return zmtpGreeting(received)
    return ended ? Option.none() : undefined
  }
  const start = received.subarray(0, HTTP_START.length)
  if (start.equals(HTTP_START)) return Option.some({ _tag: "Http" })
  // The start of "HTTP/" split across packets: wait for the rest.
  if (!ended && start.length < HTTP_START.length && start.equals(HTTP_START.subarray(0, start.length))) return undefined
  return Option.some({ _tag: "NotZmtp" })
}

/** What the peer at `address` answers, or none if that could not be read (it said nothing, is gone, too slow). */
export const peerGreeting = (address: string): Effect.Effect<Option.Option<PeerGreeting>> => {
  const options = connectOptions(address)
  if (options === undefined) return Effect.succeedNone
  return Effect.callback<Option.Option<PeerGreeting>>((resume) => {
    const socket = Net.connect(options)
    let received = Buffer.alloc(0)
    let settled = false
    const settleWith = (ended: boolean) => {
      if (settled) return
      const greeting = classify(received, ended)
      if (greeting === undefined) return
      settled = true
      socket.destroy()
      resume(Effect.succeed(greeting))
    }
    socket.once("connect", () => socket.write(GREETING_START))
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      settleWith(false)
    })
    socket.once("error", () => settleWith(true))
    socket.once("close", () => settleWith(true))
    return Effect.sync(() => socket.destroy())
  }).pipe(Effect.timeoutOption(PROBE_TIMEOUT), Effect.map(Option.flatten))
}
