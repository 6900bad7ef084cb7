/**
 * ZeroMQ endpoint addresses, checked before any socket sees them: a malformed one fails with a clear message at
 * startup instead of deep inside libzmq. An IPv6 literal goes in brackets (`tcp://[::1]:5570`), and a socket
 * needs ZeroMQ's `ipv6` option to bind or connect to one (`usesIpv6`).
 */
import { Schema } from "effect"
import * as Net from "node:net"

export const DEFAULT_ADDRESS = "tcp://127.0.0.1:5570"

/** An address taken apart. `host` is without brackets: `::1` for `tcp://[::1]:5570`. */
export type Endpoint =
  | { readonly transport: "tcp"; readonly host: string; readonly port: number | "*"; readonly ipv6: boolean }
  | { readonly transport: "ipc" | "inproc"; readonly path: string }

const TCP = /^tcp:\/\/(\*|\[[^\]]*\]|[A-Za-z0-9.-]+):(\*|\d{1,5})$/
const PATH = /^(ipc|inproc):\/\/(\S+)$/

export const parseAddress = (address: string): Endpoint | undefined => {
  const path = PATH.exec(address)
  if (path !== null) {
    const [, transport, rest] = path
    return (transport === "ipc" || transport === "inproc") && rest !== undefined ? { transport, path: rest } : undefined
  }
  const tcp = TCP.exec(address)
  const [, host, port] = tcp ?? []
  if (host === undefined || port === undefined) return undefined
  const bracketed = host.startsWith("[")
  const bare = bracketed ? host.slice(1, -1) : host
  if (bracketed && !Net.isIPv6(bare)) return undefined
  if (port === "*") return { transport: "tcp", host: bare, port, ipv6: bracketed }
  const number = Number(port)
  return number >= 1 && number <= 65535 ? { transport: "tcp", host: bare, port: number, ipv6: bracketed } : undefined
}

/** Whether a socket needs ZeroMQ's `ipv6` option for this address: without it, libzmq cannot use an IPv6 literal. */
export const usesIpv6 = (address: string): boolean => {
  const endpoint = parseAddress(address)
  return endpoint?.transport === "tcp" && endpoint.ipv6
}

const problemWith = (address: string): string => {
  const bare = /^tcp:\/\/(.*):(?:\*|\d+)$/.exec(address)?.[1]
  const hint = bare !== undefined && Net.isIPv6(bare) ? ` (an IPv6 address goes in brackets: tcp://[${bare}]:5570)` : ""
  return `expected a ZeroMQ address such as tcp://127.0.0.1:5570, ipc:///run/orchestrate.sock or inproc://name, got '${address}'${hint}`
}

export const ZmqAddress = Schema.String.check(
  Schema.makeFilter((address: string) => parseAddress(address) !== undefined || problemWith(address))
)
