/**
 * The HTTP interface's address, `HOST:PORT`: checked before anything listens, so that a malformed one fails with a
 * clear message at startup (or as `up --http`'s value). Apart from the settings so that the CLI can check the flag
 * without loading the server.
 */
import { Schema } from "effect"
import * as Net from "node:net"

export const DEFAULT_HTTP_ADDRESS = "127.0.0.1:5580"

/** An address taken apart: `host` without brackets (`::1` for `[::1]:5580`); port 0 picks a free one. */
export interface HttpEndpoint {
  readonly host: string
  readonly port: number
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/

export const parseHttpAddress = (address: string): HttpEndpoint | undefined => {
  const [, host, port] = HOST_PORT.exec(address) ?? []
  if (host === undefined || port === undefined || Number(port) > 65535) return undefined
  const bracketed = host.startsWith("[")
  const bare = bracketed ? host.slice(1, -1) : host
  return bracketed && !Net.isIPv6(bare) ? undefined : { host: bare, port: Number(port) }
}

/** `host:port`, as a URL's authority: an IPv6 host in brackets. */
export const formatAuthority = ({ host, port }: HttpEndpoint): string => `${host.includes(":") ? `[${host}]` : host}:${port}`

export const HttpAddress = Schema.String.check(
  Schema.makeFilter((address: string) =>
    parseHttpAddress(address) !== undefined ||
    `expected HOST:PORT such as 127.0.0.1:5580, [::1]:5580 or 0.0.0.0:5580 (port 0 picks a free one), got ${JSON.stringify(address)}`
  )
)
