/**
 * Who may call a CURVE-secured interface, and what each caller may do. A principal is a named public key with a
 * role (a preset or a list of commands), optionally limited to agents whose names match glob patterns. What a
 * caller may run is its role intersected with the server's whitelist: the whitelist is the ceiling for everyone.
 */
import { Glob, Schema } from "effect"
import type { CommandName } from "../protocol/Commands.ts"
import { CurveKey, fingerprint } from "../security/keys.ts"
import { AllowedCommands, resolveAllowed, type Whitelist } from "./Whitelist.ts"

/**
 * Most `*` in one pattern. The regular expressions patterns used to compile to backtracked: against a 64-character
 * name that did not match, 3 took 0.4 ms, 4 took 6 ms and 8 took 42 s, the event loop stalled meanwhile. effect's
 * Glob, which matches them now, backtracks only to the last `*` (8 took 1.8 µs here); the limit stays, so that a
 * config that was valid stays valid and one that was refused stays refused.
 */
const MAX_PATTERN_STARS = 3
/** Longest pattern: an agent name has at most 64 characters, so this leaves room for every `*` and more. */
const MAX_PATTERN_LENGTH = 128
/** Most patterns per principal: every command that targets an agent tries them all. */
const MAX_PATTERNS = 64
/** Most principals: each costs a key derivation at startup, and the uniqueness check below is quadratic. */
const MAX_PRINCIPALS = 1000

const countOf = (noun: string, minimum: number, maximum: number) =>
  Schema.makeFilter((items: ReadonlyArray<unknown>) =>
    (items.length >= minimum && items.length <= maximum) ||
    `expected ${minimum} to ${maximum} ${noun}, got ${items.length}`
  )

/** An agent name pattern: `*` matches any run of characters, `?` any one. */
export const AgentPattern = Schema.String.check(
  Schema.makeFilter((pattern: string) =>
    (pattern.length >= 1 && pattern.length <= MAX_PATTERN_LENGTH && pattern.split("*").length - 1 <= MAX_PATTERN_STARS) ||
    `expected a pattern of 1 to ${MAX_PATTERN_LENGTH} characters with at most ${MAX_PATTERN_STARS} '*', got ${JSON.stringify(pattern)}`
  )
)

export const PrincipalSettings = Schema.Struct({
  name: Schema.String.check(
    Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, {
      message: "expected a name of 1-64 letters, digits, '.', '_', '@' or '-'"
    })
  ),
  publicKey: CurveKey,
  role: AllowedCommands,
  agents: Schema.optionalKey(Schema.Array(AgentPattern).check(countOf("patterns", 1, MAX_PATTERNS)))
})
export type PrincipalSettings = typeof PrincipalSettings.Type

/** The first value that appears a second time, for a uniqueness check (HTTP tokens have one too). */
export const firstDuplicate = (values: ReadonlyArray<string>): string | undefined =>
  values.find((value, index) => values.indexOf(value) !== index)

const Principals = Schema.Array(PrincipalSettings).check(
  countOf("principals", 1, MAX_PRINCIPALS),
  Schema.makeFilter((principals: ReadonlyArray<PrincipalSettings>) => {
    const name = firstDuplicate(principals.map((principal) => principal.name))
    if (name !== undefined) return `principal names must be unique: '${name}' appears twice`
    const key = firstDuplicate(principals.map((principal) => principal.publicKey))
    return key === undefined || `principal keys must be unique: key ${fingerprint(key)} appears twice`
  })
)

/** `commandInterface.curve`: the server's key pair file and the principals allowed to connect. */
export const CurveSettings = Schema.Struct({
  /** A key pair file as `orchestrate keygen` writes it, readable by its owner only. */
  keyFile: Schema.String.check(Schema.isNonEmpty()),
  principals: Principals
})
export type CurveSettings = typeof CurveSettings.Type

/**
 * An agent name pattern as a Glob. Only `*` and `?` are wildcards here, so Glob's other syntax (`[...]`, `{a,b}`,
 * `\`) is escaped, and `/` too: agent names have none, and a pattern is matched against a whole name, never split
 * into path segments. `dot`, because a name starting with `.` is matched like any other.
 */
const agentGlob = (pattern: string): Glob.Glob => Glob.make(pattern.replace(/[\\[\]{}/]/g, "\\$&"), { dot: true })

/** Compiles agent patterns to one test: whether any of them matches the whole name. */
export const agentMatcher = (patterns: ReadonlyArray<string>): (agent: string) => boolean => {
  const globs = patterns.map(agentGlob)
  return (agent) => globs.some((glob) => Glob.match(glob, agent))
}

/** The one making a request, and what it may do. */
export interface Caller {
  /** The principal's name (a CURVE principal's, an HTTP token's); null when the transport does not authenticate callers. */
  readonly principal: string | null
  readonly keyFingerprint: string | null
  /** The commands it may run: its role within the whitelist, in catalogue order. */
  readonly allowed: ReadonlyArray<CommandName>
  /** The agents it may act on, as patterns; null for any agent. */
  readonly agents: ReadonlyArray<string> | null
  readonly mayRun: (command: CommandName) => boolean
  readonly mayTarget: (agent: string) => boolean
}

/**
 * What a caller is granted, whatever proves who it is: a name, a role and, optionally, agent patterns. A CURVE
 * principal is one, proved by its key; an HTTP token (`http/HttpAuthentication.ts`) another, proved by its bearer token.
 */
export interface Grant {
  readonly name: string
  readonly role: AllowedCommands
  readonly agents?: ReadonlyArray<string>
}

/** A caller with the whitelist's permissions, optionally narrowed to a principal's role and agents. */
export const makeCaller = (whitelist: Whitelist["Service"], principal?: PrincipalSettings): Caller =>
  grantedCaller(whitelist, principal, principal === undefined ? null : fingerprint(principal.publicKey))

/** A caller with the whitelist's permissions, narrowed to a grant's role and agents when there is one. */
export const grantedCaller = (whitelist: Whitelist["Service"], grant: Grant | undefined, keyFingerprint: string | null): Caller => {
  const allowed = grant === undefined
    ? whitelist.allowed
    : resolveAllowed(grant.role).filter((command) => whitelist.isAllowed(command))
  const set = new Set(allowed)
  const agents = grant?.agents ?? null
  const mayTarget = agents === null ? () => true : agentMatcher(agents)
  return {
    principal: grant?.name ?? null,
    keyFingerprint,
    allowed,
    agents,
    mayRun: (command) => set.has(command),
    mayTarget
  }
}
