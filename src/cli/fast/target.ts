/**
 * Which orchestrator the fast path talks to, and with which keys, by the rules of contexts/ContextTarget.ts: the
 * flags (and their variables) over the context in use, field by field; the contexts file is not read for an
 * address given without a context. Whatever the full CLI would refuse (an unknown context, one key flag without
 * the other, a contexts file that is not quite right) is `undefined`: the full CLI then runs and says so. The key
 * files themselves are read by credentials.ts, loaded only when there are keys.
 */
import { DEFAULT_ADDRESS } from "../../protocol/endpoint.ts"
import type { SharedFlags } from "./argv.ts"
import { contextsFile, readContexts } from "./contexts.ts"

export interface Target {
  readonly address: string
  /** For an orchestrator that uses CURVE: its public key (or a file holding it) and this client's key pair file. */
  readonly keys: { readonly serverKey: string; readonly clientKey: string } | undefined
}

type Environment = Readonly<Record<string, string | undefined>>

export const targetOf = (flags: SharedFlags, env: Environment): Target | undefined => {
  let { address, serverKey, clientKey } = flags
  if (flags.context !== undefined || address === undefined) {
    const contexts = readContexts(contextsFile(env))
    if (contexts === undefined) return undefined
    const name = flags.context ?? contexts.current
    if (name !== undefined) {
      const saved = contexts.contexts.get(name)
      if (saved === undefined) return undefined
      address ??= saved.address
      serverKey ??= saved.serverKey
      clientKey ??= saved.clientKey
    }
  }
  if (serverKey === undefined && clientKey === undefined) return { address: address ?? DEFAULT_ADDRESS, keys: undefined }
  if (serverKey === undefined || clientKey === undefined) return undefined
  return { address: address ?? DEFAULT_ADDRESS, keys: { serverKey, clientKey } }
}
