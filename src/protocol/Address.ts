/**
 * ZeroMQ endpoint addresses, checked before any socket sees them: a malformed one fails with a clear message at
 * startup instead of deep inside libzmq. An IPv6 literal goes in brackets (`tcp://[::1]:5570`), and a socket
 * needs ZeroMQ's `ipv6` option to bind or connect to one (`usesIpv6`).
 */
import { Schema } from "effect"
import * as Net from "node:net"
import { parseAddress } from "./endpoint.ts"

export { DEFAULT_ADDRESS, type Endpoint, parseAddress, usesIpv6 } from "./endpoint.ts"

const problemWith = (address: string): string => {
  const bare = /^tcp:\/\/(.*):(?:\*|\d+)$/.exec(address)?.[1]
  const hint = bare !== undefined && Net.isIPv6(bare) ? ` (an IPv6 address goes in brackets: tcp://[${bare}]:5570)` : ""
  return `expected a ZeroMQ address such as tcp://127.0.0.1:5570, ipc:///run/orchestrate.sock or inproc://name, got '${address}'${hint}`
}

export const ZmqAddress = Schema.String.check(
  Schema.makeFilter((address: string) => parseAddress(address) !== undefined || problemWith(address))
)
