/**
 * One request for the fast path, as `CommandClient` sends it (and built from the same pieces, client/wire.ts): a
 * fresh REQ socket per attempt, closed with linger 0 however the attempt ends; a resend with the same id, signed
 * anew, after 60% of the budget without an answer; a connection refused (libzmq retrying before it ever
 * connected) ends it at once. What `CommandClient` explains by its handshake diagnosis (a CURVE mismatch, a
 * refused key, a wrong server key, a peer that hangs up mid-handshake because it is no ZeroMQ server) and whatever
 * fails on the socket itself come back as `Unsure`: the full CLI then runs the command and says what happened,
 * in its own words.
 */
import type * as Zmq from "zeromq"
import type { ClientCredentials } from "../../security/signing.ts"
import { RESEND_AFTER_SHARE, requestSocketOptions } from "../../client/wire.ts"

export type Exchange =
  | { readonly _tag: "Answered"; readonly raw: string }
  | { readonly _tag: "ConnectionRefused" }
  | { readonly _tag: "NoAnswer" }
  | { readonly _tag: "Interrupted" }
  | { readonly _tag: "Unsure" }

export interface ExchangeOptions {
  readonly address: string
  readonly credentials: ClientCredentials | undefined
  /** The request frame, and how to sign it at the time of each attempt. */
  readonly body: string
  readonly sign: ((body: string, now: number) => string) | undefined
  readonly budgetMillis: number
  /** Aborted when the user interrupts (Ctrl-C). */
  readonly signal: AbortSignal
}

const HANDSHAKE_ERRORS = ["handshake:error:auth", "handshake:error:protocol", "handshake:error:other"] as const

/** One attempt on a fresh socket, for at most `millis`; `undefined` when that ran out without an answer. */
const attempt = (zmq: typeof Zmq, options: ExchangeOptions, millis: number): Promise<Exchange | undefined> =>
  new Promise((resolve) => {
    if (options.signal.aborted) return resolve({ _tag: "Interrupted" })
    const socket = new zmq.Request(requestSocketOptions(options.address, options.credentials))
    let connected = false
    let settled = false
    const settle = (outcome: Exchange | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.signal.removeEventListener("abort", interrupted)
      socket.close()
      resolve(outcome)
    }
    const interrupted = () => settle({ _tag: "Interrupted" })
    const timer = setTimeout(() => settle(undefined), millis)
    options.signal.addEventListener("abort", interrupted)
    let handshaking = false
    socket.events.on("connect", () => {
      connected = true
      handshaking = true
    })
    socket.events.on("handshake", () => {
      handshaking = false
    })
    // Hung up mid-handshake with no handshake error: perhaps no ZeroMQ server, which CommandClient tells.
    socket.events.on("disconnect", () => {
      if (handshaking) settle({ _tag: "Unsure" })
    })
    // Once connected, a retry means the peer hung up; CommandClient waits on then too.
    socket.events.on("connect:retry", () => {
      if (!connected) settle({ _tag: "ConnectionRefused" })
    })
    for (const type of HANDSHAKE_ERRORS) socket.events.on(type, () => settle({ _tag: "Unsure" }))
    try {
      socket.connect(options.address)
    } catch {
      settle({ _tag: "Unsure" })
      return
    }
    const frames = options.sign === undefined ? [options.body] : [options.body, options.sign(options.body, Date.now())]
    socket.send(frames).then(() => socket.receive()).then(
      ([reply]) => settle({ _tag: "Answered", raw: reply === undefined ? "" : reply.toString("utf8") }),
      // After settling, this is the close rejecting what was pending; before, a failure of the socket itself.
      () => settle({ _tag: "Unsure" })
    )
  })

export const exchange = async (zmq: typeof Zmq, options: ExchangeOptions): Promise<Exchange> => {
  const started = Date.now()
  const first = await attempt(zmq, options, options.budgetMillis * RESEND_AFTER_SHARE)
  if (first !== undefined) return first
  const second = await attempt(zmq, options, Math.max(0, options.budgetMillis - (Date.now() - started)))
  return second ?? { _tag: "NoAnswer" }
}
