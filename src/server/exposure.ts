/**
 * Who can reach the interface's address. A loopback TCP address or an `ipc://` socket file (created 0600, or
 * 0660 for a configured group) is reachable from this machine alone; any other TCP address is reachable from
 * the network, which without CURVE means anyone there could run commands.
 */
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import { parseAddress } from "../protocol/Address.ts"
import type { CommandInterfaceSettings } from "./CommandInterfaceConfig.ts"
import { BindError, NetworkExposed, UnknownGroup } from "./Socket.ts"
import { describeAllowed } from "./Whitelist.ts"

/**
 * 127.0.0.0/8 and ::1. A BlockList compares addresses rather than spellings, so `0:0:0:0:0:0:0:1` and
 * `::ffff:127.0.0.1` are loopback too, and a host name is not an address at all.
 */
const LOOPBACK = new Net.BlockList()
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4")
LOOPBACK.addAddress("::1", "ipv6")

/** Whether the address can be reached from this machine alone: loopback (IPv4 or IPv6), ipc or inproc. */
export const isLocalAddress = (address: string): boolean => {
  const endpoint = parseAddress(address)
  if (endpoint === undefined) return false
  if (endpoint.transport !== "tcp") return true
  const host = endpoint.host.toLowerCase()
  if (host === "localhost" || host === "lo") return true
  return LOOPBACK.check(host, endpoint.ipv6 ? "ipv6" : "ipv4")
}

/**
 * Refuses a network-reachable address without CURVE unless the config accepts the risk, and warns on every
 * start when it does.
 */
export const checkExposure = (settings: CommandInterfaceSettings): Effect.Effect<void, BindError> => {
  const address = settings.commandAddress
  if (isLocalAddress(address) || settings.curve !== undefined) return Effect.void
  if (settings.allowInsecureNetwork) {
    return Effect.logWarning(
      `the command interface on ${address} is reachable from the network without CURVE: anyone who can connect ` +
        `may run the allowed commands (${describeAllowed(settings.allowedCommands)}) ` +
        "(allowInsecureNetwork is set)"
    )
  }
  return Effect.fail(new BindError({ address, reason: new NetworkExposed({}) }))
}

/** The group id for `ipcGroup`: a number, or a name looked up in /etc/group. */
export const resolveGroup = (group: string | number, address: string): Effect.Effect<number, BindError> =>
  Effect.suspend(() => {
    if (typeof group === "number") return Effect.succeed(group)
    if (/^\d+$/.test(group)) return Effect.succeed(Number(group))
    let text = ""
    try {
      text = Fs.readFileSync("/etc/group", "utf8")
    } catch {
      // Reported below as an unknown group.
    }
    const line = text.split("\n").find((entry) => entry.split(":")[0] === group)
    const gid = Number(line?.split(":")[2])
    return line !== undefined && Number.isInteger(gid)
      ? Effect.succeed(gid)
      : Effect.fail(new BindError({ address, reason: new UnknownGroup({ group }) }))
  })
