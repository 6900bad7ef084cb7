/**
 * ZeroMQ endpoint addresses, checked before any socket sees them: a malformed one fails with a clear message at
 * startup instead of deep inside libzmq.
 */
import { Schema } from "effect"

export const DEFAULT_ADDRESS = "tcp://127.0.0.1:5570"

const TCP = /^tcp:\/\/(?:\*|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\*|\d{1,5})$/
const PATH = /^(?:ipc|inproc):\/\/\S+$/

const isZmqAddress = (address: string): boolean => {
  const tcp = TCP.exec(address)
  if (tcp === null) return PATH.test(address)
  const port = tcp[1]
  return port === "*" || (port !== undefined && Number(port) >= 1 && Number(port) <= 65535)
}

export const ZmqAddress = Schema.String.check(
  Schema.makeFilter((address: string) =>
    isZmqAddress(address) ||
    `expected a ZeroMQ address such as tcp://127.0.0.1:5570, ipc:///run/orchestrate.sock or inproc://name, got '${address}'`
  )
)
