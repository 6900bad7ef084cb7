/**
 * ZeroMQ endpoint addresses taken apart: `tcp://host:port` (an IPv6 literal in brackets), `ipc://path`,
 * `inproc://name`. Plain code without Schema, so that the CLI's fast path checks addresses with the same rules as
 * the `ZmqAddress` schema (Address.ts), which is built on it.
 */
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
  // node:net only for an IPv6 literal: loading it costs the CLI's one-shot fast path a millisecond or two otherwise.
  if (bracketed && !process.getBuiltinModule("node:net").isIPv6(bare)) return undefined
  if (port === "*") return { transport: "tcp", host: bare, port, ipv6: bracketed }
  const number = Number(port)
  return number >= 1 && number <= 65535 ? { transport: "tcp", host: bare, port: number, ipv6: bracketed } : undefined
}

/** Whether a socket needs ZeroMQ's `ipv6` option for this address: without it, libzmq cannot use an IPv6 literal. */
export const usesIpv6 = (address: string): boolean => {
  const endpoint = parseAddress(address)
  return endpoint?.transport === "tcp" && endpoint.ipv6
}
