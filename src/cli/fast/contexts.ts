/**
 * The contexts file as the fast path reads it: where it is, as ContextsFile.ts says, and its contexts, taken only
 * when the file is exactly what `orchestrate context` writes (every rule of ContextsFile.ts's schema, by the same
 * predicates). Anything else, a file that cannot be read included, is `undefined`: the full CLI reads it and says
 * what is wrong.
 */
import { parseAddress } from "../../protocol/endpoint.ts"
import { isAbsolutePath, isContextName, isServerKey, MAX_CONTEXTS_FILE_BYTES } from "../contexts/contextRules.ts"
import { Fs, homedir, Path } from "./builtins.ts"
import { isRecord } from "./decoders.ts"

type Environment = Readonly<Record<string, string | undefined>>

export interface Context {
  readonly address: string
  readonly serverKey: string | undefined
  readonly clientKey: string | undefined
}

export interface Contexts {
  readonly current: string | undefined
  readonly contexts: ReadonlyMap<string, Context>
}

/** As `contextsPath`: an empty variable counts as unset, as effect's environment provider has it. */
export const contextsFile = (env: Environment): string => {
  const configHome = env["XDG_CONFIG_HOME"]
  const home = env["HOME"]
  const base = configHome !== undefined && configHome.length > 0 && Path.isAbsolute(configHome)
    ? configHome
    : Path.join(home !== undefined && home.length > 0 ? home : homedir(), ".config")
  return Path.join(base, "orchestrate", "contexts.json")
}

const onlyKeys = (record: Readonly<Record<string, unknown>>, keys: ReadonlyArray<string>): boolean =>
  Object.keys(record).every((key) => keys.includes(key))

const optionalString = (value: unknown): value is string | undefined => value === undefined || typeof value === "string"

const contextOf = (value: unknown): Context | undefined => {
  if (!isRecord(value) || !onlyKeys(value, ["address", "serverKey", "clientKey"])) return undefined
  const { address, serverKey, clientKey } = value
  if (typeof address !== "string" || parseAddress(address) === undefined) return undefined
  if (!optionalString(serverKey) || !optionalString(clientKey)) return undefined
  if ((serverKey === undefined) !== (clientKey === undefined)) return undefined
  if (serverKey !== undefined && !isServerKey(serverKey)) return undefined
  if (clientKey !== undefined && !isAbsolutePath(clientKey)) return undefined
  return { address, serverKey, clientKey }
}

const documentOf = (json: unknown): Contexts | undefined => {
  if (!isRecord(json) || !onlyKeys(json, ["current", "contexts"]) || !isRecord(json["contexts"])) return undefined
  const contexts = new Map<string, Context>()
  for (const [name, value] of Object.entries(json["contexts"])) {
    const context = contextOf(value)
    if (!isContextName(name) || context === undefined) return undefined
    contexts.set(name, context)
  }
  const current = json["current"]
  if (current !== undefined && (typeof current !== "string" || !isContextName(current) || !contexts.has(current))) return undefined
  return { current, contexts }
}

/** The contexts a file's text holds, if it is exactly what `orchestrate context` writes (ContextsFile.ts's `parseContexts`). */
export const contextsOf = (text: string): Contexts | undefined => {
  try {
    return documentOf(JSON.parse(text))
  } catch {
    return undefined
  }
}

const NO_CONTEXTS: Contexts = { current: undefined, contexts: new Map() }

/** The contexts in `file`, none when there is no file; undefined when the full CLI should read it. */
export const readContexts = (file: string): Contexts | undefined => {
  try {
    const info = Fs.statSync(file, { throwIfNoEntry: false })
    if (info === undefined) return NO_CONTEXTS
    if (!info.isFile() || info.size > MAX_CONTEXTS_FILE_BYTES) return undefined
    return contextsOf(Fs.readFileSync(file, "utf8"))
  } catch {
    return undefined
  }
}
