/**
 * The client's side of the wire that needs no effect: the request frame, the REQ socket's options, when a request
 * is resent, and the words of what can go wrong. `CommandClient` is built on these, and the CLI's fast path
 * (cli/fast/) uses them as they are, so that both send the same requests and say the same things.
 */
import { usesIpv6 } from "../protocol/endpoint.ts"
import type { ClientCredentials } from "../security/signing.ts"

/** Share of the budget after which a request that got no answer is resent; the resend has the rest. */
export const RESEND_AFTER_SHARE = 0.6

/** A request envelope's frame: every request carries an id, echoed back and recorded in the audit trail. */
export const requestFrame = (
  request: { readonly command: string; readonly args: ReadonlyArray<unknown>; readonly reason?: string },
  id: string
): string => JSON.stringify({ ...request, id })

/** A fresh REQ socket's options: never lingering on close, IPv6 for an IPv6 literal, CURVE with credentials. */
export const requestSocketOptions = (address: string, credentials: ClientCredentials | undefined) => ({
  linger: 0,
  ipv6: usesIpv6(address),
  ...(credentials === undefined ? {} : {
    curveServerKey: credentials.serverPublicKey,
    curvePublicKey: credentials.publicKey,
    curveSecretKey: credentials.secretKey
  })
})

export const CONNECTION_REFUSED = "connection refused: is the orchestrator running with its command interface enabled?"

export const noAnswerWithin = (timeout: string): string => `no answer within ${timeout}`

/** An `Unreachable` failure: why, and where. */
export const unreachableAt = (reason: string, address: string): string => `${reason} (${address})`

/**
 * The orchestrator answered with an error. The code ends its first line: the lines after it, if any, detail it
 * (each target's outcome), and a code after the last of them would read as that target's.
 */
export const refusedWith = (error: string, code: number): string => {
  const end = error.indexOf("\n")
  return end < 0 ? `${error} (${code})` : `${error.slice(0, end)} (${code})${error.slice(end)}`
}

/**
 * A whole number of milliseconds as effect's `Duration.format` writes it (`5s`, `500ms`, `2m 30s`, `1d 1h`), for
 * the fast path, which loads no effect; test/client/wire.test.ts checks them equal.
 */
export const formatMillis = (millis: number): string => {
  if (millis === 0) return "0"
  const parts: ReadonlyArray<readonly [number, string]> = [
    [Math.floor(millis / 86_400_000), "d"],
    [Math.floor(millis / 3_600_000) % 24, "h"],
    [Math.floor(millis / 60_000) % 60, "m"],
    [Math.floor(millis / 1000) % 60, "s"],
    [millis % 1000, "ms"]
  ]
  return parts.filter(([value]) => value !== 0).map(([value, unit]) => `${value}${unit}`).join(" ")
}
