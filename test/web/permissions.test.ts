/**
 * What the dashboard offers a caller (src/web/permissions.ts) agrees with what the server allows it: agent
 * patterns matched exactly as the server's `agentMatcher` matches them, reload and shutdown withheld from a caller
 * limited to some agents, as the server refuses them.
 */
import { describe, expect, it } from "@effect/vitest"
import { agentMatcher } from "../../src/server/Principals.ts"
import { Permissions } from "../../src/web/permissions.ts"

const identity = (allowed: ReadonlyArray<string>, agents: ReadonlyArray<string> | null) =>
  ({ principal: "p", key_fingerprint: null, allowed, agents })

describe("the dashboard's permissions", () => {
  it("matches agent patterns as the server does", () => {
    const patterns = ["web-*", "?pi", "a.b", "[x]", "{a,b}", "*", "c\\d", "e/f", "", "g*h?"]
    // Names as agents may have them: letters, digits, '.', '_' and '-' (OrchestratorConfig's AgentName).
    const names = ["web-1", "web-", "api", "xpi", "pi", "a.b", "axb", "x", "a", "b", "gxxhy", "gh", "ghx", "a_b", "A-1", "1"]
    for (const pattern of patterns) {
      const server = agentMatcher([pattern])
      const page = new Permissions(identity(["stop"], [pattern]))
      for (const name of names) expect(page.mayAct("stop", name), `${pattern} on ${name}`).toBe(server(name))
    }
  })

  it("offers only the allowed commands, and no reload or shutdown to a caller limited to some agents", () => {
    const monitoring = new Permissions(identity(["ps", "status", "history", "logs", "whoami"], null))
    expect([monitoring.agentActions, monitoring.mayReload, monitoring.mayShutdown, monitoring.controls]).toEqual([[], false, false, false])
    const deployer = new Permissions(identity(["restart", "stop", "reload", "shutdown"], ["web-*"]))
    expect(deployer.agentActions).toEqual(["stop", "restart"])
    expect([deployer.mayAct("restart", "web-2"), deployer.mayAct("restart", "db"), deployer.mayAct("start", "web-2")]).toEqual([true, false, false])
    expect([deployer.mayReload, deployer.mayShutdown, deployer.controls]).toEqual([false, false, true])
    const ops = new Permissions(identity(["start", "stop", "restart", "pause", "resume", "reload", "shutdown"], null))
    expect([ops.agentActions.length, ops.mayReload, ops.mayShutdown]).toEqual([5, true, true])
  })
})
