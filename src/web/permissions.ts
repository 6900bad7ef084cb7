/**
 * What the caller may do, from `whoami`: the commands its role allows within the server's whitelist, and the agent
 * patterns that limit its control commands. The page offers a button only for what this allows; the server still
 * decides, so a button the page got wrong would get the server's 403, shown as it is.
 */
import { AGENT_ACTIONS, type AgentAction, type IdentityWire } from "./wire.ts"

/** A glob as the server matches agent patterns: `*` any run of characters, `?` any one, the rest literally. */
const globOf = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "s")

export class Permissions {
  private readonly allowed: ReadonlySet<string>
  private readonly patterns: ReadonlyArray<RegExp> | undefined

  constructor(identity: IdentityWire) {
    this.allowed = new Set(identity.allowed)
    this.patterns = identity.agents === null ? undefined : identity.agents.map(globOf)
  }

  may(command: string): boolean {
    return this.allowed.has(command)
  }

  /** Whether the caller may run `action` on `agent`: the command, and the agent within its patterns. */
  mayAct(action: AgentAction, agent: string): boolean {
    return this.may(action) && (this.patterns === undefined || this.patterns.some((pattern) => pattern.test(agent)))
  }

  /** The agent actions the caller may run at all. */
  get agentActions(): ReadonlyArray<AgentAction> {
    return AGENT_ACTIONS.filter((action) => this.may(action))
  }

  /** Reload and shutdown act on every agent, which a caller limited to some agents may not. */
  get mayReload(): boolean {
    return this.may("reload") && this.patterns === undefined
  }

  get mayShutdown(): boolean {
    return this.may("shutdown") && this.patterns === undefined
  }

  /** Whether the page needs its controls bar (the reason field, reload, shutdown) at all. */
  get controls(): boolean {
    return this.agentActions.length > 0 || this.mayReload || this.mayShutdown
  }
}
